"""Starting and ending the app quickly (docs/performance.md, "TUI first paint" and "quit").

Quitting is the app closing its screens and giving the terminal back; after that nothing
the user waits for is left, yet a normal interpreter exit would wait for worker threads
still reading (a scorecard for a partnership nobody will look at) and then tear down every
imported module (SQLAlchemy, SQLModel, Textual: about 0.3 s). :func:`run_then_exit` runs
the app on its own event loop (so ``asyncio.run`` does not join the worker threads), waits
only for work that writes a file, flushes the output and ends the process at once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any


def run_then_exit(app: Any, *, exit_process: bool = False) -> int:
    """Run ``app`` (a Textual App) until it quits; its exit status. With ``exit_process`` the
    process ends right there (``os._exit``), once files being written are written."""
    from dat.cli.tui.workers import wait_for_writes

    loop = asyncio.new_event_loop()
    try:
        app.run(loop=loop)
    finally:
        wait_for_writes()
    status = app.return_code or 0
    if not exit_process:
        loop.close()
        return status
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    os._exit(status)
