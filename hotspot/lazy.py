"""Lazy package APIs (PEP 562): a package lists its public names, loaded on first use.

A package's ``__init__`` declares which module holds each public name; importing
the package stays cheap (``hotspot --help`` must not load pandas), and a name is
imported from its module the first time it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_api(package: str, api: Mapping[str, str]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``__getattr__``, ``__dir__`` and ``__all__`` for a package.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (for error messages).
    api : mapping of str to str
        Public name → the module (relative to ``package``) that defines it.
    """

    def getattr_(name: str) -> Any:
        module = api.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def dir_() -> list[str]:
        return sorted(api)

    return getattr_, dir_, sorted(api)
