"""Command palette (ctrl+p): jump to any partnership, indicator or report template."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:  # pragma: no cover
    from dat.cli.tui.app import DatApp


class JumpProvider(Provider):
    """Partnerships (open the scorecard), indicators of the open scorecard (show the row),
    every indicator (compare across partnerships) and templates (render a report)."""

    def _commands(self) -> Iterator[tuple[str, object, str]]:
        app: DatApp = self.app  # type: ignore[assignment]
        for p in app.partnerships:
            yield (f"Partnership {p['name']} ({p['slug']})",
                   partial(app.open_partnership, p["slug"]), "open its scorecard")
        for row in (app.scorecard.card["rows"] if app.scorecard.card else []):
            yield (f"Show {row['code']} {row['name']}", partial(app.show_indicator, row["code"]),
                   f"the {row['code']} row of {app.state.partnership}'s scorecard")
        for ind in app.indicators:
            yield (f"Compare {ind['code']} {ind['name']}", partial(app.compare_indicator, ind["code"]),
                   "rank every partnership on it")
        for t in app.templates:
            yield (f"Report {t['title']} ({t['name']})", partial(app.render_report, t["name"]),
                   "render it for the current partnership and period")

    async def discover(self) -> Hits:
        app: DatApp = self.app  # type: ignore[assignment]
        for p in app.partnerships:
            yield DiscoveryHit(f"Partnership {p['name']} ({p['slug']})",
                               partial(app.open_partnership, p["slug"]), help="open its scorecard")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)  # type: ignore[arg-type]
