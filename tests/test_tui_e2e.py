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
    tui.type("dudley")
    time.sleep(0.5)
    tui.keys("Enter")
    tui.wait_for("Dudley, 20")
    tui.keys("p", "Enter")
    tui.type("Q1")
    tui.keys("Enter")
    tui.wait_for("Dudley, 2007/08 Q1: ")
    tui.keys("/")
    tui.type("retained")
    tui.keys("Enter")
    screen = tui.wait_for("Retained in treatment", "85% local")
    row = next(line for line in screen.splitlines() if "Retained in treatment" in line and "Red" in line)
    assert "R Red" in row and "70%" in row and "85% local" in row

    # Bromley's 2009/10 funding total
    tui.keys("C-p")
    tui.type("bromley")
    time.sleep(0.5)
    tui.keys("Enter")
    tui.wait_for("Bromley, 20")
    tui.keys("p", "Enter")
    tui.type("2009/10")
    tui.keys("Enter")
    tui.wait_for("Bromley, 2009/10: ")
    tui.keys("2")
    tui.wait_for("Stream", "Total 2009/10: £3,109,598")

    # export the table on screen, then quit cleanly
    tui.keys("e")
    tui.wait_for("Exported")
    assert (tmp_path / "bromley-funding-2009-10.csv").exists()
    tui.keys("q")
    screen = tui.wait_for("dat exited", timeout=15)
    assert "dat exited 0" in screen and "Traceback" not in screen
