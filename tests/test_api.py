"""The public plugin API: dat.core.api exports what a plugin author needs, and the
built-in plugins, the scaffold and docs/plugins.md import only from it."""

from __future__ import annotations

import re
from pathlib import Path

import dat.core.api as api

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_is_there():
    assert len(api.__all__) == len(set(api.__all__))
    for name in api.__all__:
        assert hasattr(api, name), name
    for needed in ("hookimpl", "DataPlugin", "parse_period", "check_plugin", "IndicatorSpec", "DatError"):
        assert needed in api.__all__


def test_old_import_paths_keep_working():
    from dat.core import hookimpl
    from dat.core.datafile import DataPlugin
    from dat.core.periods import parse_period
    from dat.core.specs import SPEC_KINDS, IndicatorSpec
    from dat.core.testing import check_plugin

    assert (hookimpl, DataPlugin, parse_period, IndicatorSpec, check_plugin) == (
        api.hookimpl, api.DataPlugin, api.parse_period, api.IndicatorSpec, api.check_plugin)
    assert SPEC_KINDS["indicator"] is IndicatorSpec


def _dat_imports(text: str) -> set[str]:
    return set(re.findall(r"^\s*(?:from|import) (dat\.[\w.]+)", text, flags=re.M))


def test_built_in_plugins_scaffold_and_docs_import_only_the_api():
    files = [*ROOT.glob("partnerships/*/__init__.py"), ROOT / "plugins/national/__init__.py",
             ROOT / "plugins/renderers.py", ROOT / "docs/plugins.md"]
    for path in files:
        assert _dat_imports(path.read_text()) <= {"dat.core.api"}, path
    from dat.cli.commands.scaffold import _files

    generated = _files("Sefton", "sefton", "North West", "0.1")
    python = [text for rel, text in generated.items() if rel.endswith(".py")]
    assert len(python) >= 2
    for text in python:
        assert _dat_imports(text) <= {"dat.core.api"}, text
