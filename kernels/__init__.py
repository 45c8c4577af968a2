"""Numba kernels of eip: arrays in, arrays out; installed as ``eip.kernels``.

``contract`` owns the boundary: the layered graph every problem is lowered to (N steps,
T options with usage over Q dimensions, A arcs between consecutive steps, in CSR form),
the plan-row slots, the statuses, the ranking rule and the one ``solve`` call. The other
modules are the jitted kernels behind it:

    viterbi   k best paths with no caps (the fast path)
    bounds    completion bounds: least/most usage, Lagrangian prices, per-dimension tables
    labels    the exact k-skyband label search and the beam
    frontier  trade-off sets (every path undominated on the key dimensions)
    usage     the usage of whole placements (the copy-once rule) and of one's single moves,
              for local search and peers
    solve     the pipeline of one solve in one dispatch
    paths     helpers over paths (plan rows, caps, ranking, the clock)
"""

import hashlib
from pathlib import Path


def _drop_stale_cache() -> None:
    """Discard this package's in-tree Numba cache when any kernel source has changed.

    Numba revalidates a cached function against its own file only, but ``solve_topk``
    inlines kernels from the other modules: after an edit of ``labels.py`` alone it would
    run stale machine code. A digest of all kernel sources, kept beside the cache, makes
    an edit anywhere invalidate everything. (Read-only installs never change in place and
    use Numba's user-wide cache, which this leaves alone.)
    """
    here = Path(__file__).resolve().parent
    cache = here / "__pycache__"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(here.glob("*.py")))).hexdigest()
    stamp = cache / "eip-kernels.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for stale in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            stale.unlink(missing_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass  # read-only tree: Numba falls back to its user-wide cache


_drop_stale_cache()
