"""The one error type a user sees for bad input."""

from __future__ import annotations

import numpy as np

#: every number given to eip (costs, sizes, budgets, scales, rates, weights) is 0 or within
#: this range: smaller ones underflow the steps and scores derived from them, larger ones
#: overflow their sums (a latency of 1e308 ms made the score NaN)
MIN_VALUE, MAX_VALUE = 1e-9, 1e12
#: how the range reads in an error message
VALUE_RANGE = "0 or from 1e-9 to 1e12"


#: the longest name (of a stage, device, variant, mode or pipeline): names repeat in every
#: report row, so a long one would make reports grow with its square
MAX_NAME_CHARS = 256


def printable(text: str) -> str:
    """``text`` on one line with no control characters, each shown as its escape: a name
    holding a newline or an ANSI sequence cannot break a message or drive a terminal."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def out_of_range(values) -> np.ndarray:
    """Where finite nonzero ``values`` fall outside eip's range (``MIN_VALUE``,
    ``MAX_VALUE``); 0, inf and NaN are for the caller's own rules."""
    values = np.abs(np.asarray(values, dtype=np.float64))
    return np.isfinite(values) & (values != 0) & ((values < MIN_VALUE) | (values > MAX_VALUE))


class ScenarioError(ValueError):
    """A scenario (file, dict or cost arrays) that cannot be planned as given.

    The message is one line: ``<source>: <json path>: <what was expected>, got <value>``.
    ``source`` is the file name, or ``<dict>`` / ``<arrays>`` when there is no file.
    """

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.detail = message
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(printable(where + message))
