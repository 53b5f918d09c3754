"""``dat tui --serve``: the TUI in a web browser through textual-serve, on 127.0.0.1 only.

The end-to-end test drives Debian's headless Chromium over its DevTools protocol
(tests/cdp.py): it opens the page, waits for the scorecard, presses keys as an officer would
(ctrl+p dudley, the period Q1, search "retained", f for Red) and reads the xterm.js terminal
of the page: Dudley's Red retention figure, 70% against its 85% local target."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import run_dat


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dat() -> list[str]:
    exe = Path(sys.executable).with_name("dat")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]


def test_serve_binds_loopback_only_and_runs_dat_tui(monkeypatch, tmp_path):
    """What the server is told, without starting it: 127.0.0.1, the port asked for, and a
    command that runs this Python's dat tui with the output folder (the URL not on it)."""
    from textual_serve.server import Server

    from dat.cli.main import cli

    seen: dict = {}

    def fake_serve(self, debug: bool = False) -> None:
        seen.update(host=self.host, port=self.port, url=self.public_url, command=self.command)

    monkeypatch.setattr(Server, "serve", fake_serve)
    db = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = CliRunner().invoke(cli, ["--db", db, "tui", "--serve", "--port", "8123", "--out-dir",
                                      str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert seen["url"] == "http://127.0.0.1:8123"
    assert seen["command"].startswith(sys.executable) and "dat.cli.main tui --out-dir" in seen["command"]
    assert str(tmp_path) in seen["command"] and "sqlite" not in seen["command"]
    assert os.environ["DAT_DATABASE_URL"] == db  # the served processes inherit the database


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "No such option '--host'"),
    (["--port", "0"], "0 is not in the range 1<=x<=65535"),
])
def test_serve_options_refused(args, message):
    res = run_dat("tui", "--serve", *args)
    assert res.returncode == 2 and message in res.stderr


def test_serve_port_in_use_is_an_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        res = run_dat("tui", "--serve", "--port", str(port), timeout=60)
    assert res.returncode == 1
    assert f"dat: cannot serve on http://127.0.0.1:{port}:" in res.stderr and "--port" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.fixture
def served(tmp_path):
    """``dat tui --serve`` on a free port, its default database made first; yields its URL."""
    ready = run_dat("partnerships", "--format", "csv")  # create, migrate and fill the database
    assert ready.returncode == 0, ready.stderr
    port = _free_port()
    log = (tmp_path / "server.log").open("w+")
    proc = subprocess.Popen([*_dat(), "tui", "--serve", "--port", str(port), "--out-dir", str(tmp_path)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("dat tui --serve did not listen within 60 s")
    yield f"http://127.0.0.1:{port}", proc, tmp_path / "server.log"
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    log.close()


@pytest.mark.slow
def test_dat_tui_in_headless_chromium(served, tmp_path):
    from cdp import Browser, chromium

    if chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is missing: .ci/run installs it")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    url, server, log = served
    browser = Browser(width=1600, height=1000)
    try:
        browser.open(url + "/?fontsize=12")
        browser.wait_for("Partnerships", "1 Scorecard", "figures", timeout=60)
        browser.evaluate("window.__term.focus()")  # as a click on the terminal would

        browser.key("p", ctrl=True)
        browser.type("dudley")
        time.sleep(0.5)
        browser.key("Enter")
        browser.wait_for("Dudley, 20")
        browser.key("p")
        browser.key("Enter")
        browser.type("Q1")
        browser.key("Enter")
        browser.wait_for("Dudley, 2007/08 Q1: ")
        browser.key("/")
        browser.type("retained")
        # the search has narrowed the table (and holds the keyboard: the footer lost its keys)
        browser.wait_for("Retained in treatment", absent=("Numbers into treatment", "f RAG"))
        browser.key("Enter")
        browser.wait_for("Retained in treatment", "f RAG")  # back in the table
        browser.key("f")  # Red only: the RAG picker says so
        screen = browser.wait_for("Retained in treatment", "R Red", "▊  Red ")
        rows = [line for line in screen.splitlines() if "Retained in treatment" in line and "Red" in line]
        assert rows, screen
        assert "70%" in rows[0] and "85% local" in rows[0]
        assert not any(word in screen for word in ("G Green", "A Amber"))  # the filter holds
        shot = browser.screenshot(tmp_path / "dudley-red.png")
        assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    finally:
        browser.close()
    # Ctrl+C ends the server cleanly
    server.send_signal(signal.SIGINT)
    assert server.wait(20) == 0, log.read_text()
    text = log.read_text()
    assert f"served on {url}" in text.replace("\n", " ") and "Traceback" not in text

