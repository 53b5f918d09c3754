"""A plugin's decision hook cannot break dat: a ``rag_rule`` that raises or answers
something that is not a RAG rating is reported against its plugin (``dat plugins``, a
one-line warning on the command that met it) and the core's own rule decides."""

from __future__ import annotations

import json

import pytest

Q1 = "2007/08 Q1"


def _ret12(card: dict) -> dict:
    return next(r for r in card["rows"] if r["code"] == "NTA.RET12")


@pytest.mark.parametrize("which, says", [("raising", "raised ZeroDivisionError"),
                                         ("purple", "answered 'purple'")])
def test_a_bad_rule_is_a_warning_and_the_core_rule_decides(fixture_plugins, dat, tmp_path, which, says):
    db = f"sqlite:///{tmp_path / 'rules.sqlite3'}"
    plain = dat("--db", db, "status", "dudley", "-P", Q1, "-f", "json")
    assert plain.returncode == 0, plain.stderr
    fixture_plugins({"badrule": f"bad_rules:{which}"})
    result = dat("--db", db, "status", "dudley", "-P", Q1, "-f", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr  # once per command, not once per figure
    assert "plugin badrule" in warnings[0] and says in warnings[0] and "core's rule" in warnings[0]
    # every RAG is what the core's rule gives without the plugin (70 against 85 is Red)
    assert json.loads(result.stdout)["rows"] == json.loads(plain.stdout)["rows"]
    assert (_ret12(json.loads(result.stdout))["rag"], _ret12(json.loads(result.stdout))["rag_basis"]) == ("R", "rule")


@pytest.mark.parametrize("which", ["raising", "purple"])
def test_dat_plugins_lists_a_bad_rule_against_its_plugin(fixture_plugins, dat, which):
    fixture_plugins({"badrule": f"bad_rules:{which}"})
    result = dat("plugins", "-f", "json")
    assert result.returncode == 0, result.stderr
    listed = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert listed["badrule"]["status"] == "problems"
    assert any("rag_rule" in p for p in listed["badrule"]["problems"])
    assert listed["dudley"]["status"] == "ok"  # the others are not blamed
    assert "warning" not in result.stderr  # listed, not warned about as well


def test_a_bad_rule_passes_over_to_the_next_good_rule(fixture_plugins, db_url):
    fixture_plugins({"rules": "rag_rule_plugin", "badrule": "bad_rules:purple"})
    from dat.core.plugins import get_plugin_manager
    from dat.core.services import Store, scorecard

    host = get_plugin_manager()
    card = scorecard(Store(db_url, host=host), "dudley", Q1)
    assert (_ret12(card)["rag"], _ret12(card)["rag_basis"]) == ("A", "plugin")  # the good rule's answer
    assert any("badrule" in w for w in host.take_warnings())


def test_strict_plugins_makes_a_bad_rule_an_error(fixture_plugins, dat, tmp_path):
    fixture_plugins({"badrule": "bad_rules:raising"})
    result = dat("--strict-plugins", "--db", f"sqlite:///{tmp_path / 's.sqlite3'}", "status", "dudley", "-P", Q1)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "plugin badrule" in result.stderr and "rag_rule" in result.stderr


def test_a_rule_may_answer_a_word_or_a_rag(fixture_plugins):
    from dat.core.plugins import PluginHost
    from dat.core.targets import RAG

    for answer, letter in (("Green", "G"), (" r ", "R"), (RAG.AMBER, "A")):
        host = PluginHost()

        class Rule:
            __name__ = "word_rule"

            @staticmethod
            def rag_rule(partnership, indicator, target, observation, period, _a=answer):
                return _a

        from dat.core.api import hookimpl

        Rule.rag_rule = hookimpl(Rule.rag_rule)
        host.add("word_rule", Rule())
        assert host.rag_rule(partnership="x", indicator={}, target=None, observation={}, period="2009/10") == letter
        assert host.take_warnings() == []


# -- hostile rules (tests/plugins/hostile_rules.py) -------------------------------------------

def _hostile_host(*names):
    import hostile_rules

    from dat.core.plugins import PluginHost

    host = PluginHost()
    host.load_builtins()
    host.load_module("dat.partnerships.dudley:plugin", "dudley", "entry point")
    for name in names:
        host.add(name, hostile_rules.plugins[name])
    host.pm.check_pending()
    return host


@pytest.fixture(scope="module")
def plain_rows(tmp_path_factory):
    from dat.core.plugins import PluginHost
    from dat.core.services import Store, scorecard

    host = PluginHost()
    host.load_builtins()
    host.load_module("dat.partnerships.dudley:plugin", "dudley", "entry point")
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('plain') / 'p.sqlite3'}", host=host)
    return scorecard(store, "dudley", Q1)["rows"]


HOSTILE = ["bad_str", "str_subclass", "bad_exception", "system_exit_0", "system_exit_msg",
           "generator_exit", "per_code", "long_multiline", "an_object", "a_generator", "nan", "mutate"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_rule_is_one_short_warning_and_changes_nothing(name, plain_rows, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("helpers").FIXTURE_PLUGINS))
    from dat.core.services import Store, scorecard

    host = _hostile_host(name)
    store = Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", host=host)
    rows = scorecard(store, "dudley", Q1)["rows"]
    assert rows == plain_rows  # the core's rule decided, and nothing the rule did shows
    warnings = host.take_warnings()
    if name == "mutate":  # it answers None: no failure, and its changes were to its own copies
        assert warnings == [] and host.plugins[name].problems == []
        return
    assert len(warnings) == 1, warnings  # one per plugin per command, not one per figure
    assert "\n" not in warnings[0] and len(warnings[0]) < 400 and f"plugin {name}" in warnings[0]
    problems = host.plugins[name].problems
    assert len(problems) == 1 and "rag_rule" in problems[0]


def test_a_good_rule_still_decides_beside_hostile_ones(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("helpers").FIXTURE_PLUGINS))
    import rag_rule_plugin

    from dat.core.services import Store, scorecard

    host = _hostile_host("bad_str", "system_exit_0", "mutate")
    host.add("rules", rag_rule_plugin)
    card = scorecard(Store(f"sqlite:///{tmp_path / 'g.sqlite3'}", host=host), "dudley", Q1)
    assert (_ret12(card)["rag"], _ret12(card)["rag_basis"]) == ("A", "plugin")
    assert len(host.take_warnings()) == 2  # mutate answers None and harms only its copies


def test_a_rule_raising_system_exit_does_not_end_dat_quietly(fixture_plugins, dat, tmp_path):
    fixture_plugins({"bye": "hostile_exit:plugin"})
    result = dat("--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "status", "dudley", "-P", Q1, "-f", "json")
    assert result.returncode == 0 and result.stdout.strip().startswith("{"), result.stderr
    assert "plugin bye: rag_rule raised SystemExit" in result.stderr
    assert "Traceback" not in result.stderr


def test_dat_plugins_gives_up_probing_a_slow_rule(monkeypatch):
    import time

    from dat.core.api import hookimpl
    from dat.core.plugins import PluginHost

    class Slow:
        __name__ = "slow"

        @hookimpl
        def rag_rule(self, partnership, indicator, target, observation, period):
            time.sleep(0.05)

    host = PluginHost()
    host.load_builtins()
    host.load_module("dat.partnerships.dudley:plugin", "dudley", "entry point")
    host.add("slow", Slow())
    started = time.perf_counter()
    host.probe_decisions(seconds=0.5)
    assert time.perf_counter() - started < 1.5
