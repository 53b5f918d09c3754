"""The plugin developer kit: `dat new-partnership` and dat.core.testing.check_plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import FIXTURE_PLUGINS


def test_slugify():
    from dat.cli.commands.scaffold import slugify

    assert slugify("St Helens & Knowsley") == "st_helens_knowsley"
    assert slugify("  Ynys Môn ") == "ynys_mon"
    assert slugify("2 Cities") == "2_cities"  # not a valid slug: the command says so


@pytest.mark.slow
def test_new_partnership_installs_and_is_listed(tmp_path, dat):
    out = dat("new-partnership", "Test Town", "--region", "North West", "--dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    pkg = tmp_path / "dat-test-town"
    assert (pkg / "pyproject.toml").exists() and (pkg / "dat_test_town/data/test_town.toml").exists()
    assert "pip install" in out.stderr
    # a real install of the built package (wheel via setuptools) into its own site folder
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--target", str(site), str(pkg)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "DAT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    listed = dat("plugins", "-f", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]}
    # on a machine with every built-in partnership installed, all of them and the new one are ok
    for name in ("dudley", "haringey", "bromley", "cheshire", "ne_lincs", "test_town"):
        assert plugins[name]["status"] == "ok", plugins[name]
    assert plugins["test_town"]["origin"] == "entry point"
    assert plugins["test_town"]["counts"]["partnerships"] == 1
    parts = json.loads(dat("partnerships", "-f", "json", env=env).stdout)
    town = next(p for p in parts["partnerships"] if p["slug"] == "test_town")
    assert (town["name"], town["region"]) == ("Test Town", "North West")
    report = dat("report", "test_town", "--template", "summary", "-o", str(tmp_path / "s.md"), env=env)
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "s.md").read_text()
    assert "# Test Town: summary" in text and "£100,000" in text
    # the generated package's own test passes against the installed plugin
    own = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(pkg / "tests")], capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env}, cwd=tmp_path)
    assert own.returncode == 0, own.stdout + own.stderr


def test_new_partnership_bad_input(tmp_path, dat):
    bad = dat("new-partnership", "   ", "--dir", str(tmp_path))
    assert bad.returncode == 2 and "NAME must not be empty" in bad.stderr
    bad = dat("new-partnership", "2 Cities", "--dir", str(tmp_path))
    assert bad.returncode == 2 and "slug '2_cities' is not valid" in bad.stderr
    assert dat("new-partnership", "Sefton", "--dir", str(tmp_path)).returncode == 0
    again = dat("new-partnership", "Sefton", "--dir", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert dat("new-partnership", "Sefton", "--dir", str(tmp_path), "--force").returncode == 0
    bad = dat("new-partnership", "X", "--slug", "Bad-Slug", "--dir", str(tmp_path))
    assert bad.returncode == 2 and "Bad-Slug" in bad.stderr


@pytest.mark.parametrize(("name", "plugin"), [("Halton", "cheshire"), ("Cheshire East", "cheshire"),
                                              ("Bolton", "ne_lincs"), ("x", "ne_lincs")])
def test_new_partnership_refuses_a_slug_an_installed_plugin_registers(tmp_path, dat, name, plugin):
    args = ["new-partnership", name, "--dir", str(tmp_path)] + (["--slug", "sunderland"] if name == "x" else [])
    out = dat(*args)
    assert out.returncode == 2, out.stderr
    assert f"plugin {plugin} registers partnership" in out.stderr and "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_plugin_on_built_in_partnerships():
    from dat.core.testing import check_plugin

    result = check_plugin("dudley")
    assert result.ok, result.text()
    assert result.counts["register_observations"] > 20
    assert any(r.startswith("dudley/") for r in result.rendered) or not result.counts.get("register_templates")


def test_check_plugin_reports_bad_data_and_bad_templates(monkeypatch):
    from dat.core.testing import check_plugin

    monkeypatch.syspath_prepend(str(FIXTURE_PLUGINS))
    import importlib

    bad = check_plugin(importlib.import_module("bad_data"), name="bad")
    assert bad.loaded and not bad.ok, bad.text()
    assert any("not a code" in p for p in bad.problems)
    assert any("unknown partnership 'nowhere'" in p for p in bad.problems)
    assert "problem:" in bad.text()
    broken = check_plugin("broken_import:plugin")
    assert not broken.loaded and "failed to import" in broken.problems[0]
    with pytest.raises(LookupError, match="no entry point 'nope'"):
        check_plugin("nope")

    from dat.core import hookimpl

    class BadTemplate:
        __name__ = "bad_template"

        @hookimpl
        def register_partnerships(self, register):
            register(slug="tmpl_area", name="Template Area")

        @hookimpl
        def register_templates(self, register):
            register(name="broken", title="Broken", package="bad_template_pkg",
                     path="templates/nope.md.j2", partnership="tmpl_area")

    result = check_plugin(BadTemplate(), name="bad_template")
    assert not result.ok
    assert any("template broken for tmpl_area" in p for p in result.problems), result.text()

    class Empty:
        __name__ = "empty"

    assert "contributes nothing" in check_plugin(Empty(), name="empty").problems[-1]


@pytest.mark.parametrize("slug", ["dudley", "haringey", "bromley", "cheshire", "ne_lincs"])
def test_every_built_in_partnership_passes_the_plugin_check(slug, tmp_path):
    """The built-in partnerships are checked with the same kit a third-party author uses."""
    from dat.core.testing import check_plugin

    result = check_plugin(slug, tmp_path)
    assert result.ok, result.text()
    assert result.counts.get("register_partnerships", 0) >= 1
