"""Issue 12: plugin health on every command, per-user disabling, purge and transfer."""

from __future__ import annotations

import json

import pytest
from helpers import db_digest, run_dat
from sqlalchemy import create_engine, text


def _plugins(url: str, env: dict | None = None) -> dict[str, dict]:
    out = run_dat("--db", url, "plugins", "-f", "json", env=env)
    assert out.returncode == 0, out.stderr
    return {p["name"]: p for p in json.loads(out.stdout)["plugins"]}


def _query(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def test_one_health_line_on_any_command_silenced_by_q(db_url, fixture_plugins):
    fixture_plugins({"bad": "bad_data", "wrong": "wrong_argument"})
    out = run_dat("--db", db_url, "partnerships", "-f", "csv")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if "plugins have problems" in line]
    assert lines == ["dat: warning: 2 plugins have problems (bad, wrong): dat plugins"], out.stderr
    again = run_dat("--db", db_url, "partnerships", "-f", "csv")  # no sync this time: still said
    assert "2 plugins have problems (bad, wrong)" in again.stderr
    quiet = run_dat("--db", db_url, "-q", "partnerships", "-f", "csv")
    assert quiet.returncode == 0 and quiet.stderr == ""
    listed = run_dat("--db", db_url, "plugins", "-f", "json")
    assert "have problems" not in listed.stderr  # `dat plugins` lists them instead


def test_wrong_argument_is_one_line_naming_hook_and_argument(fixture_plugins, tmp_path):
    fixture_plugins({"wrong": "wrong_argument"})
    info = _plugins(f"sqlite:///{tmp_path / 'x.sqlite3'}")["wrong"]
    assert info["status"] == "failed"
    assert info["error"] == ("hook register_indicators has argument(s) regster that dat does not pass "
                             "(its arguments are in docs/plugins.md)")


@pytest.mark.slow
def test_a_slow_hook_is_timed_and_flagged(fixture_plugins, tmp_path):
    fixture_plugins({"slowpoke": "slow_hook"})
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    info = _plugins(url)["slowpoke"]
    assert info["status"] == "slow" and info["hook_ms"]["register_indicators"] >= 1000
    assert any("register_indicators took" in p and "over 1 s" in p for p in info["problems"])
    fast = _plugins(url)["dudley"]
    assert fast["status"] == "ok" and 0 <= fast["hook_ms"]["register_observations"] < 1000
    out = run_dat("--db", url, "partnerships", "-f", "csv")
    assert "1 plugin is slow (slowpoke): dat plugins" in out.stderr


def test_disable_and_enable_are_per_user_and_never_in_the_database(db_url, tmp_path):
    config = tmp_path / "config"
    env = {"DAT_CONFIG_DIR": str(config)}
    assert _plugins(db_url, env)["cheshire"]["status"] == "ok"
    before = db_digest(db_url)
    out = run_dat("plugins", "disable", "cheshire", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads((config / "settings.json").read_text())["disabled_plugins"] == ["cheshire"]
    assert db_digest(db_url) == before
    listed = _plugins(db_url, env)
    assert listed["cheshire"]["status"] == "disabled"
    assert listed["cheshire"]["orphaned"]["actions"] == 14  # kept, and said to be kept
    assert run_dat("--db", db_url, "funding", "cheshire", "-f", "json", env=env).returncode == 0
    other_user = _plugins(db_url, {"DAT_CONFIG_DIR": str(tmp_path / "someone-else")})
    assert other_user["cheshire"]["status"] == "ok"
    assert run_dat("plugins", "enable", "cheshire", env=env).returncode == 0
    assert _plugins(db_url, env)["cheshire"]["status"] == "ok"
    both = _plugins(db_url, {**env, "DAT_DISABLE_PLUGINS": "cheshire, bromley"})
    assert (both["cheshire"]["status"], both["bromley"]["status"]) == ("disabled", "disabled")
    bad = run_dat("plugins", "disable", "nosuch", env=env)
    assert bad.returncode == 2 and "no installed plugin 'nosuch'" in bad.stderr


def test_purge_removes_an_uninstalled_plugins_contributions_and_keeps_history(db_url, fixture_plugins, monkeypatch):
    fixture_plugins({"fixture": "compare_data"})
    assert run_dat("--db", db_url, "db", "sync").returncode == 0
    assert _query(db_url, "SELECT count(*) FROM target WHERE plugin='fixture'") == [(1,)]
    # uninstalled: the entry point is gone
    monkeypatch.setenv("DAT_LOAD_PLUGINS", "dudley,bromley,cheshire,haringey,ne_lincs")
    refused = run_dat("--db", db_url, "plugins", "purge", "dudley")
    assert refused.returncode == 2 and "is installed" in refused.stderr
    monkeypatch.delenv("DAT_LOAD_PLUGINS")
    import os

    monkeypatch.setenv("PYTHONPATH", os.environ["PYTHONPATH"].split(os.pathsep, 1)[1])  # drop the dist-info
    listed = _plugins(db_url)
    assert listed["fixture"]["status"] == "not installed" and listed["fixture"]["orphaned"]["targets"] == 1
    before = db_digest(db_url)
    dry = run_dat("--db", db_url, "plugins", "purge", "fixture", "--dry-run", "-f", "json")
    assert dry.returncode == 0, dry.stderr
    changes = json.loads(dry.stdout)["changes"]
    assert changes["removed targets"] == 1 and changes["withdrawn observations"] == 11
    assert db_digest(db_url) == before
    done = run_dat("--db", db_url, "plugins", "purge", "fixture", "-f", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["changes"] == changes
    assert _query(db_url, "SELECT count(*) FROM target WHERE plugin='fixture'") == [(0,)]
    history = json.loads(run_dat("--db", db_url, "history", "alpha", "FIX.RET", "-f", "json").stdout)
    revs = [(r["period"], r["revision"], r["current"], r["value"]) for r in history["revisions"]]
    assert ("2009/10", 1, False, 81) in revs and ("2009/10", 2, False, None) in revs
    status = [r for r in history["revisions"] if r["revision"] == 2 and r["period"] == "2009/10"][0]
    assert status["origin"] == "purge:fixture"
    assert _query(db_url, "SELECT action, source FROM audit WHERE action='purge'") == [("purge", "plugin:fixture")]
    assert "fixture" not in _plugins(db_url)
    again = run_dat("--db", db_url, "plugins", "purge", "fixture")
    assert again.returncode == 2 and "has nothing in this database" in again.stderr


def test_transfer_is_the_only_way_ownership_changes(db_url, fixture_plugins, tmp_path):
    mod = tmp_path / "halton_two.py"
    mod.write_text("from dat.core import hookimpl\n"
                   "@hookimpl\n"
                   "def register_partnerships(register):\n"
                   "    register(slug='dudley', name='Dudley DAT (new owner)', region='West Midlands')\n")
    import os

    fixture_plugins({"dudley_next": "halton_two"})
    env = {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ['PYTHONPATH']}"}
    assert run_dat("--db", db_url, "db", "sync", env=env).returncode == 0
    assert _query(db_url, "SELECT plugin, name FROM partnership WHERE slug='dudley'") == [("dudley", "Dudley")]
    bad = run_dat("--db", db_url, "partnerships", "transfer", "dudley", "--to", "bromley", env=env)
    assert bad.returncode == 2 and "does not register partnership 'dudley'" in bad.stderr
    out = run_dat("--db", db_url, "partnerships", "transfer", "dudley", "--to", "dudley_next", env=env)
    assert out.returncode == 0, out.stderr
    assert run_dat("--db", db_url, "db", "sync", env=env).returncode == 0
    assert _query(db_url, "SELECT plugin, name FROM partnership WHERE slug='dudley'") == [
        ("dudley_next", "Dudley DAT (new owner)")]
    audit = _query(db_url, "SELECT action, partnership, detail FROM audit WHERE action='transfer'")
    assert audit == [("transfer", "dudley", "'dudley' from dudley to dudley_next")]
    plugins = _plugins(db_url, env)
    assert any("belongs to dudley_next" in p for p in plugins["dudley"]["problems"])


# -- settings.json that dat cannot use: said on every command, never overwritten -------------------

BAD_SETTINGS = {
    "trailing comma": ('{"theme": "dark", "disabled_plugins": ["bromley"],}', "is not valid JSON (line 1)"),
    "latin-1 byte": (b'{"disabled_plugins": ["br\xf6mley"]}', "is not UTF-8 text"),
    "nested too deeply": ("[" * 30_000 + "]" * 30_000, "is not valid JSON (nested too deeply)"),
    "not an object": ('["bromley"]', "is not a JSON object ({...})"),
    "over 64 KiB": ('{"disabled_plugins": [' + ", ".join(['"x"'] * 20_000) + "]}", "is larger than 64 KiB"),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_a_settings_file_dat_cannot_read_is_said_and_never_overwritten(db_url, tmp_path, case):
    content, problem = BAD_SETTINGS[case]
    config = tmp_path / "config"
    config.mkdir()
    path = config / "settings.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {"DAT_CONFIG_DIR": str(config)}
    before = path.read_bytes()
    out = run_dat("--db", db_url, "partnerships", "-f", "csv", env=env)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    warned = [line for line in out.stderr.splitlines() if "settings.json" in line]
    from dat.core.errors import shorten

    assert warned == [f"dat: warning: {shorten(path)} {problem}: ignored; fix or delete it"], out.stderr
    for verb in ("disable", "enable"):
        out = run_dat("plugins", verb, "cheshire", env=env)
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 1 and len(lines) == 1 and len(lines[0]) <= 200, out.stderr
        assert lines[0] == f"dat: {shorten(path)} {problem}: not changed; fix or delete it first"
    assert path.read_bytes() == before


def test_a_settings_fifo_never_blocks(db_url, tmp_path):
    import os

    config = tmp_path / "config"
    config.mkdir()
    os.mkfifo(config / "settings.json")
    out = run_dat("--db", db_url, "partnerships", "-f", "csv", env={"DAT_CONFIG_DIR": str(config)}, timeout=60)
    assert out.returncode == 0 and "settings.json is not a regular file: ignored" in out.stderr


def test_a_config_dir_that_is_a_file_is_named(db_url, tmp_path):
    config = tmp_path / "cfg"
    config.write_text("not a folder")
    env = {"DAT_CONFIG_DIR": str(config)}
    out = run_dat("plugins", "disable", "cheshire", env=env)
    assert out.returncode == 1
    from dat.core.errors import shorten

    shown = shorten(config)
    assert out.stderr.strip() == f"dat: DAT_CONFIG_DIR {shown} is not a folder: not changed; fix or delete it first"
    out = run_dat("--db", db_url, "partnerships", "-f", "csv", env=env)
    assert out.returncode == 0 and f"dat: warning: DAT_CONFIG_DIR {shown} is not a folder" in out.stderr
    assert config.read_text() == "not a folder"


# -- settings.json whose disabled_plugins is not a list of names (r3 F4), with a BOM (r3 I5) -------

@pytest.mark.parametrize("value", ['"bromley"', '{"a": 1}', "null", "5", "true", "NaN", '["a", 1]'])
def test_disabled_plugins_of_the_wrong_type_is_said_and_never_overwritten(db_url, tmp_path, value):
    from dat.core.errors import shorten

    config = tmp_path / "config"
    config.mkdir()
    path = config / "settings.json"
    content = '{"disabled_plugins": ' + value + "}"
    path.write_text(content)
    env = {"DAT_CONFIG_DIR": str(config)}
    problem = f"{shorten(path)}: disabled_plugins must be a list of plugin names"
    out = run_dat("--db", db_url, "partnerships", "-f", "csv", env=env)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    warned = [line for line in out.stderr.splitlines() if "settings.json" in line]
    assert warned == [f"dat: warning: {problem}: ignored; fix or delete it"], out.stderr
    for verb in ("disable", "enable"):
        out = run_dat("plugins", verb, "cheshire", env=env)
        assert out.returncode == 1, out.stderr
        assert out.stderr.strip() == f"dat: {problem}: not changed; fix or delete it first"
    assert path.read_text() == content


def test_a_settings_file_with_a_bom_is_read(db_url, tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_bytes(b'\xef\xbb\xbf{"disabled_plugins": ["cheshire"]}')
    env = {"DAT_CONFIG_DIR": str(config)}
    out = run_dat("--db", db_url, "partnerships", "-f", "csv", env=env)
    assert out.returncode == 0 and "settings.json" not in out.stderr, out.stderr
    assert _plugins(db_url, env)["cheshire"]["status"] == "disabled"


# -- plugin-health.json is a cache: never blocks, never fails (r3 F5) ----------------------------

@pytest.mark.parametrize("kind", ["fifo", "folder", "huge", "garbage"])
def test_a_plugin_health_file_dat_cannot_use_is_ignored_silently(db_url, tmp_path, monkeypatch, kind):
    import os

    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("DAT_DATA_DIR", str(data))
    path = data / "plugin-health.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "huge":
        path.write_text('{"sources": "' + "x" * 2_000_000 + '"}')
    else:
        path.write_bytes(b"\xff[[[")
    for command in (("partnerships", "-f", "csv"), ("indicators", "-f", "csv")):
        out = run_dat("--db", db_url, *command, timeout=30)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        assert "plugin-health" not in out.stderr
    if kind == "fifo":
        import stat

        assert stat.S_ISFIFO(os.lstat(path).st_mode)  # left alone, never replaced
    if kind == "folder":
        assert path.is_dir()
