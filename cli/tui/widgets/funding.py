"""The Funding tab: each funding line of a partnership for the financial year of the period on
show (or the latest year with funding), and the year's total under it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from dat.cli.tui.format import bar, esc, fmt_money, fmt_pct, right
from dat.cli.tui.messages import FundingLoaded
from dat.cli.tui.widgets.table import PagedTable, Row, SortFilterTab
from dat.cli.widths import Fit

if TYPE_CHECKING:
    from dat.core.services.types import FundingLine, FundingResult


#: the columns (cli/widths.py): the amount and share are never cut, the stream takes the spare
#: width, the bar and what a line is used for go first on a narrow screen
COLUMNS = [("Stream", "stream", Fit(priority=0, min=12, grow=True)),
           ("Line", "line", Fit(priority=1, min=8, grow=True)),
           ("Amount", "amount", Fit(priority=0, whole=True)),
           ("Share", "share", Fit(priority=1, whole=True)),
           ("", "bar", Fit(priority=4, whole=True)),
           ("Banked by", "banked_by", Fit(priority=3, min=8)),
           ("Used for", "used_for", Fit(priority=5, min=12))]


class FundingTab(SortFilterTab):
    TABLE_ID = "fund-table"
    NOUN = "lines"
    MAIN_COLUMN = 2  # Y copies the amount (or the column sorted on)

    def __init__(self) -> None:
        super().__init__("2 Funding", id="funding")
        self.slug: str | None = None
        self.funding: FundingResult | None = None
        #: the lines on show, by row key
        self.lines: dict[str, FundingLine] = {}

    def compose(self) -> ComposeResult:
        yield self.info_line()
        yield PagedTable(id=self.TABLE_ID)
        yield Static("", id="fund-total", classes="reason")

    def on_mount(self) -> None:
        self.set_columns(COLUMNS)

    def load(self, store: Any, slug: str, card_period: str | None) -> None:
        """``slug``'s funding for the financial year of ``card_period`` (the scorecard's)."""
        self.slug = slug
        self.run_thread(partial(self._load, store, slug, card_period), failure=f"Cannot load {slug}",
                        group="funding")

    def _load(self, store: Any, slug: str, card_period: str | None) -> None:
        from dat.core import services
        from dat.core.periods import parse_period

        year = str(parse_period(card_period).fy) if card_period else None
        fund = services.funding(store, slug, year)
        if not fund["lines"] and year is not None:
            fund = services.funding(store, slug)  # the latest year with funding
        self.post_result(FundingLoaded(slug, fund, card_period))

    @on(FundingLoaded)
    def _loaded(self, event: FundingLoaded) -> None:
        if event.slug == self.slug:
            self.funding = event.funding
            self.fill(event.card_period)

    def fill(self, card_period: str | None) -> None:
        fund: Mapping[str, Any] = self.funding or {"lines": [], "total": None}
        lines = fund["lines"]
        top = max((l["amount"] for l in lines if l["amount"] is not None), default=None)
        keys: list[str] = []
        for l in lines:
            key = f"{l['stream']}|{l['line']}"
            keys.append(key if key not in keys else f"{key}|{len(keys)}")
        self.lines = dict(zip(keys, lines, strict=True))
        rows = []
        for key, l in zip(keys, lines, strict=True):
            texts = (l["stream_name"], l["line"] or "", fmt_money(l["amount"]), fmt_pct(l["share"]),
                     "", l["banked_by"] or "", l["used_for"] or "")
            cells = (texts[0], texts[1], right(texts[2]), right(texts[3]), bar(l["amount"], top), texts[5],
                     texts[6])
            sort = (l["stream_name"], l["line"] or None, l["amount"], l["share"], l["amount"],
                    l["banked_by"], l["used_for"])
            record = [fund.get("year"), l["stream"], l["stream_name"], l["line"], l["amount"],
                      l["share"], l["banked_by"], l["used_for"]]
            rows.append(Row(key, cells, texts, sort, record))
        self.show_rows(rows, ["year", "stream", "stream_name", "line", "amount", "share",
                              "banked_by", "used_for"])
        if fund.get("total") is not None:
            text = f"Total {fund['year']}: [b]{fmt_money(fund['total'])}[/b]"
            if fund.get("change_pct") is not None:
                text += f"   change on {fund['previous_year']}: {fund['change_pct']:+.1f}%"
            if fund.get("cost_per_person") is not None:
                text += f"   per person in effective treatment: {fmt_money(fund['cost_per_person'])}"
            if card_period and fund["year"] and not card_period.startswith(fund["year"]):
                text += f"\n(no funding recorded for {card_period[:7]}: latest year shown)"
        else:
            text = (fund.get("reason") or "No amounts stated.").capitalize() + "."
        self.query_one("#fund-total", Static).update(text)

    def detail_text(self, key: str) -> str | None:
        """A funding line in full: stream, funders, who banks it, what for, amount and share."""
        l = self.lines.get(key)
        if l is None:
            return None
        fund: Mapping[str, Any] = self.funding or {}
        flags = [w for w, on in (("ring-fenced", l["ring_fenced"]), ("approximate", l["approximate"]),
                                 ("management and admin", l["management_admin"]),
                                 ("the document's total line", l["is_total"])) if on]
        lines = [
            f"[b]{esc(l['stream_name'])}[/b] ({esc(l['stream'])})" + (f" — {esc(l['line'])}" if l["line"] else ""),
            f"Year {esc(fund.get('year') or '–')}",
            f"Amount [b]{fmt_money(l['amount'])}[/b]"
            + (f", {fmt_pct(l['share'])} of the total {fmt_money(fund.get('total'))}"
               if l["share"] is not None else ""),
            f"Funders {esc(', '.join(l['funders']) or '–')}",
            f"Banked by {esc(l['banked_by'] or '–')}",
            f"Used for {esc(l['used_for'] or '–')}",
        ]
        if flags:
            lines.append("This line is " + ", ".join(flags) + ".")
        lines.append(f"Source {esc(l['source'] or '–')}")
        return "\n".join(lines)
