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
        for key in ("ctrl+p", "compare", "export", "RAG filter", "period"):
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
            assert row[0] == line["stream_name"]
            assert row[2] == fmt.fmt_money(line["amount"])
        total = plain(app, "#fund-total")
        if fund["total"] is not None:
            assert fmt.fmt_money(fund["total"]) in total
        else:
            assert "no" in total.lower()


# -- sizes, colour ---------------------------------------------------------------------------------

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
