"""``dat tui --serve``: the same app in a web browser, through textual-serve.

textual-serve runs a web server; each browser tab that opens its page gets its own ``dat
tui`` process, driven by Textual's web driver, whose screen the page draws with xterm.js.
The server listens on 127.0.0.1 only: the app reads and writes the database with the
rights of the person who started it, and the server has no log-in, so it is for the
browser on the same machine (reach it from elsewhere through an SSH tunnel, never by
binding another address; there is no option for that).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

#: the only address the server binds
HOST = "127.0.0.1"


def app_command(out_dir: str | Path) -> str:
    """The shell command textual-serve runs for each browser tab: this Python's ``dat tui``.
    The database and plugin settings travel in the environment (``DAT_DATABASE_URL``...),
    never on a command line that ``ps`` shows."""
    return shlex.join([sys.executable, "-m", "dat.cli.main", "tui", "--out-dir",
                       str(Path(out_dir).resolve())])


def serve(port: int, out_dir: str | Path, db_url: str | None, shown_url: str) -> None:
    """Serve ``dat tui`` on http://127.0.0.1:``port`` until interrupted."""
    import socket

    from textual_serve.server import Server

    from dat.core.errors import DatError

    url = f"http://{HOST}:{port}"
    try:  # a port that is taken (or not ours to bind) is said before the server starts
        with socket.socket() as probe:
            probe.bind((HOST, port))
    except OSError as exc:
        raise DatError(f"cannot serve on {url}: {(exc.strerror or str(exc)).lower()}; choose another "
                       "port with --port") from None
    if db_url is not None:
        os.environ["DAT_DATABASE_URL"] = db_url  # the served processes inherit it

    class DatServer(Server):
        async def on_startup(self, app: object) -> None:  # textual-serve's prints the command
            self.console.print(f"dat tui is served on [b]{url}[/b] (this machine only), "
                               f"database {shown_url}. Open it in a browser; Ctrl+C stops the server.",
                               highlight=False)

    server = DatServer(app_command(out_dir), host=HOST, port=port, title="dat", public_url=url)
    try:
        server.serve()
    except OSError as exc:  # taken in the meantime
        raise DatError(f"cannot serve on {url}: {(exc.strerror or str(exc)).lower()}") from None
