"""The k-skyband kernel and its dominance index against plain scans written from the definition.

A kept label d dominates candidate c when d uses no more than c of every dimension; a
candidate with k such kept labels before it in ranking order is dropped.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eip.kernels.skyband import (INDEX_MIN_CANDIDATES, _build, _kept_candidates, _live_dimensions, index_buffers,
                                 skyband)


def dominator_count(free: np.ndarray, kept: list[int], c: int) -> int:
    """How many of the labels ``kept`` use no more than candidate ``c`` of every dimension."""
    if not kept:
        return 0
    return int(np.all(free[kept] <= free[c], axis=1).sum())


def exact_skyband(free: np.ndarray, order: np.ndarray, k: int) -> list[int]:
    """The candidates, in ``order``, that fewer than k earlier kept candidates dominate."""
    kept: list[int] = []
    for c in order:
        if dominator_count(free, kept, int(c)) < k:
            kept.append(int(c))
    return kept


@st.composite
def buckets(draw, max_candidates=200):
    """(free (C, Q), order (C,), k): usages on a coarse grid, so that ties and zero
    (free) dimensions are common."""
    n = draw(st.integers(1, max_candidates))
    q = draw(st.integers(1, 5))
    levels = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    free = rng.integers(0, levels, size=(n, q)).astype(float) * draw(st.sampled_from([0.5, 1.0, 37.25]))
    if draw(st.booleans()):
        free[:, rng.integers(0, q)] = 0.0  # a dimension no candidate uses
    return free, rng.permutation(n).astype(np.int64), draw(st.sampled_from([1, 2, 3, 5]))


@settings(max_examples=300, deadline=None)
@given(buckets())
def test_the_index_keeps_exactly_the_skyband(bucket):
    """Through the index every candidate is checked fully (however small the bucket)."""
    free, order, k = bucket
    n = free.shape[0]
    live = _live_dimensions(free, n)
    if live.shape[0] == 0:
        return
    buffers = index_buffers(n, free.shape[1])
    _build(free, n, live, buffers)
    kept = np.empty(n, dtype=np.int64)
    work = np.zeros(1, dtype=np.int64)
    nk = _kept_candidates(order, free, n, k, kept, live, True, buffers, work, np.iinfo(np.int64).max, np.inf)
    assert list(kept[:nk]) == exact_skyband(free, order, k)


@settings(max_examples=300, deadline=None)
@given(buckets(max_candidates=400))
def test_a_small_bucket_drops_only_dominated_candidates(bucket):
    """Scans may skip checks (a window), which only keeps extra labels: every candidate
    dropped has k kept dominators ranked before it, and the exact skyband is kept."""
    free, order, k = bucket
    n = free.shape[0]
    kept = np.empty(n, dtype=np.int64)
    nk = skyband(order, free, n, k, kept, index_buffers(n, free.shape[1]), np.zeros(1, dtype=np.int64),
                 np.iinfo(np.int64).max, np.inf)
    kept_list = [int(c) for c in kept[:nk]]
    position = {int(c): i for i, c in enumerate(order)}
    assert [position[c] for c in kept_list] == sorted(position[c] for c in kept_list)
    kept_set = set(kept_list)
    for c in order:
        if int(c) not in kept_set:
            before = [d for d in kept_list if position[d] < position[int(c)]]
            assert dominator_count(free, before, int(c)) >= k
    assert set(exact_skyband(free, order, k)) <= kept_set


def test_a_bucket_large_enough_for_the_index_keeps_exactly_the_skyband():
    rng = np.random.default_rng(7)
    n = INDEX_MIN_CANDIDATES + 1000
    # trade-offs along a front with noise, plus exact duplicates and a zero dimension
    base = rng.random((n, 1))
    free = np.hstack([base, 1.0 - base + rng.normal(0, 0.05, (n, 1)), rng.integers(0, 30, (n, 1)),
                      np.zeros((n, 1))])
    free[n // 2:] = free[: n - n // 2]
    free = np.round(np.abs(free), 2)
    order = rng.permutation(n).astype(np.int64)
    for k in (1, 3):
        kept = np.empty(n, dtype=np.int64)
        work = np.zeros(1, dtype=np.int64)
        nk = skyband(order, free, n, k, kept, index_buffers(n, free.shape[1]), work, np.iinfo(np.int64).max, np.inf)
        assert list(kept[:nk]) == exact_skyband(free, order, k)
        # the index checked far fewer pairs than scans over every kept label would
        assert work[0] < n * nk // 4


def test_the_comparison_budget_stops_a_bucket():
    rng = np.random.default_rng(3)
    n = INDEX_MIN_CANDIDATES
    base = rng.random(n)
    free = np.column_stack([base, 1.0 - base, rng.random(n)])
    kept = np.empty(n, dtype=np.int64)
    nk = skyband(np.arange(n, dtype=np.int64), free, n, 1, kept, index_buffers(n, 3), np.zeros(1, dtype=np.int64),
                 1000, np.inf)
    assert nk == -1
