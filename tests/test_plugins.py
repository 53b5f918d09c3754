"""Plugin loading: built-ins, entry points, guards, strict mode, tracing, allow-list, and
one test per hook proving the host calls it and uses what it returns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dat.core import hookspecs
from dat.core.plugins import BUILTIN_PLUGINS, PluginError, get_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("register_") or n == "rag_rule")


def test_builtins_and_entry_points_load():
    host = get_plugin_manager()
    assert host.plugins["national"].status == "ok"
    assert host.plugins["national"].origin == "builtin"
    assert host.plugins["dudley"].status == "ok", host.plugins["dudley"].problems
    assert host.plugins["dudley"].origin == "entry point"
    reg = host.registry
    assert "dudley" in reg.partnerships
    assert reg.indicators["NTA.RET12"].plugin == "national"
    assert reg.observations[("dudley", "NTA.RET12", "2007/08 Q1")].value == 70.0


def test_broken_plugins_are_recorded_and_skipped(fixture_plugins):
    fixture_plugins({"broken": "broken_import", "bad": "bad_data", "misspelt": "misspelt",
                     "raising": "raising_hook"})
    host = get_plugin_manager()
    reg = host.registry
    assert host.plugins["broken"].status == "failed"
    assert "this plugin is broken on purpose" in host.plugins["broken"].error
    assert host.plugins["misspelt"].status == "failed"
    assert "register_indicator" in host.plugins["misspelt"].error
    assert "fixture.never" not in reg.indicators
    bad = host.plugins["bad"]
    assert bad.status == "problems"
    assert "fixture.good" in reg.indicators
    assert any("not a code" in p and "code:" in p for p in bad.problems)
    assert any("furlongs" in p and "unit" in p for p in bad.problems)
    assert any("unknown partnership 'nowhere'" in p for p in bad.problems)
    assert any("cannot reach the spreadsheet" in p for p in host.plugins["raising"].problems)
    # everything else still works
    assert host.plugins["dudley"].status == "ok"
    assert ("dudley", "NTA.RET12", "2007/08 Q1") in reg.observations


def test_strict_mode_raises(fixture_plugins):
    fixture_plugins({"bad": "bad_data"})
    with pytest.raises(PluginError, match="bad"):
        get_plugin_manager(strict=True).registry  # noqa: B018 - building the registry raises


def test_allow_list(fixture_plugins, monkeypatch):
    fixture_plugins({"bad": "bad_data"})
    monkeypatch.setenv("DAT_LOAD_PLUGINS", "bad")
    host = get_plugin_manager(reload=True)
    assert host.plugins["bad"].loaded and host.plugins["dudley"].status == "skipped"
    assert not host.plugins["dudley"].loaded
    assert "national" in host.plugins  # built-ins always load
    monkeypatch.setenv("DAT_LOAD_PLUGINS", "")
    host = get_plugin_manager(reload=True)
    builtins = {t.split(":")[0].rsplit(".", 1)[-1] for t in BUILTIN_PLUGINS}
    assert builtins == {"national", "renderers"}
    assert {n for n, i in host.plugins.items() if i.loaded} == builtins  # an empty allow-list loads no entry points


def test_trace_writes_hook_calls_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("DAT_TRACE_PLUGINS", "1")
    get_plugin_manager(reload=True).registry  # noqa: B018 - building the registry calls the hooks
    err = capsys.readouterr().err
    assert re.search(r"dudley\.register_observations: \d+ items", err)


def test_conflicting_registration_reported(fixture_plugins, tmp_path):
    mod = tmp_path / "conflict_fixture_plugin.py"
    mod.write_text(
        "from dat.core import hookimpl\n"
        "@hookimpl\n"
        "def register_indicators(register):\n"
        "    register(code='NTA.RET12', name='Something else', unit='count')\n"
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        fixture_plugins({"conflict": "conflict_fixture_plugin"})
        host = get_plugin_manager()
        reg = host.registry
        assert reg.indicators["NTA.RET12"].name == "Retained in treatment 12 weeks or more"
        assert any("already registered by national" in p for p in host.plugins["conflict"].problems)
    finally:
        sys.path.remove(str(tmp_path))


def test_every_hook_is_documented():
    doc = (ROOT / "docs" / "plugins.md").read_text()
    for name in HOOKS:
        assert f"### {name}" in doc, f"docs/plugins.md has no section for {name}"
        assert getattr(hookspecs, name).__doc__.strip(), f"{name} has no docstring"


def test_every_hook_is_tested():
    """Each hook name must appear in a test that exercises it (this file's per-hook tests)."""
    text = Path(__file__).read_text()
    for name in HOOKS:
        assert f"def test_hook_{name}" in text, f"no test_hook_{name} in tests/test_plugins.py"


# -- one test per hook ------------------------------------------------------------------------

def _host_with(tmp_path, fixture_plugins, body: str, name: str = "hooktest"):
    modname = f"{name}_{tmp_path.name}_plugin"  # unique: a module is imported once per process
    mod = tmp_path / f"{modname}.py"
    mod.write_text("from dat.core import hookimpl\n" + body)
    import sys

    sys.path.insert(0, str(tmp_path))
    fixture_plugins({name: modname})
    host = get_plugin_manager()
    host.registry  # noqa: B018 - building the registry loads the plugin's contributions
    sys.path.remove(str(tmp_path))
    return host


def test_hook_register_partnerships(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_partnerships(register):
    register(slug="testshire", name="Testshire DAT", region="Nowhere")
    register(slug="testshire_west", name="Testshire West", parent="testshire")
""")
    reg = host.registry
    assert reg.partnerships["testshire_west"].parent == "testshire"
    assert reg.partnerships["testshire"].plugin == "hooktest"


def test_hook_register_indicators(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_indicators(register):
    register(code="hooktest.x", name="X", unit="rate", per=1000, polarity="lower")
    register(code="hooktest.y", name="Y", unit="rate")
""")
    assert host.registry.indicators["hooktest.x"].per == 1000
    assert any("per" in p for p in host.plugins["hooktest"].problems)


def test_hook_register_funding_streams(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_funding_streams(register):
    register(code="HT", name="Hook test grant", funders=["Home Office"], ring_fenced=True)
""")
    assert host.registry.streams["HT"].funders == ("Home Office",)


def test_hook_register_allocations(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_partnerships(register):
    register(slug="testshire", name="Testshire DAT")  # targets, funding, actions: the owner's


@hookimpl
def register_allocations(register):
    register(partnership="testshire", stream="PTB", year="2008/09", amount="1,000.50")
    register(partnership="testshire", stream="PTB", year="2009/10", amount=1000.5)
    register(partnership="testshire", stream="PTB", year="2010/11", amount="12.345")
""")
    from decimal import Decimal

    reg = host.registry
    assert reg.allocations[("testshire", "PTB", "2008/09", "")].amount == Decimal("1000.50")
    problems = " ".join(host.plugins["hooktest"].problems)
    assert "not a float" in problems and "fractions of a penny" in problems


def test_hook_register_targets(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_partnerships(register):
    register(slug="testshire", name="Testshire DAT")  # targets, funding, actions: the owner's


@hookimpl
def register_targets(register):
    register(partnership="testshire", indicator="NTA.NIT", period="2008-09", value=100,
             profile=[1, 1, 1, 1])
    register(partnership="testshire", indicator="NTA.NIT", period="2009/10", value_kind="change",
             value=-20)
""")
    t = host.registry.targets[("testshire", "NTA.NIT", "2008/09", "local", "")]
    assert t.profile == (1.0, 1.0, 1.0, 1.0)
    assert any("baseline" in p for p in host.plugins["hooktest"].problems)


def test_hook_register_observations(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_observations(register):
    register(partnership="dudley", indicator="NTA.RET12", period="Q2 2007/08", value=75,
             numerator=75, denominator=100)
    register(partnership="dudley", indicator="NTA.RET12", period="2007/08 Q3", numerator=5,
             denominator=4, value=1)
    register(partnership="dudley", indicator="NTA.RET12", period="2007/13", value=1)
""")
    assert host.registry.observations[("dudley", "NTA.RET12", "2007/08 Q2")].value == 75
    problems = " ".join(host.plugins["hooktest"].problems)
    assert "larger than the denominator" in problems
    assert "period:" in problems and "2007/13" in problems


def test_hook_register_actions(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_partnerships(register):
    register(slug="testshire", name="Testshire DAT")  # targets, funding, actions: the owner's


@hookimpl
def register_actions(register):
    register(partnership="testshire", ref="HT-1", action="Do a thing", status="in progress",
             milestones=["one", "two"])
    register(partnership="testshire", ref="HT-2", action="Do another", status="finished")
""")
    assert host.registry.actions[("testshire", "HT-1")].milestones == ("one", "two")
    assert any("finished" in p for p in host.plugins["hooktest"].problems)


def test_hook_register_templates(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_templates(register):
    register(name="brief", title="Brief", package="hooktest_plugin", path="brief.md.j2")
""")
    assert host.registry.templates[(None, "brief")].title == "Brief"


def test_hook_register_importers(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
def load(path, **options):
    return []

@hookimpl
def register_importers(register):
    register(name="ht-csv", suffixes=(".htc",), load=load)
    register(name="ht-bad", suffixes=(".x",), load="not callable")
""")
    assert "ht-csv" in host.registry.importers
    assert any("callable" in p for p in host.plugins["hooktest"].problems)


def test_hook_register_exporters(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_exporters(register):
    register(name="ht-tsv", suffixes=(".tsv",), write=lambda rows, out: None)
""")
    assert callable(host.registry.exporters["ht-tsv"].write)


def test_hook_register_renderers(tmp_path, fixture_plugins):
    host = _host_with(tmp_path, fixture_plugins, """
@hookimpl
def register_renderers(register):
    register(name="ht-text", suffixes=(".txt",), render=lambda doc, path: None)
""")
    assert host.registry.renderers["ht-text"].suffixes == (".txt",)


def test_hook_register_commands(fixture_plugins, dat):
    fixture_plugins({"rules": "rag_rule_plugin"})
    result = dat("fixture-hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from a plugin"
    # `dat --help` lists built-in commands only (loading plugins would double its start-up);
    # `dat plugins` names plugin commands and each has its own --help
    assert "fixture-hello" not in dat("--help").stdout
    assert "dat plugins" in dat("--help").stdout
    listed = {p["name"]: p for p in json.loads(dat("plugins", "-f", "json").stdout)["plugins"]}
    assert listed["rules"]["commands"] == ["fixture-hello"]
    assert "fixture-hello" in listed["rules"]["contributes"]
    assert dat("fixture-hello", "--help").returncode == 0


def test_hook_rag_rule(fixture_plugins, db_url):
    fixture_plugins({"rules": "rag_rule_plugin"})
    from dat.core.services import Store, scorecard

    card = scorecard(Store(db_url), "dudley", "2007/08 Q1")
    row = next(r for r in card["rows"] if r["code"] == "NTA.RET12")
    assert (row["rag"], row["rag_basis"]) == ("A", "plugin")
