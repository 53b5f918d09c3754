"""The panes of the TUI: each owns its state and its workers and talks to the App only through
the messages of :mod:`dat.cli.tui.messages`."""
