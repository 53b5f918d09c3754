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
import threading
from typing import Any


def run_then_exit(app: Any, *, exit_process: bool = False) -> int:
    """Run ``app`` (a Textual App) until it quits; its exit status. With ``exit_process`` the
    process ends right there (``os._exit``), once files being written are written."""
    from dat.cli.tui.workers import wait_for_writes

    loop = asyncio.new_event_loop()
    _end_on_signals(app, loop)
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


#: the signals that end the app as ``q`` does (the terminal closed, or the process was told to
#: stop); a second one, or an app that has not closed within GRACE seconds, ends the process
HANGUPS = ("SIGHUP", "SIGTERM")
GRACE = 3.0


def _end_on_signals(app: Any, loop: asyncio.AbstractEventLoop) -> None:
    """SIGHUP (the terminal went away: a closed window, a killed tmux) and SIGTERM close the
    app on its own loop, with exit status 128 + the signal. Without this the CLI's handler
    raised inside Textual's loop, which swallowed it, and the app went on polling a terminal
    that no longer existed, at a fifth of a core, until killed. An app that has not closed
    within GRACE seconds is ended there (os._exit)."""
    import signal

    def stop(signum: int) -> None:
        status = 128 + signum
        for name in HANGUPS:  # a second signal, or an exit that hangs, ends the process now
            sig = getattr(signal, name, None)
            if sig is not None:
                loop.add_signal_handler(sig, os._exit, status)
        # a thread, not the loop: with its terminal gone Textual's shutdown can block the loop
        # for good (its writer queue full, seen in tmux), and then no callback of it runs
        timer = threading.Timer(GRACE, os._exit, (status,))
        timer.daemon = True
        timer.start()
        app.exit(return_code=status)

    for name in HANGUPS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, stop, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
