"""Numba's on-disk cache of the compiled kernels: a ``NUMBA_CACHE_DIR`` that cannot be
used must not end a run.

Numba reads ``NUMBA_CACHE_DIR`` once, at import. When it names a place that cannot be
created or written (a path under a file, a read-only mount, no permission), Numba may fail
every planning call with a long traceback where no other cache place is writable either.
``eip`` runs the check when it is imported, before anything imports Numba.
"""

from __future__ import annotations

import os
import sys
import tempfile

from .errors import printable


def check_cache_dir() -> None:
    """When ``NUMBA_CACHE_DIR`` is set but unusable, say so in one line on stderr and unset
    it: Numba then caches where it would without it (beside the kernels' sources, or the
    user's cache directory)."""
    path = os.environ.get("NUMBA_CACHE_DIR")
    if not path or "numba" in sys.modules:  # not set, or too late to matter
        return
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        del os.environ["NUMBA_CACHE_DIR"]
        print(f"eip: warning: NUMBA_CACHE_DIR {printable(path)} cannot be used ({exc.strerror or exc}); "
              f"the compiled kernels are cached in Numba's default place instead", file=sys.stderr)
