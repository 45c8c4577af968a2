"""The one error type a user sees for bad input."""

from __future__ import annotations


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
        super().__init__(where + message)
