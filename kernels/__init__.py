"""Numba kernels of eip: arrays in, arrays out; installed as ``eip.kernels``.

Shared vocabulary (see ``eip.costmodel``): N stages, O options, Q = 2 + D usage dimensions
(latency ms, energy mJ, memory MB per device).

    step_use  (N, O, Q)     usage of running stage s on option o; inf latency = cannot run
    trans_use (N, O, O, 2)  latency/energy of the transfer into stage s from option a to b
    switch    (O, O)        1.0 where the two options are on different devices
    caps      (Q,)          cap per usage dimension (tolerance applied), inf = none
    coef      (3,)          score = coef . (latency, energy, switches)

A label/plan row is ``[score, switches, usage_0 .. usage_{Q-1}]`` (2 + Q floats).
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
