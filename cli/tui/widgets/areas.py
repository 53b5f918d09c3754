"""The partnerships tree (left): every partnership with its sub-areas nested under it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Tree
from textual.widgets.tree import TreeNode

from dat.cli.tui.messages import PartnershipChosen

if TYPE_CHECKING:
    from dat.core.services.types import PartnershipRow

#: the tree's width (dat.tcss) below WIDE_AT columns; from there it grows to fit the names,
#: up to a fifth of the screen
TREE_WIDTH, WIDE_AT = 28, 150


def tree_label(p: PartnershipRow, has_figures: bool):
    from rich.text import Text

    label = Text(p["name"])
    if p["depth"]:
        label.append(f" {p['area_type']}", style="dim")
    if not has_figures:
        label.stylize("dim")
        label.append(" ·", style="dim")
    return label


class AreasPane(Vertical):
    """Choosing a partnership (``enter``) posts :class:`PartnershipChosen`; moving the cursor
    with the arrows opens nothing. :meth:`follow` puts the cursor on the one the App shows."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.partnerships: list[PartnershipRow] = []
        #: partnership slug -> its node
        self.nodes: dict[str, TreeNode[str]] = {}
        #: the partnership on show (set by the App through follow)
        self.current: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("Partnerships", classes="pane-title")
        yield Tree("Partnerships", id="areas")

    def on_mount(self) -> None:
        tree = self.query_one("#areas", Tree)
        tree.show_root = False
        tree.guide_depth = 2

    def show_partnerships(self, partnerships: list[PartnershipRow]) -> None:
        """Fill the tree (sub-areas under their parent, expanded)."""
        self.partnerships = partnerships
        tree: Tree[str] = self.query_one("#areas", Tree)
        tree.clear()
        nodes = self.nodes = {}
        for p in partnerships:
            parent = nodes.get(p["parent"] or "", tree.root)
            label = tree_label(p, True)
            if p["sub_areas"]:
                node = parent.add(label, data=p["slug"], expand=True)
            else:
                node = parent.add_leaf(label, data=p["slug"])
            nodes[p["slug"]] = node
        self.fit_width(self.app.size.width)

    def fit_width(self, screen_width: int) -> None:
        """On a wide screen the tree is as wide as its longest label (with the guides), up to
        a fifth of the screen; on others dat.tcss decides (28, or 18 when narrow)."""
        if screen_width < WIDE_AT or not self.partnerships:
            self.styles.width = None
            return
        tree = self.query_one("#areas", Tree)
        longest = max(len(p["name"]) + (len(p["area_type"]) + 1 if p["depth"] else 0)
                      + (p["depth"] + 1) * tree.guide_depth + 2 for p in self.partnerships)
        # the expand sign, the border, the scrollbar
        self.styles.width = max(TREE_WIDTH, min(longest + 9, screen_width // 5))

    def mark(self, latest: dict[str, bool]) -> None:
        """Dim the partnerships that have no figures (``latest``: slug -> has figures)."""
        for p in self.partnerships:
            node = self.nodes.get(p["slug"])
            if node is not None and not latest.get(p["slug"]):
                node.set_label(tree_label(p, False))

    def follow(self, slug: str) -> None:
        """The App shows ``slug``: put the cursor on it."""
        self.current = slug
        self.query_one("#areas", Tree).call_after_refresh(self._sync_cursor)

    def focus_tree(self) -> None:
        self.query_one("#areas", Tree).focus()

    def _sync_cursor(self) -> None:
        """Put the tree's cursor on the partnership on show (after the tree has laid out)."""
        found = self.query("#areas")
        if not found:  # the app is closing
            return
        tree: Tree[Any] = found.first(Tree)
        node = self.nodes.get(self.current or "")
        if node is not None and tree.cursor_node is not node:
            tree.move_cursor(node, animate=False)

    @on(Tree.NodeSelected, "#areas")
    def _selected(self, event: Tree.NodeSelected) -> None:
        slug = event.node.data
        if slug:  # the one on show too: the App then moves to its scorecard
            self.post_message(PartnershipChosen(slug))
