"""The terminal UI (``dat tui``), driven with Textual's Pilot.

Most tests share one SQLite database built once per module from the built-in plugins and
copied for each test; the journey and the failure tests that touch the database itself run
on SQLite and PostgreSQL (``db_url``). Known answers come from the seeds: Dudley's retention
in treatment 70% against an 85% local target (Red) in 2007/08 Q1, Bromley's 2009/10 funding
total £3,109,598.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Input, Select, Static, TabbedContent, Tree  # noqa: E402

from dat.cli.tui import format as fmt  # noqa: E402
from dat.cli.tui.app import DatApp  # noqa: E402
from dat.cli.tui.screens import HelpScreen, ReportScreen  # noqa: E402
from dat.cli.tui.widgets.table import PAGE  # noqa: E402

BIG, SMALL = (120, 40), (80, 24)
Q1 = "2007/08 Q1"


# -- fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture
def anyio_backend():
    """The async tests (``pytest.mark.anyio``) run on asyncio, Textual's loop."""
    return "asyncio"


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    """An SQLite file filled from the plugins once; each test gets its own copy."""
    from dat.core.db import dispose_engines
    from dat.core.plugins import reset_plugin_manager
    from dat.core.services import Store

    reset_plugin_manager()
    path = tmp_path_factory.mktemp("tuidb") / "seed.sqlite3"
    Store(f"sqlite:///{path}")
    dispose_engines()  # close connections so the WAL is folded into the file
    return path


@pytest.fixture
def url(seeded_db, tmp_path):
    copy = tmp_path / "dat.sqlite3"
    shutil.copy(seeded_db, copy)
    return f"sqlite:///{copy}"


async def settle(app, pilot, rounds: int = 2) -> None:
    """Wait until workers are done and the messages they sent are handled."""
    from textual.worker import WorkerCancelled, WorkerFailed

    # a worker's result can start further workers (the scorecard starts funding, actions and
    # benchmarks), so wait until a round starts nothing new, at least ``rounds`` rounds
    quiet = done = 0
    while done < 200 and (done < rounds or quiet < 2):
        done += 1
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one
            pass
        except WorkerFailed:  # the app shows the error (what the failure tests look for)
            pass
        await pilot.pause()
        busy = any(not w.is_finished for w in app.workers)
        quiet = 0 if busy else quiet + 1


def plain(app, selector: str) -> str:
    """A Static's text without its markup."""
    from textual.content import Content

    content = app.query_one(selector, Static).content
    return content.plain if isinstance(content, Content) else Content.from_markup(str(content)).plain


def status(app) -> str:
    return plain(app, "#status")


def detail(app) -> str:
    return plain(app, "#detail-text")


def table_rows(app, table_id: str) -> list[list[str]]:
    table = app.query_one(table_id, DataTable)
    return [[str(getattr(c, "plain", c)).strip() for c in table.get_row(k)] for k in table.rows]


def row_keys(app, table_id: str) -> list[str]:
    return [k.value for k in app.query_one(table_id, DataTable).rows]


def cursor_key(app, table_id: str) -> str:
    table = app.query_one(table_id, DataTable)
    return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value


async def open_dudley_q1(app, pilot) -> None:
    await settle(app, pilot)
    app.select_partnership("dudley", Q1)
    await settle(app, pilot)


def scorecard(url: str, slug: str, period: str | None = None) -> dict:
    from dat.core import services

    return services.scorecard(services.Store(url), slug, period)


# -- opening ------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_opens_on_a_partnership_with_figures_and_lists_all_in_a_tree(url, tmp_path):
    from dat.core import services

    store = services.Store(url)
    parts = services.list_partnerships(store)
    latest = services.has_figures(store)
    first_with_data = next(p["slug"] for p in parts if latest[p["slug"]])
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert app.state.partnership == first_with_data
        assert app.state.period == services.scorecard(store, first_with_data)["period"]
        tree = app.query_one("#areas", Tree)
        assert tree.has_focus
        assert set(app.areas.nodes) == {p["slug"] for p in parts}
        # sub-areas hang under their parent: Cheshire -> Cheshire West and Chester -> Chester
        for p in parts:
            node = app.areas.nodes[p["slug"]]
            parent = node.parent.data if node.parent is not tree.root else None
            assert parent == p["parent"], p["slug"]
        assert app.areas.nodes["cheshire"].children, "Cheshire shows its sub-areas"
        # partnerships without figures are marked in the tree
        empty = [s for s, period in latest.items() if period is None]
        for slug in empty:
            assert str(app.areas.nodes[slug].label).endswith("·")
        assert app.query_one("#score-table", DataTable).row_count == len(
            services.scorecard(store, first_with_data)["rows"])


@pytest.mark.anyio
async def test_tree_arrows_preview_nothing_and_enter_opens_into_the_scorecard(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        first = app.state.partnership
        tree = app.query_one("#areas", Tree)
        target_line = app.areas.nodes["dudley"].line
        steps = target_line - tree.cursor_line
        assert steps, "the test needs Dudley away from the first partnership"
        await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
        await pilot.pause(0.6)  # resting on a partnership opens nothing
        await settle(app, pilot)
        assert app.state.partnership == first and tree.has_focus
        assert tree.cursor_node.data == "dudley"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.state.partnership == "dudley"
        assert app.sub_title == "Dudley"
        expected = scorecard(url, "dudley")
        assert row_keys(app, "#score-table") == [r["code"] for r in expected["rows"]]
        # the focus followed: the next arrow moves through Dudley's figures, not the tree
        assert app.focused is app.query_one("#score-table", DataTable)
        await pilot.press("down")
        await settle(app, pilot)
        assert app.state.partnership == "dudley"
        assert app.detail.code == cursor_key(app, "#score-table")


# -- period, RAG filter, search -------------------------------------------------------------------

@pytest.mark.anyio
async def test_period_selector_changes_the_scorecard(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.select_partnership("dudley")
        await settle(app, pilot)
        default = scorecard(url, "dudley")["period"]
        assert app.state.period == default
        other = "2007/08 Q2" if default != "2007/08 Q2" else Q1
        await pilot.press("p")
        assert app.focused is app.query_one("#period", Select)
        await pilot.press("enter", "Q", other[-1], "enter")
        await settle(app, pilot)
        assert app.state.period == other
        assert app.query_one("#period", Select).value == other
        assert app.focused is app.query_one("#score-table", DataTable)  # back to the figures
        assert row_keys(app, "#score-table") == [r["code"] for r in scorecard(url, "dudley", other)["rows"]]


@pytest.mark.anyio
async def test_rag_filter_cycles_all_red_amber_green_unrated(url, tmp_path):
    card = scorecard(url, "dudley", Q1)
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.query_one("#score-table", DataTable).focus()
        seen = {}
        for wanted in ["R", "A", "G", "none", "all"]:
            await pilot.press("f")
            await pilot.pause()
            assert app.scorecard.rag_filter == wanted
            seen[wanted] = row_keys(app, "#score-table")
        for letter in "RAG":
            assert seen[letter] == [r["code"] for r in card["rows"] if r["rag"] == letter]
        assert seen["none"] == [r["code"] for r in card["rows"] if r["rag"] is None]
        assert "NTA.RET12" in seen["R"]
        assert len(seen["all"]) == len(card["rows"])
        rendered = table_rows(app, "#score-table")
        assert any(row[0] == "R Red" for row in rendered)  # a letter and a word, not colour only


@pytest.mark.anyio
async def test_search_filters_by_name_and_code_then_enter_returns_to_the_table(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        await pilot.press("slash")
        assert app.focused is app.query_one("#search", Input)
        await pilot.press(*list("retai"))
        await pilot.pause()
        assert row_keys(app, "#score-table") == ["NTA.RET12"]
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.focused is app.query_one("#score-table", DataTable)
        app.query_one("#search", Input).value = "yp.yot"
        await pilot.pause()
        assert row_keys(app, "#score-table") and all(k.startswith("YP.YOT") for k in row_keys(app, "#score-table"))
        app.query_one("#search", Input).value = "no such indicator"
        await pilot.pause()
        assert row_keys(app, "#score-table") == []
        assert "No figures match" in detail(app)


# -- detail pane ------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_detail_pane_shows_value_target_rag_trend_and_history(url, tmp_path):
    from dat.core.importer import import_file
    from dat.core.services import Store

    # a correction makes a second revision of Dudley's retention figure
    fix = tmp_path / "fix.csv"
    fix.write_text("partnership,indicator,period,value,numerator,denominator,note\n"
                   f"dudley,NTA.RET12,{Q1},71,,,corrected return\n")
    import_file(Store(url), fix)
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.show_indicator("NTA.RET12")
        await settle(app, pilot)
        text = detail(app)
        assert "NTA.RET12" in text and "71%" in text and "85% local" in text
        assert "Red" in text and "higher is better" in text
        assert "Targets" in text and "2007/08 local: 85%" in text
        assert "History" in text and "rev 1: 70" in text  # the replaced figure is kept
        # the scorecard's benchmark column is filled in after the first paint, from compare()
        from dat.core import services

        vs = services.compare(services.Store(url), "NTA.RET12", ["dudley"], period=Q1)["rows"][0]
        cells = dict(zip(row_keys(app, "#score-table"), table_rows(app, "#score-table"), strict=True))
        assert cells["NTA.RET12"][5] == fmt.bench_text(vs["vs_benchmark"])
        assert app.scorecard.bench["NTA.RET12"] == vs["vs_benchmark"]


@pytest.mark.anyio
async def test_trend_chart_comes_after_the_first_paint_and_shows_the_target(url, tmp_path):
    """The chart is put in after a refresh (plotext stays off the first paint), then draws
    the highlighted indicator's trend with its target."""
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        box = app.query_one("#trend")
        assert not box.children  # nothing of plotext in the first frames
        await open_dudley_q1(app, pilot)
        app.show_indicator("NTA.RET12")
        await settle(app, pilot)
        (chart,) = box.children
        drawn = chart.render()
        assert "trend and target 85%" in getattr(drawn, "plain", str(drawn))


@pytest.mark.anyio
async def test_quitting_waits_for_a_file_being_written_not_for_reads(url, tmp_path):
    """``q`` ends the process without waiting for reads nobody will see; work that writes
    (``finish_on_quit``, as a report) is let finish (cli/tui/quick.py)."""
    import threading
    import time

    from dat.cli.tui.workers import wait_for_writes

    read_done, started = threading.Event(), threading.Event()
    out = tmp_path / "written.txt"

    def write() -> None:
        started.set()
        time.sleep(0.5)
        out.write_text("done")

    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.run_thread(lambda: read_done.wait(5), failure="read", group="r", exclusive=False)
        app.run_thread(write, failure="write", group="w", exclusive=False, finish_on_quit=True)
        for _ in range(200):  # the workers start from the event loop: let it run
            if started.is_set():
                break
            await pilot.pause(0.05)
        assert started.is_set()
        await pilot.press("q")
    began = time.monotonic()
    wait_for_writes()
    assert out.read_text() == "done"
    assert time.monotonic() - began < 3 and not read_done.is_set()
    read_done.set()


@pytest.mark.anyio
async def test_detail_follows_the_cursor(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        table = app.query_one("#score-table", DataTable)
        table.focus()
        await pilot.press("down")
        await settle(app, pilot)
        code = cursor_key(app, "#score-table")
        assert app.detail.code == code
        assert detail(app).startswith(code)


# -- compare ---------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_compare_ranks_every_partnership_on_the_highlighted_indicator(url, tmp_path):
    from dat.core import services

    expected = services.compare(services.Store(url), "NTA.RET12")
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.show_indicator("NTA.RET12")
        await pilot.press("c")
        await settle(app, pilot)
        assert app.query_one("#tabs", TabbedContent).active == "compare"
        assert app.query_one("#compare-indicator", Select).value == "NTA.RET12"
        assert row_keys(app, "#compare-table") == [r["partnership"] for r in expected["rows"]]
        rows = {r[1]: r for r in table_rows(app, "#compare-table")}
        assert rows["Dudley"][0] == "1" and rows["Dudley"][2] == "70%"
        assert rows["Dudley"][5] == "85%" and rows["Dudley"][6] == "R Red"
        title = plain(app, "#compare-title")
        assert "NTA.RET12" in title and "ranked best first" in title
        # picking another indicator in the select reloads the ranking
        app.query_one("#compare-indicator", Select).value = "YP.HEALTHY_SCHOOLS_PCT"
        await settle(app, pilot)
        assert app.compare_tab.result["indicator"]["code"] == "YP.HEALTHY_SCHOOLS_PCT"
        assert ["Dudley", "57%"] == [c for c in table_rows(app, "#compare-table")[0][1:3]]


# -- palette -----------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_palette_jumps_to_partnership_indicator_and_template(url, tmp_path):
    from dat.cli.tui.palette import JumpProvider

    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        # through the real palette: a partnership ...
        await pilot.press("ctrl+p", *list("harin"))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.state.partnership == "haringey"
        # ... and a report template (renders for the partnership and period on show)
        app.select_partnership("dudley", Q1)
        await settle(app, pilot)
        await pilot.press("ctrl+p", *list("report sc"))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        written = tmp_path / "dudley-scorecard-2007-08_Q1.md"
        assert written.exists(), status(app)
        assert "70%" in written.read_text(encoding="utf-8")

        # the provider's best hit for an indicator, for each kind of jump
        provider = JumpProvider(app.screen)

        async def best(query: str):
            hits = [hit async for hit in provider.search(query)]
            assert hits, query
            return max(hits, key=lambda h: h.score)

        hit = await best("show ret12")
        assert "Show NTA.RET12" in hit.text
        hit.command()
        await settle(app, pilot)
        assert app.query_one("#tabs", TabbedContent).active == "scorecard"
        assert cursor_key(app, "#score-table") == "NTA.RET12"

        hit = await best("compare healthy_schools_pct")
        assert "Compare YP.HEALTHY_SCHOOLS_PCT" in hit.text
        hit.command()
        await settle(app, pilot)
        assert app.query_one("#tabs", TabbedContent).active == "compare"
        assert app.compare_tab.result["indicator"]["code"] == "YP.HEALTHY_SCHOOLS_PCT"
        discovered = [hit async for hit in provider.discover()]
        assert len(discovered) == len(app.partnerships)


# -- actions: report, export, help, theme, reload -----------------------------------------------------

@pytest.mark.anyio
async def test_report_dialog_writes_the_report_for_the_partnership_and_period(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        path_input = app.screen.query_one("#report-path", Input)
        assert path_input.value == str(tmp_path / "dudley-scorecard-2007-08_Q1.md")
        path_input.value = str(tmp_path / "q1.html")
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ReportScreen)
        html = (tmp_path / "q1.html").read_text(encoding="utf-8")
        assert "Dudley" in html and "70%" in html
        assert "Report written to" in status(app)
        # escape cancels without writing; an unknown suffix is a message, not a crash
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#report-path", Input).value = str(tmp_path / "q1.pdf")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "Report not written" in status(app) and ".pdf" in status(app)
        assert not (tmp_path / "q1.pdf").exists()


@pytest.mark.anyio
async def test_export_writes_the_table_on_screen_to_csv(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.query_one("#score-table", DataTable).focus()
        await pilot.press("f")  # only Red rows
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        path = tmp_path / "dudley-scorecard-2007-08_Q1.csv"
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert [r["code"] for r in rows] == row_keys(app, "#score-table")
        assert {r["rag"] for r in rows} == {"R"}
        ret = next(r for r in rows if r["code"] == "NTA.RET12")
        assert float(ret["value"]) == 70 and float(ret["target"]) == 85 and ret["target_kind"] == "local"
        assert f"Exported {len(rows)} rows" in status(app)

        await pilot.press("3")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        actions = list(csv.DictReader((tmp_path / "dudley-actions.csv").open(encoding="utf-8")))
        assert [a["ref"] for a in actions] == row_keys(app, "#action-table")


@pytest.mark.anyio
async def test_export_to_a_folder_that_cannot_be_written_is_a_message(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path / "missing" / "folder")
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        await pilot.press("1", "e")
        await pilot.pause()
        assert "Export failed" in status(app)


@pytest.mark.anyio
async def test_help_theme_tabs_and_reload_keep_the_cursor(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = plain(app.screen, "#help")
        for key in ("ctrl+p", "compare", "export", "RAG filter", "period", "clear every filter",
                    "reverse the sort", "copy the highlighted row", "row in full"):
            assert key in help_text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)

        dark = app.theme
        await pilot.press("t")
        assert app.theme == "textual-light" != dark
        await pilot.press("t")
        assert app.theme == "textual-dark"

        for key, tab in [("2", "funding"), ("3", "actions"), ("4", "compare"), ("1", "scorecard")]:
            await pilot.press(key)
            assert app.query_one("#tabs", TabbedContent).active == tab

        app.show_indicator("NTA.RET12")
        await pilot.pause()
        await pilot.press("f5")
        await settle(app, pilot)
        assert cursor_key(app, "#score-table") == "NTA.RET12"
        assert app.state.period == Q1


@pytest.mark.anyio
async def test_long_tables_fill_a_page_at_a_time_and_keep_the_cursor(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        n = PAGE * 2 + 17
        rows = [(f"row {i}",) * 9 for i in range(n)]
        keys = [f"K{i}" for i in range(n)]
        app.scorecard.table.fill(rows, keys)
        table = app.query_one("#score-table", DataTable)
        assert table.row_count == PAGE  # the first page paints at once
        await pilot.pause()
        await pilot.pause()
        await pilot.pause()
        assert table.row_count == n
        table.move_cursor(row=PAGE + 5)
        app.scorecard.table.fill(rows, keys)  # a refresh: same keys
        for _ in range(3):
            await pilot.pause()
        assert cursor_key(app, "#score-table") == f"K{PAGE + 5}"
        # a newer fill wins over pages still pending from an older one
        app.scorecard.table.fill(rows, keys)
        app.scorecard.table.fill(rows[:3], keys[:3])
        for _ in range(3):
            await pilot.pause()
        assert table.row_count == 3


# -- funding and actions --------------------------------------------------------------------------

@pytest.mark.anyio
async def test_funding_tab_lists_streams_with_shares_bars_and_total(url, tmp_path):
    from dat.core import services

    fund = services.funding(services.Store(url), "dudley")
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        rows = table_rows(app, "#fund-table")
        assert len(rows) == len(fund["lines"])
        for row, line in zip(rows, fund["lines"], strict=True):
            # a long stream name may be cut to the width (with an ellipsis); money never is
            assert row[0] == line["stream_name"] or (
                row[0].endswith("…") and line["stream_name"].startswith(row[0][:-1]))
            assert row[2] == fmt.fmt_money(line["amount"])
        total = plain(app, "#fund-total")
        if fund["total"] is not None:
            assert fmt.fmt_money(fund["total"]) in total
        else:
            assert "no" in total.lower()


# -- sort, filter, copy and detail on every table (issue 15, point 4) -------------------------------

async def click_header(pilot, app, table_id: str, column: int) -> None:
    """Click the header of ``column`` (its label's first character)."""
    table = app.query_one(table_id, DataTable)
    x = sum(c.get_render_width(table) for c in table.ordered_columns[:column]) + 1
    await pilot.click(table_id, offset=(x, 0))
    await pilot.pause()


def info(app, table_id: str) -> str:
    widget = app.query_one(f"{table_id}-info", Static)
    return plain(app, f"{table_id}-info") if widget.display else ""


@pytest.mark.anyio
async def test_sort_by_key_and_header_on_the_scorecard_survives_a_reload(url, tmp_path):
    card = scorecard(url, "dudley", Q1)
    by_code = {r["code"]: r for r in card["rows"]}
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.query_one("#score-table", DataTable).focus()
        await pilot.press("s")  # the first column: RAG, in R, A, G order, not rated last
        rags = [by_code[k]["rag"] for k in row_keys(app, "#score-table")]
        order = {"R": 0, "A": 1, "G": 2, None: 3}
        assert rags == sorted(rags, key=lambda r: order[r]) and rags[0] == "R" and None in rags
        assert "sorted by RAG ▲" in info(app, "#score-table") and "sorted by RAG" in status(app)
        await pilot.press("s", "s")  # Value: numbers as numbers (9 before 10), blanks last
        values = [by_code[k]["value"] for k in row_keys(app, "#score-table")]
        numbers = [v for v in values if v is not None]
        assert numbers == sorted(numbers) and len(numbers) > 3
        assert values[:len(numbers)] == numbers  # no value: last
        await pilot.press("S")  # reversed, no value still last
        values = [by_code[k]["value"] for k in row_keys(app, "#score-table")]
        assert [v for v in values if v is not None] == sorted(numbers, reverse=True)
        assert values[-1] is None
        # a click on a header sorts on it; a second click reverses
        names = sorted((r["name"].lower(), r["code"]) for r in card["rows"])
        await click_header(pilot, app, "#score-table", 1)  # Indicator
        assert [by_code[k]["name"].lower() for k in row_keys(app, "#score-table")] == [n for n, _ in names]
        await click_header(pilot, app, "#score-table", 1)
        assert [by_code[k]["name"].lower() for k in row_keys(app, "#score-table")] == [
            n for n, _ in reversed(names)]
        # the sort survives a reload and the cursor stays on its row
        app.show_indicator("NTA.RET12")
        await pilot.pause()
        before = row_keys(app, "#score-table")
        await pilot.press("f5")
        await settle(app, pilot)
        assert row_keys(app, "#score-table") == before
        assert cursor_key(app, "#score-table") == "NTA.RET12"
        # CSV export follows the order on show
        await pilot.press("e")
        with (tmp_path / "dudley-scorecard-2007-08_Q1.csv").open(newline="") as fh:
            assert [r["code"] for r in csv.DictReader(fh)] == before


@pytest.mark.anyio
async def test_sort_funding_actions_and_compare_by_value_not_text(url, tmp_path):
    from datetime import date

    from dat.core import services
    from dat.core.periods import parse_period

    store = services.Store(url)
    fund = {f"{l['stream']}|{l['line']}": l for l in services.funding(store, "bromley")["lines"]}
    acts = {a["ref"]: a for a in services.actions(store, "ne_lincs")["actions"]}
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.select_partnership("bromley")
        await settle(app, pilot)
        await pilot.press("2")
        await click_header(pilot, app, "#fund-table", 2)  # Amount, low to high
        amounts = [fund[k]["amount"] for k in row_keys(app, "#fund-table")]
        assert amounts == sorted(amounts) and len(amounts) == len(fund)
        assert "sorted by Amount ▲" in info(app, "#fund-table")
        labels = [c.label.plain for c in app.query_one("#fund-table", DataTable).ordered_columns]
        assert labels[:4] == ["Stream", "Line", "Amount ▲", "Share"]  # the header says it too
        await pilot.press("S")
        assert [fund[k]["amount"] for k in row_keys(app, "#fund-table")] == sorted(amounts, reverse=True)
        assert app.query_one("#fund-table", DataTable).ordered_columns[2].label.plain == "Amount ▼"

        app.select_partnership("ne_lincs")
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.press(*"sssss")  # the fifth column, Due: in time, whatever its form
        assert "sorted by Due ▲" in info(app, "#action-table")

        def when(due: str) -> int:
            try:
                return date.fromisoformat(due).toordinal()
            except ValueError:
                return parse_period(due).end.toordinal()

        dues = [acts[k]["due"] for k in row_keys(app, "#action-table")]
        given = [d for d in dues if d]
        assert {"2003/04", "2006-03-31"} <= set(given)  # mixed forms, one order
        assert [when(d) for d in given] == sorted(when(d) for d in given)
        assert dues[len(given):] == [None] * (len(dues) - len(given))  # no date: last

        await pilot.press("c")  # nothing highlighted: the indicator picker
        app.compare_indicator("FIN.MA_SHARE")
        await settle(app, pilot)
        await click_header(pilot, app, "#compare-table", 2)  # Value
        await click_header(pilot, app, "#compare-table", 2)  # high to low
        rows = {r["partnership"]: r for r in services.compare(store, "FIN.MA_SHARE")["rows"]}
        values = [rows[k]["value"] for k in row_keys(app, "#compare-table")]
        assert values == sorted(values, reverse=True) and len(values) >= 2


@pytest.mark.anyio
async def test_slash_filters_the_table_on_show_and_filters_belong_to_a_tab(url, tmp_path):
    from dat.core import services

    store = services.Store(url)
    lines = services.funding(store, "bromley")["lines"]
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.select_partnership("bromley")
        await settle(app, pilot)
        await pilot.press("2", "slash")
        assert app.focused is app.query_one("#search", Input)
        assert app.query_one("#tabs", TabbedContent).active == "funding"  # stays on funding
        await pilot.press(*list("pct"), "enter")
        await pilot.pause()
        wanted = [f"{l['stream']}|{l['line']}" for l in lines if "pct" in
                  " ".join(str(v or "") for v in (l["stream_name"], l["line"], l["banked_by"],
                                                  l["used_for"])).lower()]
        assert 0 < len(wanted) < len(lines)
        assert row_keys(app, "#fund-table") == wanted
        assert app.focused is app.query_one("#fund-table", DataTable)
        said = f"{len(wanted)} of {len(lines)} lines shown · filter: 'pct'"
        assert said in info(app, "#fund-table") and said in status(app)

        # the scorecard has its own filter (none): the box follows the tab
        await pilot.press("1")
        await pilot.pause()
        assert app.query_one("#search", Input).value == ""
        assert info(app, "#score-table") == ""
        assert len(row_keys(app, "#score-table")) == len(scorecard(url, "bromley")["rows"])
        await pilot.press("2")
        await pilot.pause()
        assert app.query_one("#search", Input).value == "pct"

        # another partnership keeps the tab's filter, and says so
        app.select_partnership("cheshire")
        await settle(app, pilot)
        assert "filter: 'pct'" in info(app, "#fund-table")
        assert "lines shown" in info(app, "#fund-table")

        # one key clears it
        app.query_one("#fund-table", DataTable).focus()
        await pilot.press("x")
        await pilot.pause()
        assert len(row_keys(app, "#fund-table")) == len(services.funding(store, "cheshire")["lines"])
        assert app.query_one("#search", Input).value == "" and info(app, "#fund-table") == ""

        # actions and compare filter on any cell too
        await pilot.press("3", "slash", *list("complete"), "enter")
        await pilot.pause()
        acts = services.actions(store, "cheshire")["actions"]
        done = [a["ref"] for a in acts if "complete" in " ".join(
            str(a[k] or "") for k in ("ref", "theme", "action", "lead", "due", "status")).lower()]
        assert row_keys(app, "#action-table") == done
        assert f"{len(done)} of {len(acts)} actions shown" in status(app)
        app.compare_indicator("FIN.MA_SHARE")
        await settle(app, pilot)
        await pilot.press("slash", *list("halton"), "enter")
        await pilot.pause()
        assert row_keys(app, "#compare-table") == ["halton"]
        assert "1 of 2 partnerships shown · filter: 'halton'" in status(app)


@pytest.mark.anyio
async def test_scorecard_red_and_search_say_how_many_are_shown_and_x_clears_both(url, tmp_path):
    card = scorecard(url, "dudley", Q1)
    n = len(card["rows"])
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.query_one("#score-table", DataTable).focus()
        await pilot.press("f")  # Red
        reds = [r["code"] for r in card["rows"] if r["rag"] == "R"]
        assert f"{len(reds)} of {n} figures shown · filter: Red" in status(app)
        assert f"{n} figures" not in status(app).replace(f"of {n} figures", "")
        await pilot.press("slash", *list("ret"), "enter")
        await pilot.pause()
        assert row_keys(app, "#score-table") == ["NTA.RET12"]
        assert f"1 of {n} figures shown · filter: Red and 'ret'" in status(app)
        # another period keeps the filter, and the status line says how many it shows
        other = next(p for p in card["periods_available"] if p != Q1)
        app.query_one("#period", Select).value = other
        await settle(app, pilot)
        other_card = scorecard(url, "dudley", other)
        shown = [r for r in other_card["rows"] if r["rag"] == "R" and "ret" in
                 (r["code"] + r["name"]).lower()]
        assert f"{len(shown)} of {len(other_card['rows'])} figures shown · filter: Red and 'ret'" in status(app)
        app.query_one("#score-table", DataTable).focus()
        await pilot.press("x")  # one press clears both
        await pilot.pause()
        assert app.scorecard.rag_filter == "all" and app.query_one("#rag", Select).value == "all"
        assert app.query_one("#search", Input).value == ""
        assert len(row_keys(app, "#score-table")) == len(other_card["rows"])


@pytest.mark.anyio
async def test_copy_a_row_or_a_cell_to_the_clipboard_and_a_file(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        app.show_indicator("NTA.RET12")
        await pilot.pause()
        await pilot.press("y")
        row = app.clipboard
        assert row.split("\t")[:3] == ["R Red", "Retained in treatment 12 weeks or more", "70%"]
        assert row.endswith("NTA.RET12")
        assert (tmp_path / "dat-clipboard.txt").read_text(encoding="utf-8") == row + "\n"
        assert "Copied row NTA.RET12" in status(app) and "dat-clipboard.txt" in status(app)
        await pilot.press("Y")  # the value
        assert app.clipboard == "70%"
        assert "Copied Value of NTA.RET12" in status(app)
        await pilot.press("s", "s", "s", "s")  # sorted on Target: Y copies the target
        app.show_indicator("NTA.RET12")
        await pilot.pause()
        await pilot.press("Y")
        assert app.clipboard == "85% local"

        app.select_partnership("bromley")
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("Y")
        assert app.clipboard == "£1,347,255"  # the amount of the largest line, in full
        assert (tmp_path / "dat-clipboard.txt").read_text(encoding="utf-8") == "£1,347,255\n"

        app.select_partnership("ne_lincs")
        await settle(app, pilot)
        await pilot.press("3")
        table = app.query_one("#action-table", DataTable)
        table.move_cursor(row=table.get_row_index("NAT-1"))
        await pilot.press("Y")  # the action's whole text, not the 60 characters on screen
        from dat.core import services

        nat = next(a for a in services.actions(services.Store(url), "ne_lincs")["actions"]
                   if a["ref"] == "NAT-1")
        assert app.clipboard == nat["action"] and len(nat["action"]) > 60
        await pilot.press("y")
        assert app.clipboard.split("\t")[:3] == ["NAT-1", nat["theme"], nat["action"]]

        app.compare_indicator("FIN.MA_SHARE")
        await settle(app, pilot)
        await pilot.press("y")
        assert app.clipboard.split("\t")[:3] == ["1", "Cheshire", "5%"]
        assert "Copied row cheshire" in status(app)


@pytest.mark.anyio
async def test_enter_shows_the_row_in_full_for_funding_actions_and_compare(url, tmp_path):
    from dat.cli.tui.widgets.table import RowDetailScreen
    from dat.core import services

    store = services.Store(url)
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.select_partnership("bromley")
        await settle(app, pilot)
        await pilot.press("2", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RowDetailScreen)
        text = plain(app.screen, "#row-detail-text")
        top = services.funding(store, "bromley")["lines"][0]
        for part in (top["stream_name"], "£1,347,255", "43.3% of the total £3,109,598",
                     "Funders " + ", ".join(top["funders"]), "Banked by", "Used for"):
            assert part in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RowDetailScreen)

        app.select_partnership("ne_lincs")
        await settle(app, pilot)
        nat = next(a for a in services.actions(store, "ne_lincs")["actions"] if a["ref"] == "NAT-1")
        await pilot.press("3")
        table = app.query_one("#action-table", DataTable)
        table.move_cursor(row=table.get_row_index("NAT-1"))
        await pilot.press("enter")
        await pilot.pause()
        text = plain(app.screen, "#row-detail-text")
        assert nat["action"] in text and len(nat["action"]) > 60  # the full text, not the cut one
        assert "Milestones" in text and str(nat["milestones"][-1]) in text
        assert "Due 2008-12-31" in text and "status planned" in text and "Dependencies: none" in text
        await pilot.press("escape")

        app.compare_indicator("FIN.MA_SHARE")
        await settle(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        text = plain(app.screen, "#row-detail-text")
        assert "Cheshire" in text and "Value 5%" in text and "Rank 1" in text
        assert "National benchmark" in text and "95% interval" in text and "RAG" in text
        await pilot.press("escape")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert "Halton" in plain(app.screen, "#row-detail-text")


def test_row_view_sorts_values_not_text_and_keeps_blanks_last():
    from dat.cli.tui.widgets.table import Row, RowView, period_order

    def row(key, value, period):
        return Row(key, (), (key, str(value)), (value, period_order(period)), [])

    view = RowView(columns=["k", "v"], rows=[
        row("a", 10, "2009/10"), row("b", None, None), row("c", 9, "2007/08 Q1"),
        row("d", 100, "2007/08")])
    view.sort_column = 0
    assert [r.key for r in view.visible()] == ["c", "a", "d", "b"]  # 9 < 10 < 100, blank last
    view.reverse = True
    assert [r.key for r in view.visible()] == ["d", "a", "c", "b"]
    view.sort_column, view.reverse = 1, False
    assert [r.key for r in view.visible()] == ["c", "d", "a", "b"]  # Q1 ends before its year
    view.text = "1"
    assert [r.key for r in view.visible()] == ["d", "a"]
    assert period_order("not a period") is None


# -- sizes, colour ---------------------------------------------------------------------------------

def shown(app, table_id: str) -> dict[str, int]:
    """The columns on show, key -> width; and the table needs no horizontal scrolling."""
    table = app.query_one(table_id, DataTable)
    assert table.max_scroll_x == 0, f"{table_id} scrolls sideways"
    return {c.key.value: c.width for c in table.ordered_columns}


def cells(app, table_id: str, key: str) -> list[str]:
    table = app.query_one(table_id, DataTable)
    return [str(getattr(c, "plain", c)).strip() for c in table.get_row(key)]


#: per size: the scorecard and action-plan columns that must be on show
MUST_SHOW = {
    (60, 15): ({"rag", "name", "value"}, {"action", "due", "status"}),
    SMALL: ({"rag", "name", "value", "target"}, {"action", "lead", "due", "status"}),
    BIG: ({"rag", "name", "value", "target", "travel", "bench", "trend"},
          {"action", "lead", "due", "status"}),
    (200, 60): ({"rag", "name", "value", "target", "travel", "bench", "trend", "period", "code"},
                {"ref", "theme", "action", "lead", "due", "status"}),
}


@pytest.mark.anyio
@pytest.mark.parametrize("size", list(MUST_SHOW), ids=lambda s: f"{s[0]}x{s[1]}")
async def test_tables_fit_the_terminal_without_cutting_money_or_rag(url, tmp_path, size):
    from dat.core import services

    store = services.Store(url)
    score_cols, action_cols = MUST_SHOW[size]
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=size) as pilot:
        await open_dudley_q1(app, pilot)
        cols = shown(app, "#score-table")
        assert score_cols <= set(cols), cols
        assert app.query_one("#score-table", DataTable).size.height >= 3  # the table shows
        ret = dict(zip(cols, cells(app, "#score-table", "NTA.RET12"), strict=True))
        assert ret["rag"] == "R Red" and ret["value"] == "70%"
        names = [r["name"] for r in scorecard(url, "dudley", Q1)["rows"]]
        if size == (200, 60):  # the name column widens (about 33 before widths were fitted)
            assert cols["name"] >= 45
            assert sum(len(n) <= cols["name"] for n in names) >= 0.75 * len(names)
            assert ret["name"] == "Retained in treatment 12 weeks or more"
            # names in the tree are not cut (26 characters before)
            tree = app.query_one("#areas", Tree)
            lines = ["".join(seg.text for seg in tree.render_line(y)) for y in range(tree.size.height)]
            assert any("Cheshire West and Chester" in line for line in lines), lines
        else:
            assert ret["name"].rstrip("…") and "Retained in treatment 12 weeks or more".startswith(
                ret["name"].rstrip("…"))
        # funding: every amount whole (today's "£1,3" at 120 columns)
        app.select_partnership("bromley", "2009/10")
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        cols = shown(app, "#fund-table")
        assert "amount" in cols and "stream" in cols
        fund = services.funding(store, "bromley", "2009/10")
        at = list(cols).index("amount")
        amounts = [r[at] for r in table_rows(app, "#fund-table")]
        assert amounts == [fmt.fmt_money(line["amount"]) for line in fund["lines"]]
        # the action plan: lead, due date and status on screen
        app.select_partnership("ne_lincs")
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        cols = shown(app, "#action-table")
        assert action_cols <= set(cols), cols
        assert app.query_one("#action-table", DataTable).size.height >= 3


@pytest.mark.anyio
async def test_columns_are_fitted_again_on_resize(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await open_dudley_q1(app, pilot)
        assert {"period", "code"} <= set(shown(app, "#score-table"))
        await pilot.resize_terminal(60, 15)
        await settle(app, pilot)
        cols = shown(app, "#score-table")
        assert {"rag", "name", "value"} <= set(cols) and "code" not in cols
        assert app.query_one("#score-table", DataTable).size.height >= 3
        await pilot.resize_terminal(*BIG)
        await settle(app, pilot)
        assert {"travel", "bench", "trend"} <= set(shown(app, "#score-table"))
        # a cell filled in later (the benchmarks) lands in the right column
        assert "NTA.RET12" in row_keys(app, "#score-table")


@pytest.mark.anyio
async def test_actions_status_filter_overdue_marks_and_one_date_format(url, tmp_path):
    from dat.core import services

    plan = services.actions(services.Store(url), "ne_lincs")
    overdue = [a["ref"] for a in plan["actions"] if a["overdue"]]
    assert overdue, "NE Lincs' plan has actions past their due date"
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        app.select_partnership("ne_lincs")
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        cols = list(shown(app, "#action-table"))
        rows = {k: dict(zip(cols, cells(app, "#action-table", k), strict=True))
                for k in row_keys(app, "#action-table")}
        assert len(rows) == len(plan["actions"])
        for a in plan["actions"]:
            assert rows[a["ref"]]["status"].startswith("⚠") == a["overdue"], a["ref"]
        assert rows["TP-01"]["due"] == "31 Mar 2004"  # recorded as 2003/04
        assert rows["TP-05"]["due"] == "31 Oct 2003"  # recorded as 2003-10-31
        assert not any("/" in r["due"] for r in rows.values())
        # the status filter: overdue, then not done, then all again
        sel = app.query_one("#action-status", Select)
        sel.value = "overdue"
        await settle(app, pilot)
        assert row_keys(app, "#action-table") == overdue
        assert f"{len(overdue)} of {len(plan['actions'])} actions" in plain(app, "#action-count")
        assert {v for _label, v in sel._options} >= {"all", "not done", "overdue", "planned"}
        sel.value = "all"
        await settle(app, pilot)
        assert len(row_keys(app, "#action-table")) == len(plan["actions"])

@pytest.mark.anyio
async def test_80x24_keeps_the_essentials_on_screen(url, tmp_path):
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await open_dudley_q1(app, pilot)
        assert app.screen.has_class("-narrow") and app.screen.has_class("-short")
        assert app.query_one("#trend").display is False  # the text trend stays
        table = app.query_one("#score-table", DataTable)
        assert table.size.height >= 5 and table.region.right <= 80
        assert app.query_one("#status").region.bottom <= 24
        app.show_indicator("NTA.RET12")
        await settle(app, pilot)
        assert "85% local" in detail(app)


@pytest.mark.anyio
async def test_no_color_still_says_red_in_words(url, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = DatApp(url, out_dir=tmp_path)
    assert app.no_color
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        rendered = {k: r for k, r in zip(row_keys(app, "#score-table"), table_rows(app, "#score-table"), strict=True)}
        assert rendered["NTA.RET12"][0] == "R Red"
        assert rendered["NTA.RET12"][4] == "–" or rendered["NTA.RET12"][4]  # travel is words/arrows


# -- failures: messages, never tracebacks ---------------------------------------------------------

@pytest.mark.anyio
async def test_empty_database_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("DAT_LOAD_PLUGINS", "")  # built-ins only: no partnerships
    app = DatApp(f"sqlite:///{tmp_path / 'empty.sqlite3'}", out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert "no partnerships" in status(app)
        await pilot.press("r")
        await pilot.press("e")
        await pilot.press("c")
        await pilot.press("f5")
        await settle(app, pilot)
        assert app.is_running


@pytest.mark.anyio
async def test_partnership_without_figures_for_the_period_says_so(url, tmp_path):
    from dat.core import services

    latest = services.has_figures(services.Store(url))
    empty = sorted(s for s, has in latest.items() if not has)
    app = DatApp(url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        if empty:
            app.select_partnership(empty[0])
            await settle(app, pilot)
            assert "no figures recorded" in status(app)
            assert "no figures recorded" in detail(app)
        app.select_partnership("dudley", "2003/04")  # a year Dudley has nothing for
        await settle(app, pilot)
        assert "no figures for dudley in 2003/04" in status(app)
        assert row_keys(app, "#score-table") == []


@pytest.mark.anyio
async def test_a_plugin_that_failed_to_load_is_reported(fixture_plugins, tmp_path):
    fixture_plugins({"broken": "broken_import"})
    app = DatApp(f"sqlite:///{tmp_path / 'broken.sqlite3'}", out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert "with problems: dat plugins" in status(app)
        assert any("broken" in n.message for n in app._notifications)
        assert app.scorecard.card["rows"]  # the rest keeps working


@pytest.mark.anyio
async def test_a_database_that_cannot_be_opened_is_a_message(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    app = DatApp(f"sqlite:///{tmp_path / 'a-file' / 'x.sqlite3'}", out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        assert "Cannot open the database" in status(app)
        await pilot.press("f5")
        await settle(app, pilot)
        assert "Cannot open the database" in status(app)


@pytest.mark.anyio
async def test_a_database_that_goes_away_is_a_message(db_url, tmp_path):
    from dat.core.db import dispose_engines

    app = DatApp(db_url, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await open_dudley_q1(app, pilot)
        assert row_keys(app, "#score-table")
        dispose_engines()
        if db_url.startswith("sqlite"):
            shutil.rmtree(Path(db_url.removeprefix("sqlite:///")).parent)
        else:
            from conftest import _pg_admin

            base, name = db_url.rsplit("/", 1)
            _pg_admin(base + "/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await pilot.press("f5")  # reopens the database: its error, and no stale figures
        await settle(app, pilot)
        assert "Cannot open the database" in status(app)
        assert row_keys(app, "#score-table") == []
        assert "Cannot open the database" in detail(app)
        app.compare_indicator("NTA.RET12")
        await settle(app, pilot)
        assert "Cannot compare NTA.RET12" in status(app)
        assert app.is_running


# -- the "done when": a new user's journey, keyboard only -------------------------------------

@pytest.mark.anyio
async def test_new_user_journey_keyboard_only(tmp_path):
    """On the embedded default database (created on first use in the user data folder): Bromley's
    2009/10 funding total, Dudley's Red retention indicator and its target, and a ranked
    comparison of one indicator, from the default start, with key presses only."""
    app = DatApp(None, out_dir=tmp_path)
    async with app.run_test(size=BIG) as pilot:
        await settle(app, pilot)
        tree = app.query_one("#areas", Tree)

        async def go_to(slug: str) -> None:
            await pilot.press("a")  # to the partnerships tree
            steps = app.areas.nodes[slug].line - tree.cursor_line
            await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
            await settle(app, pilot)

        # 1. Bromley, 2009/10, Funding tab: the total
        await go_to("bromley")
        assert app.state.partnership == "bromley"
        await pilot.press("p", "enter", *list("2009/10"), "enter")
        await settle(app, pilot)
        assert app.state.period == "2009/10"
        await pilot.press("2")
        await pilot.pause()
        assert "Total 2009/10: £3,109,598" in plain(app, "#fund-total")

        # 2. Dudley, 2007/08 Q1, only Red: retention 70% against its 85% target
        await go_to("dudley")
        assert app.state.partnership == "dudley"
        await pilot.press("p", "enter", "Q", "1", "enter")
        await settle(app, pilot)
        await pilot.press("f")  # Red only
        await pilot.press("slash", *list("retained"), "enter")
        await settle(app, pilot)
        assert row_keys(app, "#score-table") == ["NTA.RET12"]
        row = table_rows(app, "#score-table")[0]
        assert row[0] == "R Red" and row[2] == "70%" and row[3] == "85% local"
        assert "85% local" in detail(app) and "Red" in detail(app)

        # 3. compare it across partnerships: a ranked table
        await pilot.press("c")
        await settle(app, pilot)
        assert app.query_one("#tabs", TabbedContent).active == "compare"
        ranked = table_rows(app, "#compare-table")
        assert ranked[0][0] == "1" and ranked[0][1] == "Dudley"
        ranks = [int(r[0]) for r in ranked if r[0].isdigit()]
        assert ranks == sorted(ranks)


# -- snapshots of the main screens (fixed size, fixed data) -----------------------------------------

def _snap_app(url: str, tmp_path: Path, slug: str, period: str | None, tab: str = "scorecard",
              indicator: str | None = None):
    app = DatApp(url, out_dir=tmp_path)

    async def before(pilot):
        await settle(app, pilot)
        app.select_partnership(slug, period)
        await settle(app, pilot)
        if indicator:
            app.show_indicator(indicator)
        if tab == "compare" and indicator:
            app.compare_indicator(indicator)
        elif tab != "scorecard":
            app.action_tab(tab)
        await settle(app, pilot)
        app.clear_notifications()
        await pilot.pause()

    return app, before


def test_snapshot_scorecard_with_detail(url, tmp_path, snap_compare):
    app, before = _snap_app(url, tmp_path, "dudley", Q1, indicator="NTA.RET12")
    assert snap_compare(app, terminal_size=BIG, run_before=before)


def test_snapshot_funding(url, tmp_path, snap_compare):
    app, before = _snap_app(url, tmp_path, "bromley", "2009/10", tab="funding")
    assert snap_compare(app, terminal_size=BIG, run_before=before)


def test_snapshot_compare(url, tmp_path, snap_compare):
    app, before = _snap_app(url, tmp_path, "dudley", Q1, tab="compare", indicator="NTA.RET12")
    assert snap_compare(app, terminal_size=BIG, run_before=before)


def test_snapshot_scorecard_80x24(url, tmp_path, snap_compare):
    app, before = _snap_app(url, tmp_path, "dudley", Q1, indicator="NTA.RET12")
    assert snap_compare(app, terminal_size=SMALL, run_before=before)


# -- formatting (no app) ------------------------------------------------------------------------------

def test_formatting_helpers():
    assert fmt.fmt_money(Decimal("3109598.00")) == "£3,109,598"
    assert fmt.fmt_money(Decimal("40000.5")) == "£40,000.50"
    assert fmt.fmt_money(None) == "not stated"
    assert fmt.fmt_num(70.0, "percent") == "70%"
    assert fmt.fmt_num(2202) == "2,202"
    assert fmt.fmt_num(0.6, "percent") == "0.6%"
    assert fmt.fmt_num(None) == ""
    assert fmt.fmt_pct(0.433) == "43.3%"
    assert fmt.sparkline([1, 2, 3]) == "▁▅█"
    assert fmt.sparkline([5]) == "" and fmt.sparkline([None, 4]) == ""
    assert fmt.bar(50, 100, width=10) == "█████" and fmt.bar(None, 100) == ""
    assert fmt.bar(1, 16, width=16) == "█"
    assert str(fmt.rag_cell("R").plain).strip() == "R Red" and fmt.rag_cell(None).plain == "–"
    assert fmt.arrow("improved") == "▲ better" and fmt.arrow("worsened") == "▼ worse"
    assert fmt.bench_text("worse") == "▼ worse" and fmt.bench_text(None) == "–"
    row = {"value": 70.0, "unit": "percent", "target": 85.0, "target_kind": "local"}
    assert fmt.value_text(row) == "70%" and fmt.target_text(row) == "85% local"
    assert fmt.one_line(ValueError("first\nsecond")) == "first"


def test_dat_help_does_not_import_textual():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom dat.cli.main import cli\n"
            "r = CliRunner().invoke(cli, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "assert 'tui' in r.output\n"
            "bad = [m for m in ('textual', 'dat.cli.tui.app') if m in sys.modules]\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
