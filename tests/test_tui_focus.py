"""The TUI's focus, keys and robustness (issue 15, points 1, 2, 6 and 7), driven with Pilot.

Focus follows every jump; letters typed into a text field or a picker never run a command;
exports and reports ask before replacing a file; F1, ctrl+c, ctrl+q, ``[``/``]``; F5 reopens
the database and every pane says why it is empty. The fixtures and helpers are
tests/test_tui.py's (one seeded SQLite file per module, copied for each test).
"""

from __future__ import annotations

import csv
import shutil
import socket
from pathlib import Path

import pytest

pytest.importorskip("textual")

from test_tui import (  # noqa: E402
    BIG,
    Q1,
    SMALL,
    anyio_backend,
    cursor_key,
    detail,
    open_dudley_q1,
    plain,
    row_keys,
    seeded_db,
    settle,
    status,
    url,
)
from textual.widgets import Input, Select, TabbedContent, Tree  # noqa: E402

from dat.cli.tui import keys  # noqa: E402
from dat.cli.tui.app import DatApp  # noqa: E402
from dat.cli.tui.screens import ConfirmScreen, HelpScreen, ReportScreen  # noqa: E402
from dat.cli.tui.widgets.detail import HINT  # noqa: E402

__all__ = ["anyio_backend", "seeded_db", "url"]  # fixtures, used by name


def tab(app) -> str:
    return app.query_one("#tabs", TabbedContent).active


def focused_id(app) -> str | None:
    return app.focused.id if app.focused is not None else None


async def best_hit(app, query: str):
    from dat.cli.tui.palette import JumpProvider

    hits = [hit async for hit in JumpProvider(app.screen).search(query)]
    assert hits, query
    return max(hits, key=lambda h: h.score)


# -- 1. focus follows every jump ------------------------------------------------------------------

@pytest.mark.anyio
async def test_every_jump_puts_the_focus_in_what_was_jumped_to(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert isinstance(app.focused, Tree)  # the start: the tree
        # the palette's "Partnership Dudley": its scorecard, focused
        await pilot.press("4")
        (await best_hit(app, "partnership dudley")).command()
        await settle(app, pilot)
        assert app.state.partnership == "dudley"
        assert (tab(app), focused_id(app)) == ("scorecard", "score-table")
        # the next ↓ moves through Dudley's figures (it does not open another partnership)
        await pilot.press("down", "down")
        await settle(app, pilot)
        assert app.state.partnership == "dudley"
        assert app.detail.code == cursor_key(app, "#score-table")

        app.select_partnership("dudley", Q1)
        await settle(app, pilot)
        await pilot.press("a")
        assert isinstance(app.focused, Tree)
        # "Show CODE": the scorecard row, focused
        await pilot.press("2")
        (await best_hit(app, "show ret12")).command()
        await settle(app, pilot)
        assert (tab(app), focused_id(app), cursor_key(app, "#score-table")) == (
            "scorecard", "score-table", "NTA.RET12")
        # c: the comparison's table
        await pilot.press("c")
        await settle(app, pilot)
        assert (tab(app), focused_id(app)) == ("compare", "compare-table")
        # "Compare CODE" from the tree
        await pilot.press("a")
        (await best_hit(app, "compare healthy_schools_pct")).command()
        await settle(app, pilot)
        assert (tab(app), focused_id(app)) == ("compare", "compare-table")
        assert app.compare_tab.code == "YP.HEALTHY_SCHOOLS_PCT"

        # 1-4 and [ ] (round the ends), from the tree each time
        tables = {"scorecard": "score-table", "funding": "fund-table", "actions": "action-table",
                  "compare": "compare-table"}
        for key, want in [("1", "scorecard"), ("2", "funding"), ("3", "actions"), ("4", "compare")]:
            await pilot.press("a", key)
            assert (tab(app), focused_id(app)) == (want, tables[want])
        for key, want in [("right_square_bracket", "scorecard"), ("right_square_bracket", "funding"),
                          ("left_square_bracket", "scorecard"), ("left_square_bracket", "compare")]:
            await pilot.press("a", key)
            assert (tab(app), focused_id(app)) == (want, tables[want])


# -- 2. letters go to what is being typed into ------------------------------------------------------

@pytest.mark.anyio
async def test_typing_into_the_compare_picker_runs_no_command_and_finds_names(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        theme = app.theme
        await pilot.press("4")
        app.query_one("#compare-indicator", Select).focus()
        await pilot.pause()
        # "under-18s rec" holds e (export), r (report), c (compare), 1 (a tab): none may fire
        await pilot.press(*list("under-18s rec"))
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)
        assert list(tmp_path.glob("*.csv")) == [], "e exported while typing"
        assert app.theme == theme and tab(app) == "compare"
        # the search found an indicator by its name (the codes have no "under-18s")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.compare_tab.code == "YP.UNDER18_IN_TREATMENT"
        assert "Under-18s" in plain(app, "#compare-title")
        assert focused_id(app) == "compare-table"  # the ranking, ready for the arrows

        # the same in the period picker: typing finds the period, no command runs, and the
        # focus goes back to the table once it is picked
        await pilot.press("1")
        app.query_one("#period", Select).focus()
        await pilot.press(*list("2007/08 q2"), "enter")
        await settle(app, pilot)
        assert app.state.period == "2007/08 Q2"
        assert focused_id(app) == "score-table"
        assert list(tmp_path.glob("*.csv")) == [] and not isinstance(app.screen, ReportScreen)
        # and in the search box: letters are text
        await pilot.press("slash", *list("retcfq"))
        await pilot.pause()
        assert app.is_running and app.query_one("#search", Input).value == "retcfq"
        assert app.scorecard.rag_filter == "all" and tab(app) == "scorecard"


@pytest.mark.anyio
async def test_export_names_carry_who_what_and_period_and_ask_before_replacing(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.select_partnership("bromley", "2009/10")
        await settle(app, pilot)
        await pilot.press("2", "e")
        await settle(app, pilot)
        funding = tmp_path / "bromley-funding-2009-10.csv"
        assert funding.exists(), status(app)
        assert f"to {funding}" in status(app)  # the whole path

        app.select_partnership("dudley", Q1)
        await settle(app, pilot)
        await pilot.press("1", "e")
        await settle(app, pilot)
        path = tmp_path / "dudley-scorecard-2007-08_Q1.csv"
        first = path.read_text(encoding="utf-8")
        # again: a question naming the whole path; n keeps the file
        await pilot.press("f", "e")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert str(path) in plain(app.screen, "#confirm-text")
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert path.read_text(encoding="utf-8") == first
        assert f"Kept {path}" in status(app)
        # escape keeps it too; y replaces it (with the Red rows now on show)
        await pilot.press("e", "escape")
        await pilot.pause()
        assert path.read_text(encoding="utf-8") == first
        await pilot.press("e", "y")
        await settle(app, pilot)
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert {r["rag"] for r in rows} == {"R"}

        app.compare_indicator("NTA.RET12")
        await settle(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        period = app.compare_tab.result["period"].replace("/", "-").replace(" ", "_")
        assert (tmp_path / f"NTA.RET12-compare-{period}.csv").exists(), status(app)

        # the report dialog: the same kind of name, and the same question before replacing
        await pilot.press("r")
        await pilot.pause()
        report = tmp_path / "dudley-scorecard-2007-08_Q1.md"
        assert app.screen.query_one("#report-path", Input).value == str(report)
        await pilot.press("enter")
        await settle(app, pilot)
        assert report.exists()
        report.write_text("mine", encoding="utf-8")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert report.read_text(encoding="utf-8") == "mine"


@pytest.mark.anyio
async def test_the_status_line_shows_a_long_path_whole_at_80_columns(url, tmp_path):
    out = tmp_path / "a-rather-long-folder-name-for-the-exports-of-this-quarter"
    out.mkdir()
    app = DatApp(url, out_dir=out)
    async with app.run_test(size=SMALL) as pilot:
        await open_dudley_q1(app, pilot)
        app.clear_notifications()
        await pilot.press("1", "e")
        await settle(app, pilot)
        path = out / "dudley-scorecard-2007-08_Q1.csv"
        assert path.exists()
        line = app.query_one("#status")
        shown = "".join(strip.text for strip in line.render_lines(line.region.reset_offset))
        assert len(str(path)) > 80 and str(path).replace(" ", "") in shown.replace(" ", "")
        assert line.region.bottom <= app.screen.region.bottom


# -- 6. keys ----------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_f1_ctrl_c_ctrl_q_and_the_help_lists_every_binding(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = plain(app.screen, "#help")
        for k in keys.KEYS:
            if k.help is not None:
                assert k.label in help_text and k.help.split(" (")[0] in help_text, k.label
        for label in ("F1", "ctrl+c", "ctrl+q", "[ ]"):
            assert label in help_text
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)

        # every binding of the App comes from keys.KEYS, each key once
        bound = [key for k in keys.KEYS if k.keys for key in k.keys.split(",")]
        assert len(bound) == len(set(bound))
        assert "ctrl+c" in bound and "f1" in bound and "ctrl+q" in bound

        # ctrl+c copies the highlighted row, and Textual's "press ctrl+q to quit" never shows
        app.show_indicator("NTA.RET12")
        await settle(app, pilot)
        app.clear_notifications()
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("ctrl+c")
        await pilot.pause()
        # the row as shown, each cell whole (as y copies it)
        assert len(copied) == 1
        row = copied[0]
        cells = row.split("\t")
        assert cells[1] == "Retained in treatment 12 weeks or more" and "70%" in cells and "NTA.RET12" in cells
        assert (tmp_path / "dat-clipboard.txt").read_text(encoding="utf-8") == row + "\n"
        assert "Copied row NTA.RET12" in status(app)
        assert not any("quit" in n.message.lower() for n in app._notifications)

        # q in a text field is a letter; ctrl+q quits from anywhere
        await pilot.press("slash", "q")
        await pilot.pause()
        assert app.is_running and app.query_one("#search", Input).value == "q"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


@pytest.mark.anyio
async def test_q_quits_and_the_footer_keeps_quit_tabs_and_tree_at_80x24(url, tmp_path):
    from textual.widgets._footer import FooterKey

    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await open_dudley_q1(app, pilot)
        shown = {fk.description: fk for fk in app.screen.query(FooterKey)}
        for what in ("Quit", "Help", "Tree", "Tabs"):
            assert what in shown, sorted(shown)
            region = shown[what].region
            assert region.width and region.right <= 80, (what, region)
        assert shown["Tabs"].key_display == "1–4"
        assert (shown["Quit"].key, shown["Help"].key) == ("q", "question_mark")
        # while a picker takes the letters, q is typed: the footer offers ctrl+q and F1 instead
        await pilot.press("4")
        app.query_one("#compare-indicator", Select).focus()
        await pilot.press("u")
        await pilot.pause()
        shown = {fk.description: fk for fk in app.screen.query(FooterKey)}
        assert (shown["Quit"].key, shown["Help"].key) == ("ctrl+q", "f1")
        assert shown["Quit"].region.right <= 80
        await pilot.press("escape", "escape")
        await pilot.pause()
        app.query_one("#score-table").focus()
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


# -- 7. robustness ------------------------------------------------------------------------------------

def test_dat_tui_refuses_a_db_in_a_folder_that_does_not_exist(tmp_path):
    from click.testing import CliRunner

    from dat.cli.main import cli

    missing = tmp_path / "no-such-folder"
    result = CliRunner().invoke(cli, ["tui", "--db", f"sqlite:///{missing / 'dat.sqlite3'}"])
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert not missing.exists(), "a mistyped path must not become a new database"


@pytest.mark.anyio
async def test_f5_after_the_file_is_deleted_says_so_and_clears_every_pane(url, tmp_path):
    db = Path(url.removeprefix("sqlite:///"))
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.compare_indicator("NTA.RET12")
        await settle(app, pilot)
        assert row_keys(app, "#score-table") and row_keys(app, "#compare-table")
        saved = tmp_path / "saved.sqlite3"
        shutil.move(db, saved)
        for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
            extra.unlink(missing_ok=True)
        await pilot.press("f5")
        await settle(app, pilot)
        assert "Cannot open the database" in status(app) and "does not exist" in status(app)
        assert not db.exists(), "F5 must not create an empty database in its place"
        for table in ("#score-table", "#fund-table", "#action-table", "#compare-table"):
            assert row_keys(app, table) == [], table
        assert "Cannot open the database" in detail(app)
        assert app.areas.nodes == {}
        assert app.query_one("#period", Select).is_blank()
        # the file is back: F5 shows Dudley again, as it was
        shutil.move(saved, db)
        await pilot.press("f5")
        await settle(app, pilot)
        assert app.state.partnership == "dudley" and app.state.period == Q1
        assert row_keys(app, "#score-table") and row_keys(app, "#compare-table")
        assert "Cannot" not in status(app)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.anyio
async def test_an_unreachable_server_leaves_no_pane_without_a_reason(tmp_path):
    pytest.importorskip("psycopg")
    app = DatApp(f"postgresql+psycopg://dat@127.0.0.1:{_closed_port()}/dat", out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert "Cannot open the database" in status(app)
        assert HINT not in detail(app) and "Cannot open the database" in detail(app)
        for reason in ("#score-reason", "#fund-total", "#compare-title"):
            assert "Cannot open the database" in plain(app, reason), reason
            assert app.query_one(reason).display, reason
        await pilot.press("3")
        assert "Cannot open the database" in plain(app, "#action-reason")
        assert app.query_one("#action-reason").display
        # the keys that need data say so instead of failing
        await pilot.press("1", "c", "e", "r", "f5")
        await settle(app, pilot)
        assert app.is_running and not isinstance(app.screen, ReportScreen)


@pytest.mark.anyio
async def test_empty_tables_say_why(url, tmp_path):
    from dat.core import services

    store = services.Store(url)
    no_plan = next(p["slug"] for p in services.list_partnerships(store)
                   if not services.actions(store, p["slug"])["actions"])
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        assert not app.query_one("#score-reason").display  # rows: no reason line
        await pilot.press("slash", *list("no such thing"))
        await pilot.pause()
        assert "No figures match the filter" in plain(app, "#score-reason")
        assert "No figures match the filter" in detail(app)
        app.select_partnership(no_plan)
        await settle(app, pilot)
        await pilot.press("3")
        assert row_keys(app, "#action-table") == []
        assert "No action plan recorded" in plain(app, "#action-reason")
