"""Project exceptions.

Each subclasses a built-in so callers may catch either the project class or the
built-in one (``except ValueError`` still works).
"""

from __future__ import annotations


class HotspotError(Exception):
    """Base class of every project exception."""


class InputFileError(HotspotError, ValueError):
    """A whole input file cannot be used (unreadable, empty, columns missing).

    The message names the file and what is wrong with it.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class MappingError(HotspotError, ValueError):
    """A column-mapping file is malformed or does not fit the extract."""


class CRSError(HotspotError, ValueError):
    """Data arrived in a coordinate reference system the step cannot use."""


class DefinitionError(HotspotError, ValueError):
    """The serious-violence definition or a lookup table is malformed."""


class ParameterError(HotspotError, ValueError):
    """An analysis parameter is outside its allowed range."""


class DataNotFoundError(HotspotError, FileNotFoundError):
    """An embedded data file or a store is missing."""
