"""Issue 12: a sync touches only what loaded, healthy plugins own; one owner per partnership.

Every scenario runs on SQLite and on the real PostgreSQL server (explicit sync there: the
commands that write plugin data are `dat db sync`)."""

from __future__ import annotations

import json

import pytest
from helpers import run_dat
from sqlalchemy import create_engine, text

PLUGIN_TABLES = ("partnership", "indicator", "funding_stream", "target", "allocation", "action")


def _digest(url: str, tables=PLUGIN_TABLES) -> dict[str, list]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: sorted(map(repr, conn.execute(text(f"SELECT * FROM {t}")).all())) for t in tables}
    finally:
        engine.dispose()


def _observations(url: str, slug: str, code: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT o.period, o.revision, o.is_current, o.value, o.status, o.origin FROM observation o "
                "JOIN partnership p ON p.id = o.partnership_id JOIN indicator i ON i.id = o.indicator_id "
                "WHERE p.slug = :s AND i.code = :c ORDER BY o.period, o.revision"), {"s": slug, "c": code})]
    finally:
        engine.dispose()


def _sync(url: str, env: dict | None = None) -> dict:
    out = run_dat("--db", url, "db", "sync", "-f", "json", env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _run(url: str, *args: str, env: dict | None = None):
    return run_dat("--db", url, *args, env=env)


def test_a_subset_load_leaves_every_other_plugins_data_byte_identical(db_url):
    _sync(db_url)
    before = _digest(db_url)
    funding = _run(db_url, "funding", "bromley", "-f", "json")
    assert funding.returncode == 0 and "no funding recorded" not in funding.stderr
    for env in ({"DAT_LOAD_PLUGINS": "dudley"}, {"DAT_LOAD_PLUGINS": ""}):
        out = _run(db_url, "status", "dudley", "-P", "2007/08 Q1", "-f", "json", env=env)
        assert out.returncode == 0, out.stderr
        report = _sync(db_url, env=env)  # an explicit sync with a subset removes nothing either
        assert all(row["removed"] == 0 for row in report["kinds"]), report
        assert _digest(db_url) == before
    again = _run(db_url, "funding", "bromley", "-f", "json")
    assert again.returncode == 0 and again.stdout == funding.stdout


def test_the_impostor_is_refused_and_dudley_stays_red(db_url, fixture_plugins):
    _sync(db_url)
    before_history = _observations(db_url, "dudley", "NTA.RET12")
    before = _digest(db_url)
    fixture_plugins({"aaa_dudley_shadow": "impostor"})
    report = _sync(db_url)
    assert _observations(db_url, "dudley", "NTA.RET12") == before_history  # nothing added to history
    assert _digest(db_url) == before  # its target and its name for Dudley are refused too
    assert all(row["added"] == row["changed"] == row["removed"] == 0 for row in report["kinds"])
    status = _run(db_url, "status", "dudley", "-P", "2007/08 Q1", "-f", "json")
    assert status.returncode == 0, status.stderr
    row = next(r for r in json.loads(status.stdout)["rows"] if r["code"] == "NTA.RET12")
    assert (row["value"], row["rag"]) == (70, "R")
    warnings = [line for line in status.stderr.splitlines() if "aaa_dudley_shadow" in line and "refused" in line]
    assert warnings == ["dat: warning: partnership 'dudley' belongs to dudley; the claim of plugin "
                        "aaa_dudley_shadow was refused (dat plugins)"], status.stderr
    plugins = json.loads(_run(db_url, "plugins", "-f", "json").stdout)["plugins"]
    by_name = {p["name"]: p for p in plugins}
    assert by_name["dudley"]["status"] == "ok"
    assert by_name["aaa_dudley_shadow"]["status"] == "problems"
    assert any("belongs to dudley" in p for p in by_name["aaa_dudley_shadow"]["problems"])


def test_an_owner_s_figure_stands_over_another_plugin_s(db_url, fixture_plugins):
    _sync(db_url)
    fixture_plugins({"friendly": "friendly_figures"})
    _sync(db_url)
    rows = _observations(db_url, "dudley", "NTA.RET12")
    q1 = [r for r in rows if r[0] == "2007/08 Q1"]
    assert [(r[3], r[5]) for r in q1] == [(70, "plugin:dudley")]
    assert ("2001/02", 1, True, 55, "final", "plugin:friendly") in rows  # a new figure is welcome
    plugins = {p["name"]: p for p in json.loads(_run(db_url, "plugins", "-f", "json").stdout)["plugins"]}
    assert any("dudley's (the partnership's owner)" in p for p in plugins["friendly"]["problems"])
    # a reference to Halton, like Cheshire's: no conflict on either side
    assert not any("halton" in p for p in plugins["friendly"]["problems"] + plugins["cheshire"]["problems"])


def test_identical_registrations_are_not_conflicts(tmp_path, fixture_plugins):
    mod = tmp_path / "twin_plugin.py"
    mod.write_text("from dat.core import hookimpl\n"
                   "@hookimpl\n"
                   "def register_indicators(register):\n"
                   "    register(code='NTA.RET12', name='Retained in treatment 12 weeks or more', unit='percent',"
                   " polarity='higher', framework='NTA', source='NDTMS')\n")
    import sys

    from dat.core.plugins import get_plugin_manager

    sys.path.insert(0, str(tmp_path))
    try:
        fixture_plugins({"twin": "twin_plugin"})
        host = get_plugin_manager()
        national = host.registry.indicators["NTA.RET12"]
        twin = dict(national.as_dict(), plugin="twin")
        mod.write_text(mod.read_text().replace(
            "source='NDTMS'", ", ".join(f"{k}={v!r}" for k, v in twin.items() if k not in ("plugin", "code",
                                                                                           "name", "unit",
                                                                                           "polarity",
                                                                                           "framework"))))
        import importlib

        sys.modules.pop("twin_plugin", None)
        importlib.invalidate_caches()
        host = get_plugin_manager(reload=True)
        host.registry  # noqa: B018
        assert host.plugins["twin"].problems == []
    finally:
        sys.path.remove(str(tmp_path))


def test_a_real_owner_takes_over_a_reference(db_url, fixture_plugins, tmp_path):
    _sync(db_url)
    mod = tmp_path / "halton_plugin.py"
    mod.write_text("from dat.core import hookimpl\n"
                   "@hookimpl\n"
                   "def register_partnerships(register):\n"
                   "    register(slug='halton', name='Halton DAT', region='North West')\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        fixture_plugins({"halton": "halton_plugin"})
        env = {"PYTHONPATH": f"{tmp_path}:" + __import__("os").environ["PYTHONPATH"]}
        _sync(db_url, env=env)
        engine = create_engine(db_url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT name, plugin, reference FROM partnership WHERE slug='halton'")).one()
            claims = conn.execute(text("SELECT action, partnership FROM audit WHERE action='claim'")).all()
        engine.dispose()
        assert (row[0], row[1], bool(row[2])) == ("Halton DAT", "halton", False)
        assert [tuple(c) for c in claims] == [("claim", "halton")]
        plugins = {p["name"]: p for p in json.loads(_run(db_url, "plugins", "-f", "json", env=env).stdout)["plugins"]}
        assert plugins["halton"]["status"] == "ok" and plugins["cheshire"]["status"] == "ok"
    finally:
        sys.path.remove(str(tmp_path))


@pytest.mark.parametrize("mode", ["auto", "explicit"])
def test_sync_mode(db_url, mode, monkeypatch):
    monkeypatch.setenv("DAT_SYNC", mode)
    out = _run(db_url, "partnerships", "-f", "json")
    assert out.returncode == 0, out.stderr
    slugs = [p["slug"] for p in json.loads(out.stdout)["partnerships"]]
    if mode == "auto":
        assert "dudley" in slugs and "not been synced" not in out.stderr
    else:
        assert slugs == [] and out.stderr.count("not been synced") == 1
        _sync(db_url)
        again = _run(db_url, "partnerships", "-f", "json")
        assert "dudley" in again.stdout and again.stderr == ""
        differs = _run(db_url, "partnerships", "-f", "json", env={"DAT_LOAD_PLUGINS": "dudley"})
        assert differs.stderr.count("differ from those the database was synced with") == 1
        assert "not here: bromley" in differs.stderr


def test_postgres_commands_never_write_plugin_data(db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("explicit sync is PostgreSQL's default")
    monkeypatch.delenv("DAT_SYNC", raising=False)
    _run(db_url, "db", "upgrade")
    from helpers import db_digest

    before = db_digest(db_url)
    for args in (("partnerships",), ("status", "dudley"), ("indicators",)):
        _run(db_url, *args)
    assert db_digest(db_url) == before


def test_bad_sync_mode_is_usage(db_url, monkeypatch):
    monkeypatch.setenv("DAT_SYNC", "sometimes")
    out = _run(db_url, "partnerships")
    assert out.returncode == 2 and "DAT_SYNC must be auto or explicit" in out.stderr


def test_a_copycat_cannot_take_the_owners_items(db_url, fixture_plugins, tmp_path, monkeypatch):
    """Found by an attack: a plugin that registers items identical to Dudley's and loads
    first took them over, so purging it deleted Dudley's actions."""
    _sync(db_url)
    before = _digest(db_url)
    mod = tmp_path / "copycat_plugin.py"
    mod.write_text("from dat.core import hookimpl\n"
                   "from dat.partnerships.dudley import plugin as real\n"
                   "@hookimpl\n"
                   "def register_actions(register):\n"
                   "    real.register_actions(register)\n"
                   "@hookimpl\n"
                   "def register_indicators(register):\n"
                   "    real.register_indicators(register)\n")
    import os

    fixture_plugins({"aaa_copycat": "copycat_plugin"})
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ['PYTHONPATH']}"}
    _sync(db_url, env=env)
    assert _digest(db_url) == before  # every action and indicator still credited to dudley
    plugins = {p["name"]: p for p in json.loads(_run(db_url, "plugins", "-f", "json", env=env).stdout)["plugins"]}
    assert any("only dudley, which owns 'dudley', registers its actions" in p
               for p in plugins["aaa_copycat"]["problems"])
    monkeypatch.setenv("PYTHONPATH", os.environ["PYTHONPATH"].split(os.pathsep, 1)[1])
    purge = _run(db_url, "plugins", "purge", "aaa_copycat")
    assert purge.returncode == 2 and "has nothing in this database" in purge.stderr
    assert _digest(db_url) == before


def test_the_owners_figure_replaces_an_uninstalled_plugins(db_url, tmp_path, monkeypatch):
    """Found by an attack: once a non-owner plugin that added a figure was uninstalled, the
    owner's later figure for the same key was held back ("kept")."""
    import os
    import shutil

    from helpers import make_entry_points

    (tmp_path / "omega_owner.py").write_text(
        "import os\nfrom dat.core import hookimpl\n"
        "@hookimpl\n"
        "def register_partnerships(register):\n"
        "    register(slug='omega', name='Omega')\n"
        "@hookimpl\n"
        "def register_observations(register):\n"
        "    register(partnership='omega', indicator='NTA.RET12', period='2002/03', value=60)\n"
        "    if os.environ.get('OMEGA_UPGRADED'):\n"
        "        register(partnership='omega', indicator='NTA.RET12', period='2001/02', value=57)\n")
    (tmp_path / "omega_extra.py").write_text(
        "from dat.core import hookimpl\n"
        "@hookimpl\n"
        "def register_observations(register):\n"
        "    register(partnership='omega', indicator='NTA.RET12', period='2001/02', value=55)\n")
    site = make_entry_points(tmp_path, {"omega": "omega_owner"}, dist="dat-omega")
    make_entry_points(tmp_path, {"omega_extra": "omega_extra"}, dist="dat-omega-extra")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    _sync(db_url)
    assert ("2001/02", 1, True, 55, "final", "plugin:omega_extra") in _observations(db_url, "omega", "NTA.RET12")
    shutil.rmtree(site / "dat_omega_extra-0.0.1.dist-info")  # uninstalled
    report = _sync(db_url, env={"OMEGA_UPGRADED": "1"})
    rows = [r for r in _observations(db_url, "omega", "NTA.RET12") if r[0] == "2001/02"]
    assert [(r[1], r[2], r[3], r[5]) for r in rows] == [(1, False, 55, "plugin:omega_extra"),
                                                        (2, True, 57, "plugin:omega")]
    assert all(k["kept"] == 0 for k in report["kinds"])


def test_a_purged_figure_can_be_imported_again(db_url, fixture_plugins, tmp_path, monkeypatch):
    import os

    fixture_plugins({"fixture": "compare_data"})
    _sync(db_url)
    monkeypatch.setenv("PYTHONPATH", os.environ["PYTHONPATH"].split(os.pathsep, 1)[1])
    assert _run(db_url, "plugins", "purge", "fixture").returncode == 0
    csv = tmp_path / "again.csv"
    csv.write_text("partnership,indicator,period,value\nalpha,FIX.RET,2009/10,82\n")
    out = _run(db_url, "import", str(csv))
    assert out.returncode == 0, out.stderr
    revs = [(r["revision"], r["current"], r["value"], r["status"]) for r in json.loads(
        _run(db_url, "history", "alpha", "FIX.RET", "-P", "2009/10", "-f", "json").stdout)["revisions"]]
    assert revs == [(3, True, 82, "final"), (2, False, None, "withdrawn"), (1, False, 81, "final")]


def test_new_partnership_sees_disabled_and_skipped_plugins(tmp_path):
    for env in ({"DAT_DISABLE_PLUGINS": "cheshire"}, {"DAT_LOAD_PLUGINS": "dudley"}):
        out = run_dat("new-partnership", "Chester", "--dir", str(tmp_path), env=env)
        assert out.returncode == 2 and "plugin cheshire registers partnership 'chester'" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_audit_since_empty_is_usage(db_url):
    out = _run(db_url, "audit", "--since", "")
    assert out.returncode == 2 and "--since is empty" in out.stderr


@pytest.mark.parametrize("args, needle", [
    (("--since", "0001-01-01T00:00+14:00"), "is out of range"),
    (("--since", "9999-12-31T23:59-14:00"), "is out of range"),
    (("--since", "1899-12-31"), "is out of range"),
    (("-n", "99999999999999999999"), "--limit 99999999999999999999 is out of range: give 1 to 1,000,000"),
    (("-n", "1000001"), "is out of range"),
])
def test_audit_bounds_are_usage_errors(db_url, args, needle):
    out = _run(db_url, "audit", *args)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and needle in lines[0], out.stderr
    assert "internal error" not in out.stderr and len(lines[0]) <= 200


def test_audit_edges_of_the_range_are_read(db_url):
    for args in (("--since", "1899-12-31T23:00-05:00"), ("--since", "9999-12-31"), ("-n", "1000000")):
        out = _run(db_url, "audit", *args)
        assert out.returncode == 0, out.stderr
