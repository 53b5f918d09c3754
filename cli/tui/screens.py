"""Modal screens of the TUI: the key list (``?``), the report dialog (``r``) and the question
before a file is replaced."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from dat.cli.tui.format import esc, file_name
from dat.cli.tui.keys import help_groups
from dat.cli.tui.widgets.pickers import Picker


class HelpScreen(ModalScreen[None]):
    """Every key, grouped (from :data:`dat.cli.tui.keys.KEYS`)."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        lines = ["[b]dat — keys[/b]"]
        for group, keys in help_groups():
            lines += ["", f"[b]{group}[/b]"]
            lines += [f"  [b]{key:>15}[/b]  {what}" for key, what in keys]
        lines += ["", "Press escape to close."]
        yield Static("\n".join(lines), id="help")


class ReportScreen(ModalScreen["tuple[str, str] | None"]):
    """Pick a template and a file name; dismisses with ``(template, path)`` or ``None``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, partnership: str, period: str | None, templates: list[dict],
                 out_dir: Path) -> None:
        super().__init__()
        self.partnership, self.period, self.out_dir = partnership, period, out_dir
        self.templates = templates or [{"name": "scorecard", "title": "Scorecard"}]

    def compose(self) -> ComposeResult:
        first = self.templates[0]["name"]
        with Vertical(id="report-box"):
            yield Label(f"Report for {self.partnership}, {self.period or 'latest period'}",
                        classes="pane-title")
            yield Picker([(f"{t['title']} ({t['name']})", t["name"]) for t in self.templates],
                         value=first, allow_blank=False, id="report-template")
            yield Input(str(self.default_path(first)), id="report-path")
            yield Static("Format from the suffix: .md .html .docx .xlsx.  "
                         "Enter writes, escape cancels.", classes="hint")

    def default_path(self, template: str) -> Path:
        return self.out_dir / file_name(self.partnership, template, self.period or "latest", suffix=".md")

    def on_mount(self) -> None:
        self.query_one("#report-path", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        path = self.query_one("#report-path", Input)
        old = Path(path.value)
        new = self.default_path(str(event.value))
        path.value = str(new.with_suffix(old.suffix or ".md"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.notify("Give a file name.", severity="warning")
            return
        self.dismiss((str(self.query_one("#report-template", Select).value), value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Replace a file that exists? The whole path is shown; ``y`` or ``enter`` replaces it,
    ``n`` or ``escape`` keeps it. Dismisses with ``True`` to replace."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Replace"),
                Binding("n,escape", "answer(False)", "Keep it")]

    def __init__(self, path: Path, what: str = "file") -> None:
        super().__init__()
        self.path, self.what = path, what

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(f"[b]Replace the {esc(self.what)}?[/b]\n\n{esc(str(self.path))}\n\n"
                         "exists already.  y or enter replaces it, n or escape keeps it.",
                         id="confirm-text")

    def action_answer(self, replace: bool) -> None:
        self.dismiss(replace)
