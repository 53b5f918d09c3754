"""End to end: the real ``dat tui`` in a real terminal (tmux), driven by key presses and read
back with ``capture-pane``. Known answers from the seeds: Bromley's 2009/10 funding total
£3,109,598; Dudley's retention in treatment 70%, Red against its 85% local target."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


class Tmux:
    """One private tmux server (its own socket) running one command."""

    def __init__(self, command: str, width: int = 120, height: int = 40) -> None:
        self.socket = f"dat-test-{uuid.uuid4().hex[:8]}"
        self.run("new-session", "-d", "-s", "dat", "-x", str(width), "-y", str(height), command)

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=20)
        return done.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", "dat", key)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", "dat", "-l", text)
        time.sleep(0.2)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "dat")

    def wait_for(self, *texts: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"never saw {texts!r} on the screen:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tui(tmp_path):
    exe = Path(sys.executable).with_name("dat")
    dat = str(exe) if exe.exists() else f"{sys.executable} -m dat.cli.main"
    env = {k: os.environ[k] for k in ("DAT_DATA_DIR", "PATH", "HOME", "PYTHONPATH") if k in os.environ}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env_text = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # Textual draws on stderr, so it is not redirected; the exit status is echoed after it
    command = (f"env -i {env_text} {dat} tui --out-dir {shlex.quote(str(tmp_path))}; "
               "echo \"dat exited $?\"; sleep 30")
    session = Tmux(command)
    yield session
    session.close()


def test_dat_tui_in_a_real_terminal(tui, tmp_path):
    tui.wait_for("Partnerships", "1 Scorecard", "figures", timeout=60)

    # Dudley, 2007/08 Q1, search "retained": Red 70% against an 85% local target
    tui.keys("C-p")
    time.sleep(0.8)  # the palette must be open before the letters: else they are commands
    tui.type("dudley")
    time.sleep(0.5)
    tui.keys("Enter")
    tui.wait_for("Dudley, 20")
    time.sleep(0.5)
    tui.keys("p", "Enter")
    time.sleep(0.8)
    tui.type("Q1")
    tui.keys("Enter")
    tui.wait_for("Dudley, 2007/08 Q1: ")
    time.sleep(0.5)
    tui.keys("/")
    time.sleep(0.8)
    tui.type("retained")
    tui.keys("Enter")
    screen = tui.wait_for("Retained in treatment", "85% local")
    row = next(line for line in screen.splitlines() if "Retained in treatment" in line and "Red" in line)
    assert "R Red" in row and "70%" in row and "85% local" in row

    # Bromley's 2009/10 funding total
    tui.keys("C-p")
    time.sleep(0.8)  # the palette must be open before the letters: else they are commands
    tui.type("bromley")
    time.sleep(0.5)
    tui.keys("Enter")
    tui.wait_for("Bromley, 20")
    time.sleep(0.5)
    tui.keys("p", "Enter")
    time.sleep(0.8)
    tui.type("2009/10")
    tui.keys("Enter")
    tui.wait_for("Bromley, 2009/10: ")
    tui.keys("2")
    tui.wait_for("Stream", "Total 2009/10: £3,109,598")

    # filter the funding lines, sort them (a capital letter is a key of its own), clear the filter
    time.sleep(0.5)
    tui.keys("/")
    time.sleep(0.8)  # a key reaches the app's bindings only after the focused widget passed it on
    tui.type("pct")
    tui.keys("Enter")
    tui.wait_for("3 of 6 lines shown · filter: 'pct'")
    tui.keys("S")
    tui.wait_for("sorted by Stream ▲")
    tui.keys("x")
    tui.wait_for("Bromley funding: 6 lines · sorted by Stream")

    # export the table on screen, then quit cleanly
    tui.keys("e")
    tui.wait_for("Exported")
    assert (tmp_path / "bromley-funding-2009-10.csv").exists()
    tui.keys("q")
    screen = tui.wait_for("dat exited", timeout=15)
    assert "dat exited 0" in screen and "Traceback" not in screen


def _dat_command() -> str:
    exe = Path(sys.executable).with_name("dat")
    return str(exe) if exe.exists() else f"{sys.executable} -m dat.cli.main"


def _tui_pid(marker: str, timeout: float = 60) -> int:
    """The pid of the ``dat tui`` whose --out-dir is ``marker``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", f"tui --out-dir {marker}"], capture_output=True, text=True)
        # the pane's shell carries the same words: only the python process is dat tui
        pids = [int(p) for p in found.stdout.split()
                if Path(f"/proc/{p}/comm").exists()
                and Path(f"/proc/{p}/comm").read_text().strip() not in ("bash", "sh", "env", "tmux: server")]
        if pids:
            return pids[0]
        time.sleep(0.2)
    raise AssertionError("dat tui never started")


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
            return True
        time.sleep(0.1)
    return False


def test_closing_the_terminal_ends_the_app(tmp_path):
    """The terminal goes away (a closed window, a killed tmux): SIGHUP ends dat tui. It used to
    go on polling a terminal that no longer existed, at a fifth of a core, until killed."""
    marker = str(tmp_path / "out-hup")
    session = Tmux(f"env DAT_DATA_DIR={shlex.quote(os.environ.get('DAT_DATA_DIR', str(tmp_path)))} "
                   f"TERM=xterm-256color {_dat_command()} tui --out-dir {shlex.quote(marker)}")
    try:
        session.wait_for("Partnerships", timeout=60)
        pid = _tui_pid(marker)
    finally:
        session.close()  # kills the tmux server: the pane's terminal is gone
    assert _gone(pid, 10), "dat tui outlived its terminal"


def test_sigterm_ends_the_app_with_143_and_gives_the_terminal_back(tmp_path):
    marker = str(tmp_path / "out-term")
    session = Tmux(f"env DAT_DATA_DIR={shlex.quote(os.environ.get('DAT_DATA_DIR', str(tmp_path)))} "
                   f"TERM=xterm-256color {_dat_command()} tui --out-dir {shlex.quote(marker)}; "
                   "echo \"dat exited $?\"; sleep 30")
    try:
        session.wait_for("Partnerships", timeout=60)
        pid = _tui_pid(marker)
        os.kill(pid, 15)
        screen = session.wait_for("dat exited", timeout=15)
        assert "dat exited 143" in screen and "Traceback" not in screen, screen
        assert "Partnerships" not in screen  # the alternate screen was left
    finally:
        session.close()
