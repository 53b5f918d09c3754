"""Packaging: every package folder is listed in pyproject, and the wheel holds the package
data (TOML data files, templates, migrations)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"core": "dat.core", "cli": "dat.cli", "plugins": "dat.plugins",
           "partnerships": "dat.partnerships"}


def test_every_package_folder_is_listed():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(conf["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in MAPPING.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *rel.parts]))
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {found - listed}"
    assert listed - found == set()


def test_entry_points_name_partnership_plugins():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    eps = conf["project"]["entry-points"]["dat"]
    for name, target in eps.items():
        module, _, attr = target.partition(":")
        assert module == f"dat.partnerships.{name}" and attr == "plugin"
        assert (ROOT / "partnerships" / name / "__init__.py").exists()


@pytest.mark.slow
def test_wheel_contains_data_and_migrations(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("dat-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dat/partnerships/dudley/data/dudley.toml" in names
    assert "dat/plugins/national/data/nta.toml" in names
    assert "dat/core/migrations/env.py" in names
    assert "dat/core/migrations/script.py.mako" in names
    assert any(n.startswith("dat/core/migrations/versions/0001") for n in names)
    assert not any(n.startswith("dat/__init__") for n in names)  # namespace package


def test_textual_is_an_ordinary_dependency():
    """The TUI (and its browser server) come with every install; `dat[tui]` still resolves."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip().lower()
             for dep in conf["project"]["dependencies"]}
    assert {"textual", "textual-plotext", "textual-serve"} <= names
    extras = conf["project"]["optional-dependencies"]
    assert extras["tui"] == []  # a compatibility alias
    assert not any(dep.lower().startswith("textual") for extra in extras.values() for dep in extra)
