"""Every key of the TUI, declared once: the App's ``BINDINGS`` (and so the footer) and the help
screen's key list (``?``) are both made from :data:`KEYS`."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

MOVING, FILTERING, DOING = "Moving around", "Filtering", "Doing"


@dataclass(frozen=True)
class Key:
    #: the help screen's section, and the key as it shows it
    group: str
    label: str
    #: what the key does, for the help screen; ``None`` when a key above tells it too
    help: str | None
    #: the binding (keys, action, the footer's short name); no keys: a key Textual provides
    keys: str = ""
    action: str = ""
    description: str = ""
    #: place among the App's bindings, which is the footer's order
    order: int = 0
    show: bool = True
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.description, show=self.show,
                       key_display=self.key_display)


#: in the help screen's order
KEYS: tuple[Key, ...] = (
    Key(MOVING, "a", "go to the partnerships tree",
        keys="a", action="focus_tree", description="Partnerships", order=10, show=False),
    Key(MOVING, "tab / shift+tab", "move between the tree, the controls and the tables"),
    Key(MOVING, "↑ ↓ enter", "choose a partnership in the tree, a row in a table"),
    Key(MOVING, "1 2 3 4", "Scorecard, Funding, Actions, Compare tabs",
        keys="1", action="tab('scorecard')", description="Scorecard", order=11, show=False),
    Key(MOVING, "2", None, keys="2", action="tab('funding')", description="Funding", order=12, show=False),
    Key(MOVING, "3", None, keys="3", action="tab('actions')", description="Actions", order=13, show=False),
    Key(MOVING, "4", None,
        keys="4", action="tab('compare')", description="Compare tab", order=14, show=False),
    Key(MOVING, "ctrl+p", "command palette: jump to a partnership, an indicator or a report"),
    Key(FILTERING, "p", "choose the period",
        keys="p", action="focus_period", description="Period", order=2),
    Key(FILTERING, "f", "cycle the scorecard's RAG filter: all, Red, Amber, Green, not rated (x clears)",
        keys="f", action="cycle_rag", description="RAG", order=3),
    Key(FILTERING, "/", "filter the table on show: text in any cell (the scorecard: code or name); "
        "enter returns to the table",
        keys="slash", action="focus_search", description="Filter", order=4, key_display="/"),
    Key(FILTERING, "x", "clear every filter of the tab on show (text, and RAG on the scorecard)",
        keys="x", action="clear_filters", description="Clear", order=16, show=False),
    Key(FILTERING, "s", "sort on the next column (a click on a header sorts on it; again reverses)",
        keys="s", action="sort", description="Sort", order=17, show=False),
    Key(FILTERING, "S", "reverse the sort",
        keys="S", action="sort(True)", description="Reverse sort", order=18, show=False),
    Key(DOING, "enter", "the highlighted row in full (funding, actions, compare)"),
    Key(DOING, "y", "copy the highlighted row (to the clipboard and dat-clipboard.txt)",
        keys="y", action="copy('row')", description="Copy row", order=19, show=False),
    Key(DOING, "Y", "copy one cell: the column sorted on, else the value (action text on actions)",
        keys="Y", action="copy('cell')", description="Copy cell", order=20, show=False),
    Key(DOING, "c", "compare the highlighted indicator across partnerships",
        keys="c", action="compare_current", description="Compare", order=5),
    Key(DOING, "r", "render a report for this partnership and period to a file",
        keys="r", action="report", description="Report", order=6),
    Key(DOING, "e", "export the table on screen to a CSV file",
        keys="e", action="export_table", description="CSV", order=7),
    Key(DOING, "F5", "reload from the database",
        keys="f5,ctrl+r", action="reload", description="Reload", order=9, key_display="F5"),
    Key(DOING, "t", "switch between the light and dark theme",
        keys="t", action="toggle_theme", description="Theme", order=8),
    Key(DOING, "?", "this help;  q quits",
        keys="question_mark", action="help", description="Help", order=1, key_display="?"),
    Key(DOING, "q", None, keys="q", action="quit", description="Quit", order=15),
)

#: the App's key bindings
BINDINGS: list[BindingType] = [k.binding() for k in sorted((k for k in KEYS if k.keys), key=lambda k: k.order)]


def help_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(key, what it does)]) for the help screen, in :data:`KEYS` order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for k in KEYS:
        if k.help is not None:
            groups.setdefault(k.group, []).append((k.label, k.help))
    return list(groups.items())
