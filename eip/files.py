"""Output files: written whole and atomically, as a shell redirect would leave them.

A reader never sees half a file (the body goes to a temporary file beside the target, then
is renamed over it); a new file gets the mode ``umask`` gives (an existing file keeps its
own); a symlink is written through to its target.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(output: str | os.PathLike[str], body: bytes) -> None:
    """Write ``body`` to ``output`` (its directory made when missing). Raises OSError."""
    path = Path(os.path.realpath(output))
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=".eip-", suffix=".tmp", dir=path.parent)  # short: any legal name fits
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
