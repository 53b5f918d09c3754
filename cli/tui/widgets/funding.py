"""The Funding tab: each funding line of a partnership for the financial year of the period on
show (or the latest year with funding), and the year's total under it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from dat.cli.tui.format import bar, fmt_money, fmt_pct, right
from dat.cli.tui.messages import FundingLoaded
from dat.cli.tui.widgets.table import DataTab, PagedTable

if TYPE_CHECKING:
    from dat.core.services.types import FundingResult


class FundingTab(DataTab):
    TABLE_ID = "fund-table"

    def __init__(self) -> None:
        super().__init__("2 Funding", id="funding")
        self.slug: str | None = None
        self.funding: FundingResult | None = None

    def compose(self) -> ComposeResult:
        yield PagedTable(id=self.TABLE_ID)
        yield Static("", id="fund-total", classes="reason")

    def on_mount(self) -> None:
        self.table.add_columns("Stream", "Line", "Amount", "Share", "", "Banked by", "Used for")

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
        self.table.fill([(
            l["stream_name"], l["line"] or "", right(fmt_money(l["amount"])), right(fmt_pct(l["share"])),
            bar(l["amount"], top), l["banked_by"] or "", (l["used_for"] or "")[:50],
        ) for l in lines], keys)
        self.records = (
            ["year", "stream", "stream_name", "line", "amount", "share", "banked_by", "used_for"],
            [[fund.get("year"), l["stream"], l["stream_name"], l["line"], l["amount"],
              l["share"], l["banked_by"], l["used_for"]] for l in lines])
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
