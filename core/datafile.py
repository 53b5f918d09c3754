"""Data plugins: a partnership's figures in TOML files shipped as package data.

A partnership package needs no code beyond::

    from dat.core.api import DataPlugin

    plugin = DataPlugin(__name__, "data/dudley.toml")

and an entry point ``dudley = "my_package:plugin"``. The TOML file has one array of tables
per kind, named like the hooks: ``partnerships``, ``indicators``, ``funding_streams``,
``allocations``, ``targets``, ``observations``, ``actions``, ``templates`` (every kind of
:data:`dat.core.kinds.KINDS` with a ``section``). Each table holds the fields of the matching
spec in :mod:`dat.core.specs`. A ``[defaults]`` table supplies
fields an item leaves out (``partnership``, ``source``; ``period`` for observations and
targets), and ``[defaults.<kind>]`` supplies defaults for one kind only.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from typing import Any

from dat.core import hookimpl
from dat.core.errors import DataError
from dat.core.kinds import SECTIONS, Kind

#: the TOML sections a data file may hold -> the spec kind ("indicators" -> "indicator")
KINDS = {section: kind.spec.kind for section, kind in SECTIONS.items()}


class DataFileError(DataError, ValueError):
    """A data file that cannot be read; the message names the file and the place."""


def read_bundle(package: str, *paths: str) -> dict[str, list[dict[str, Any]]]:
    """Read TOML data files from a package into ``{kind: [item, ...]}`` with defaults
    applied and the fields a spec does not have left out of the defaults."""
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for path in paths:
        resource = resources.files(package).joinpath(path)
        label = f"{package}/{path}"
        try:
            raw = resource.read_bytes()
        except OSError as exc:
            raise DataFileError(f"{label}: cannot read ({exc.strerror or exc})") from None
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{label}: not UTF-8 (byte {exc.start})") from None
        except tomllib.TOMLDecodeError as exc:
            raise DataFileError(f"{label}: {exc}") from None
        defaults = doc.pop("defaults", {})
        shared = {k: v for k, v in defaults.items() if not isinstance(v, dict)}
        unknown = sorted(set(doc) - set(KINDS))
        if unknown:
            raise DataFileError(f"{label}: unknown section [{unknown[0]}] "
                                f"(sections: {', '.join(KINDS)}, defaults)")
        for kind, items in doc.items():
            if not isinstance(items, list):
                raise DataFileError(f"{label}: [{kind}] must be an array of tables ([[{kind}]])")
            cls = SECTIONS[kind].spec
            fields = set(cls.__dataclass_fields__)
            kind_defaults = {**shared, **defaults.get(kind, {})}
            for n, item in enumerate(items, 1):
                merged = {k: v for k, v in kind_defaults.items() if k in fields}
                merged.update(item)
                merged["_where"] = f"{label} [[{kind}]] #{n}"
                out[kind].append(merged)
    return out


def _register_all(items: list[dict[str, Any]], register: Callable[..., None]) -> None:
    # ``_where`` (file, section, item number) is used by the host in problem messages
    for item in items:
        register(**item)


class DataPlugin:
    """A plugin whose contributions come from TOML data files in its package."""

    def __init__(self, package: str, *paths: str) -> None:
        self.package = package
        self.paths = paths
        self._bundle: dict[str, list[dict[str, Any]]] | None = None
        self.__name__ = package  # pluggy and `dat plugins` show it

    # A method, not a property: pluggy reads every attribute of a plugin when registering it,
    # and a property would parse every data file on every command, even `dat --help`.
    def bundle(self) -> dict[str, list[dict[str, Any]]]:
        """The data files, read and parsed on first use."""
        if self._bundle is None:
            self._bundle = read_bundle(self.package, *self.paths)
            for item in self._bundle["templates"]:
                item.setdefault("package", self.package)
        return self._bundle

    def _register(self, kind: str, register: Callable[..., None]) -> None:
        _register_all(self.bundle()[kind], register)


def _data_hook(kind: Kind) -> Callable[..., None]:
    """The hook implementation of ``kind`` for :class:`DataPlugin`: register the items of
    the kind's TOML section."""
    section = kind.section
    assert section is not None

    def impl(self: DataPlugin, register: Callable[..., None]) -> None:
        self._register(section, register)

    impl.__name__ = impl.__qualname__ = kind.hook
    impl.__doc__ = f"Register the ``[[{section}]]`` items of the data files."
    return hookimpl(impl)


for _kind in SECTIONS.values():  # one hook implementation per section, from the kinds table
    setattr(DataPlugin, _kind.hook, _data_hook(_kind))
del _kind
