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
