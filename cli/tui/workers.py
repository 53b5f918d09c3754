"""Work in threads for the App and its panes, and the one place a failed worker becomes UI.

A worker does not catch the errors it cannot do anything about: it raises, Textual marks it
``WorkerState.ERROR`` and :meth:`WorkerFailures.on_worker_state_changed` shows the error in a
notification and in the pane's text for failures (the status line, unless the pane has its
own). The worker's name is the headline of that error (``Cannot load dudley``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from dat.cli.tui.format import esc
from dat.cli.tui.messages import WorkFailed

if TYPE_CHECKING:  # a plain mixin at run time; for the type checker, a node that has workers
    from textual.dom import DOMNode as _Node
else:
    _Node = object


def describe(exc: BaseException) -> str:
    """An error as one line: a :class:`~dat.core.errors.DatError` is its own message (meant for
    the user), anything else is ``type: message``."""
    from dat.core.errors import DatError

    lines = str(exc).strip().splitlines()
    if isinstance(exc, DatError) and lines:
        return lines[0]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


#: one event per piece of work under way that must finish even when the app quits (writing
#: a file); it is set when the work ends (the threads are a pool's, so they outlive it)
_FINISHING: set[threading.Event] = set()


def wait_for_writes(timeout: float = 30) -> None:
    """After the app has quit: let the work started with ``finish_on_quit`` end. Everything
    else (reads whose results nobody will see) is abandoned, so ``q`` does not wait for it."""
    for done in list(_FINISHING):
        done.wait(timeout)


class WorkerFailures(_Node):
    """Mixin for the App and every pane that runs workers."""

    def run_thread(self, work: Callable[[], None], *, failure: str, group: str,
                   exclusive: bool = True, finish_on_quit: bool = False) -> Worker[None]:
        """Run ``work`` in a thread; if it raises, ``failure`` heads the error shown. An exclusive
        worker replaces the one still running in its group (whose results are then dropped).
        ``finish_on_quit``: quitting waits for it (:func:`wait_for_writes`): for work that
        writes."""
        if finish_on_quit:
            inner = work

            def work() -> None:
                done = threading.Event()
                _FINISHING.add(done)
                try:
                    inner()
                finally:
                    done.set()
                    _FINISHING.discard(done)

        return self.run_worker(work, name=failure, group=group, exclusive=exclusive, thread=True,
                               exit_on_error=False)

    def post_result(self, message: Message) -> None:
        """From a worker: hand its result to this node, unless a newer worker replaced it."""
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.is_cancelled or worker.error is None:
            return  # a replaced worker's error is as stale as its result would have been
        text = f"{worker.name}: {describe(worker.error)}"
        self.app.notify(esc(text), title="Problem", severity="error", timeout=8)
        self.show_failure(text)

    def show_failure(self, text: str) -> None:
        """Where this node shows a failure besides the notification: the status line."""
        self.post_message(WorkFailed(text))
