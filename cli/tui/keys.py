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
    #: a priority binding works even where a text field would take the key (ctrl+q)
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.description, show=self.show,
                       key_display=self.key_display, priority=self.priority)


#: in the help screen's order. The footer shows the keys with ``show`` in ``order``, one key
#: per action (the first that works where the focus is): Quit and Help first, so a narrow
#: terminal (80 columns) cuts the least used keys, never Quit; while a text field or a picker
#: takes the letters, ``^q Quit`` and ``F1 Help`` stand in for ``q`` and ``?``. Letter keys
#: never fire there: typing goes to the field (see :class:`dat.cli.tui.widgets.pickers.Picker`).
KEYS: tuple[Key, ...] = (
    Key(MOVING, "a", "go to the partnerships tree (↑ ↓ move, enter opens the partnership)",
        keys="a", action="focus_tree", description="Tree", order=5),
    Key(MOVING, "1 2 3 4", "Scorecard, Funding, Actions, Compare tabs (the footer's 1–4)",
        keys="1", action="tab('scorecard')", description="Tabs", order=6, key_display="1–4"),
    Key(MOVING, "2", None, keys="2", action="tab('funding')", description="Funding", order=20, show=False),
    Key(MOVING, "3", None, keys="3", action="tab('actions')", description="Actions", order=21, show=False),
    Key(MOVING, "4", None,
        keys="4", action="tab('compare')", description="Compare tab", order=22, show=False),
    Key(MOVING, "[ ]", "previous / next tab",
        keys="left_square_bracket", action="step_tab(-1)", description="Previous tab", order=23,
        show=False),
    Key(MOVING, "]", None,
        keys="right_square_bracket", action="step_tab(1)", description="Next tab", order=24, show=False),
    Key(MOVING, "tab / shift+tab", "move between the tree, the controls and the tables"),
    Key(MOVING, "↑ ↓ enter", "move in the tree or a table; enter opens the partnership"),
    Key(MOVING, "ctrl+p", "command palette: jump to a partnership, an indicator or a report"),
    Key(FILTERING, "p", "choose the period (type part of it to jump there)",
        keys="p", action="focus_period", description="Period", order=7),
    Key(FILTERING, "f", "cycle the scorecard's RAG filter: all, Red, Amber, Green, not rated (x clears)",
        keys="f", action="cycle_rag", description="RAG", order=8),
    Key(FILTERING, "/", "filter the table on show: text in any cell (the scorecard: code or name); "
        "enter returns to the table",
        keys="slash", action="focus_search", description="Filter", order=9, key_display="/"),
    Key(FILTERING, "x", "clear every filter of the tab on show (text, RAG on the scorecard, status on actions)",
        keys="x", action="clear_filters", description="Clear", order=25, show=False),
    Key(FILTERING, "s", "sort on the next column (a click on a header sorts on it; again reverses)",
        keys="s", action="sort", description="Sort", order=26, show=False),
    Key(FILTERING, "S", "reverse the sort",
        keys="S", action="sort(True)", description="Reverse sort", order=27, show=False),
    Key(DOING, "enter", "the highlighted row in full (funding, actions, compare)"),
    Key(DOING, "y", "copy the highlighted row (to the clipboard and dat-clipboard.txt)",
        keys="y", action="copy('row')", description="Copy row", order=28, show=False),
    Key(DOING, "Y", "copy one cell: the column sorted on, else the value (action text on actions)",
        keys="Y", action="copy('cell')", description="Copy cell", order=29, show=False),
    Key(DOING, "c", "compare the highlighted indicator across partnerships",
        keys="c", action="compare_current", description="Compare", order=10),
    Key(DOING, "r", "render a report for this partnership and period to a file",
        keys="r", action="report", description="Report", order=11),
    Key(DOING, "e", "export the table on screen to a CSV file (asks before replacing one)",
        keys="e", action="export_table", description="CSV", order=12),
    Key(DOING, "ctrl+c", "copy the highlighted row (tab-separated; also to dat-clipboard.txt)",
        keys="ctrl+c", action="copy('row')", description="Copy", order=13, key_display="^c"),
    Key(DOING, "F5", "reopen the database and reload",
        keys="f5,ctrl+r", action="reload", description="Reload", order=14, key_display="F5"),
    Key(DOING, "t", "switch between the light and dark theme",
        keys="t", action="toggle_theme", description="Theme", order=15),
    Key(DOING, "? F1", "this help",
        keys="question_mark", action="help", description="Help", order=3, key_display="?"),
    Key(DOING, "F1", None, keys="f1", action="help", description="Help", order=4, key_display="F1"),
    Key(DOING, "q ctrl+q", "quit",
        keys="q", action="quit", description="Quit", order=1),
    # shown too: where q is typed into a field, the footer shows ^q Quit instead of q Quit
    Key(DOING, "ctrl+q", None,
        keys="ctrl+q", action="quit", description="Quit", order=2, key_display="^q", priority=True),
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
