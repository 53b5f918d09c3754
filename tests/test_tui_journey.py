"""The officer's journey, keyboard only, in the real ``dat tui`` in a real terminal (tmux) at
80x24 and 200x60: Dudley's Reds, the retention figure in detail, a filter and its clearing, a
ranked comparison, Bromley's 2009/10 total and its largest line, North East Lincolnshire's
overdue actions, a period change and a report. Known answers from the seeds: Dudley's
retention 70% against an 85% local target (Red), Bromley's 2009/10 total £3,109,598 with its
largest line £1,347,255."""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import pytest
from test_tui_e2e import Tmux

pytestmark = [pytest.mark.slow]


def _dat() -> str:
    exe = Path(sys.executable).with_name("dat")
    return str(exe) if exe.exists() else f"{sys.executable} -m dat.cli.main"


def _rows(screen: str, *words: str) -> list[str]:
    return [line for line in screen.splitlines() if all(w in line for w in words)]


@pytest.mark.parametrize("width,height", [(80, 24), (200, 60)])
def test_officer_journey_keyboard_only(tmp_path, width, height):
    env = {k: os.environ[k] for k in ("DAT_DATA_DIR", "PATH", "HOME", "PYTHONPATH") if k in os.environ}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env_text = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    out = tmp_path / "out"
    out.mkdir()
    tui = Tmux(f"env -i {env_text} {_dat()} tui --out-dir {shlex.quote(str(out))}; "
               "echo \"dat exited $?\"; sleep 30", width=width, height=height)

    def step(*keys: str, settle: float = 0.6) -> None:
        tui.keys(*keys)
        time.sleep(settle)

    def jump(name: str, status: str) -> None:
        tui.keys("C-p")
        time.sleep(0.8)
        tui.type(name)
        time.sleep(0.8)
        tui.keys("Enter")
        tui.wait_for(status)
        time.sleep(0.5)

    try:
        tui.wait_for("Partnerships", "Scorecard", "Quit", timeout=60)

        # Dudley, 2007/08 Q1 (a period change), its Reds only
        jump("dudley", "Dudley, 20")
        step("p", "Enter")
        tui.type("Q1")
        step("Enter")
        tui.wait_for("Dudley, 2007/08 Q1")
        step("f")
        screen = tui.wait_for("filter: Red")
        shown = _rows(screen, "Red")
        assert shown and not _rows(screen, "Amber") and not _rows(screen, "Green"), screen
        assert any("70%" in line for line in shown), screen  # retention, not cut

        # the retention figure in detail: filter to it, its detail names target and rule
        tui.type("/")  # tmux's send-keys has no key named slash: "slash" would be five letters
        time.sleep(0.6)
        tui.type("retained")
        step("Enter")
        screen = tui.wait_for("NTA.RET12", "85%")
        row = _rows(screen, "R Red", "70%")
        assert row, screen

        # a ranked comparison of it: Dudley ranked, with its value
        step("c", settle=1.5)
        screen = tui.wait_for("Rank", "Dudley")
        assert _rows(screen, "Dudley", "70%"), screen

        # back to the scorecard, and one key clears both filters
        step("1")
        step("x")
        screen = tui.wait_for("40 figures")
        assert "filter:" not in screen and _rows(screen, "Amber"), screen

        # Bromley's 2009/10 total, and its largest line first by sorting on the amount
        jump("bromley", "Bromley, 20")
        step("p", "Enter")
        tui.type("2009/10")
        step("Enter")
        tui.wait_for("Bromley, 2009/10")
        step("2")
        tui.wait_for("Total 2009/10: £3,109,598")
        step("s", "s", "s", "S")  # Stream, Line, Amount; then high to low
        screen = tui.wait_for("Amount ▼")
        body = screen.split("Amount ▼", 1)[1].splitlines()[1:]
        first = next(line for line in body if "£" in line)
        assert "£1,347,255" in first, screen

        # North East Lincolnshire's overdue actions are marked
        jump("north east", "North East Lincolnshire")
        step("3")
        screen = tui.wait_for("overdue as of")
        assert "⚠" in screen, screen

        # a report for the partnership and period on show
        step("1")
        step("r", settle=1.0)
        step("Enter", settle=1.0)
        screen = tui.wait_for("Report written to", timeout=60)
        written = list(out.glob("ne_lincs-*.md"))
        assert written and "North East Lincolnshire" in written[0].read_text(encoding="utf-8")

        step("q")
        screen = tui.wait_for("dat exited", timeout=15)
        assert "dat exited 0" in screen and "Traceback" not in screen
    finally:
        tui.close()
