"""``dat tui``: start the terminal UI (Textual is imported only when the command runs)."""

from __future__ import annotations

import click


@click.command("tui")
@click.option("--out-dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder for reports and CSV exports made from the TUI.")
@click.option("--db", "db_url", metavar="URL", default=None,
              help="Database URL, as dat's own --db (which it overrides).")
@click.option("--serve", is_flag=True,
              help="Serve the TUI to a web browser on this machine (http://127.0.0.1:PORT) instead.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="The port --serve listens on (always on 127.0.0.1).")
@click.pass_context
def tui_cmd(ctx: click.Context, out_dir: str, db_url: str | None, serve: bool, port: int) -> None:
    """Browse scorecards, funding, action plans and comparisons in a terminal UI.

    Press ? in the TUI for every key (ctrl+p jumps to a partnership, an indicator or a
    report; q quits). Works in 80x24 and with NO_COLOR. With --serve, the same app runs in a
    web browser on this machine. See docs/tui.md.
    """
    from dat.core.db import check_schema, database_url, get_engine
    from dat.core.errors import DatError

    if db_url is None:
        db_url = (ctx.find_root().obj or {}).get("db_url")
    # a malformed URL, a folder that does not exist, a path that is not a file, a server that
    # cannot be reached, someone else's database: each fails here, before the screen opens
    engine = get_engine(db_url)
    check_schema(engine, database_url(db_url))
    import os
    import sys

    if serve:
        from dat.cli.tui.serve import serve as serve_tui
        from dat.core.db import mask_url

        serve_tui(port, out_dir, db_url, mask_url(database_url(db_url)))
        return
    # under textual-serve (TEXTUAL_DRIVER names Textual's web driver) the browser is the terminal
    if not os.environ.get("TEXTUAL_DRIVER") and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise DatError("dat tui needs a terminal (its input and output are not one); for scripts "
                       "use the commands instead, e.g. dat status or dat compare")
    try:
        from dat.cli.tui.app import DatApp
    except ImportError as exc:
        raise DatError(f"the TUI cannot start: {exc}; reinstall dat (pip install dat) to bring back "
                       "Textual") from None
    from dat.cli.tui.quick import run_then_exit

    run_then_exit(DatApp(db_url, out_dir=out_dir), exit_process=True)
