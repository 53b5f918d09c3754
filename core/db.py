"""Engines, sessions, migrations and first-use set-up.

The database URL comes from (first that is set): the ``url`` argument (``--db``), the
``DAT_DATABASE_URL`` environment variable, or an SQLite file in the user data directory
(``platformdirs.user_data_dir("dat")/dat.sqlite3``, created on first use; ``DAT_DATA_DIR``
overrides the folder, which must then exist).

:func:`open_database` creates the file if needed, runs Alembic to the head revision and syncs
what plugins contribute, all without a manual step. Failures are :class:`DatabaseError` with
one line fit for a user; the password in a URL is never shown.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session

from dat.core.errors import DatabaseError, UsageError, printable, shorten

#: The Alembic head this code expects. tests/test_migrations.py checks it matches the scripts,
#: so start-up can skip importing Alembic when the database is already current.
HEAD_REVISION = "0005"

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: seconds SQLite waits for another writer's lock before giving up ("database is busy")
SQLITE_TIMEOUT = 10.0

#: query keys whose values are secrets (matched as substrings, case-insensitively)
SECRET_KEYS = ("pass", "pwd", "secret", "token")

#: query keys whose values are harmless to show; the value of every other key is masked
#: (``?foo=...`` or ``?options=-c x=...`` may carry a secret the driver then quotes)
SHOWN_KEYS = frozenset({"host", "hostaddr", "port", "sslmode", "connect_timeout", "application_name",
                        "target_session_attrs", "client_encoding", "gssencmode", "keepalives",
                        "keepalives_idle", "keepalives_interval", "keepalives_count", "load_balance_hosts"})

_MAX_SHOWN = 200


class ReadOnlyDatabase(DatabaseError):
    """A write was refused: the SQLite file or its folder is read-only, or the server
    refused (permission denied, a read-only transaction). Read-only commands skip the
    plugin sync on it with a warning."""


def _cut(text: str, limit: int = _MAX_SHOWN) -> str:
    limit = max(limit, 1)
    return text if len(text) <= limit else text[:limit - 1] + "…"


#: a long name (a URL, a path) shortened in the middle, so its start and end stay
_short = shorten


def _name(url: str) -> str:
    """The database as a message names it: masked, and shortened when long."""
    return _short(mask_url(url))


def _say(before: str, server: str, after: str = "", *, reserve: int = 0) -> str:
    """``before + server + after`` within 200 characters: the server's text is cut first,
    so dat's own explanation is kept whole."""
    # 5: the "dat: " before it; ``reserve``: room for what a warning adds after it
    room = _MAX_SHOWN - 5 - reserve - len(before) - len(after)
    server = _cut(server, room) if room >= 10 else ""
    return _cut(f"{before}{server}{after}", _MAX_SHOWN - 5)


def _secret_key(key: str) -> bool:
    from urllib.parse import unquote

    return unquote(key).strip().lower() not in SHOWN_KEYS


def mask_url(url: str) -> str:
    """The URL fit to show: the password of the userinfo part (``user:***@host``) and the
    value of every query parameter replaced by ``***`` except those of :data:`SHOWN_KEYS`
    (``sslmode``, ``connect_timeout``...), cut to 200 characters. Works on any text, including
    what does not parse as a URL. Every message, ``dat db info`` and every log line use it."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    at = _userinfo_end(rest)
    if at >= 0:
        user, colon, _password = rest[:at].partition(":")
        rest = f"{user}{':***' if colon else ''}{rest[at:]}"
    path, q, query = rest.partition("?")
    if q:
        parts = []

        for part in re.split(r"([&;])", query):
            key, eq, _value = part.partition("=")
            if eq and _value and _secret_key(key):
                part = f"{key}=***"
            parts.append(part)
        rest = f"{path}?{''.join(parts)}"
    return _cut(f"{scheme}{sep}{rest}")


#: kept for callers of the old name
safe_url = mask_url


def _userinfo_end(rest: str) -> int:
    """Where the userinfo of a URL (after ``scheme://``) ends, as masking sees it: the last
    "@" (a password may hold "/", "?", "#" or an unencoded "@"), unless that "@" is in the
    database name (``host/r3@db``: nothing after it has a "/"), when it is the last "@"
    before the path; -1 without one. A query value holding "@" makes more than the password
    masked, never less."""
    last = rest.rfind("@")
    if last < 0:
        return last
    slash = rest.find("/", rest.find("@"))
    if slash < 0 or last < slash or "/" in rest[last + 1:].partition("?")[0]:
        return last
    return rest.rfind("@", 0, slash)


def _secrets(url: str | None) -> list[str]:
    """The secret values in ``url`` as they may appear in a driver's message: raw,
    percent-decoded and quoted."""
    if not url:
        return []
    from urllib.parse import parse_qsl, unquote

    out: list[str] = []
    _, _, rest = url.partition("://")
    at = _userinfo_end(rest)
    if at >= 0:
        _, colon, password = rest[:at].partition(":")
        if colon and password:
            out += [password, unquote(password)]
            # a driver that read an unencoded "@" as the host's start quotes a piece of it
            out += [p for p in re.split(r"[@:/?#]", password) if len(p) >= 4]
    _, _, query = rest.partition("?")
    for key, value in parse_qsl(query, keep_blank_values=False):
        if not value or not _secret_key(key):
            continue
        named = any(k in key.lower() for k in SECRET_KEYS)
        # a value of an unknown key is masked in a driver's text too, and its parts
        # (``-c x=S3cret``): short ones only when the key names a secret, so "on" or "1"
        # do not eat the rest of the message
        pieces = {value, unquote(value)} | set(re.split(r"[\s=,]+", value))
        out += [p for p in pieces if p and (named or len(p) >= 4)]
    return sorted({s for s in out if len(s) >= 1}, key=len, reverse=True)


_SECRET_TEXT = re.compile(r"((?:ssl)?pass(?:word|wd)?|pwd|secret|token)(\s*[=:]\s*)('(?:[^'\\]|\\.)*'|\"[^\"]*\"|\S+)",
                          re.IGNORECASE)


def mask_text(text: str, url: str | None = None) -> str:
    """A driver's message made safe to show: every secret of ``url`` (raw or decoded)
    replaced by ``***``, any ``password=...`` in a connection string too, and any URL in it
    masked with :func:`mask_url`."""
    for secret in _secrets(url):  # as a whole word: a password "dat" must not eat "database"
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
    text = _SECRET_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", lambda m: mask_url(m.group(0)), text)


def data_folder() -> Path:
    """dat's data folder: ``DAT_DATA_DIR``, else the user data folder."""
    folder = os.environ.get("DAT_DATA_DIR")
    if not folder:
        from platformdirs import user_data_dir

        folder = user_data_dir("dat", appauthor=False)
    return Path(folder)


def default_url() -> str:
    return f"sqlite:///{data_folder() / 'dat.sqlite3'}"


def resolve_url(url: str | None = None) -> tuple[str, bool]:
    """The URL to use and whether it was named explicitly (``--db`` or ``DAT_DATABASE_URL``)
    rather than being the default file in the data folder, whose folder may be created."""
    default = default_url()
    if url is not None:
        if not url.strip():
            raise UsageError("the database URL is empty; give e.g. sqlite:///path/dat.sqlite3 "
                             "or postgresql+psycopg://user@host/db")
        return url, url != default  # the default file named in full is still the default
    env = os.environ.get("DAT_DATABASE_URL")
    if env is not None:
        if not env.strip():  # set but empty, as --db '': never quietly the default database
            raise UsageError("DAT_DATABASE_URL is set but empty; give a URL such as "
                             "sqlite:///path/dat.sqlite3, or unset it to use the default database")
        return env, env != default
    folder = os.environ.get("DAT_DATA_DIR")
    if folder and not Path(folder).is_dir():  # named explicitly: a typo must not become a folder
        if Path(folder).exists():
            raise UsageError(f"DAT_DATA_DIR names {_short(folder, 100)}, which is not a folder; "
                             "name a folder or fix the variable")
        raise UsageError(f"DAT_DATA_DIR names the folder {_short(folder, 100)}, which does not exist; "
                         "create it first or fix the variable")
    return default, False


def database_url(url: str | None = None) -> str:
    return resolve_url(url)[0]


_EXAMPLES = "e.g. sqlite:///path/dat.sqlite3 or postgresql+psycopg://user@host/db"
_UNENCODED_AT = ("the database URL '{shown}' has an @ in its user name or password; "
                 "percent-encode it as %40")


def parse_url(url: str) -> URL:
    """``url`` parsed, or a :class:`UsageError` (exit 2) naming what is wrong with it: not a
    URL, a port that is not a number, an engine dat does not use, an SQLite URL with a host
    or in memory."""
    from urllib.parse import unquote

    shown = mask_url(url)
    if printable(unquote(url.strip())) != unquote(url.strip()):  # raw or percent-encoded (%0A)
        raise UsageError(f"the database URL '{_short(shown)}' holds a control character (a new line, "
                         "a tab...); give it on one line without them")
    if url != url.strip():
        raise UsageError(f"the database URL '{_short(shown)}' starts or ends with a space; remove it")
    try:
        parsed = make_url(url)
    except ValueError as exc:  # a port that is not a number (ArgumentError is a ValueError too)
        if "@" in url.partition("://")[2][:_userinfo_end(url.partition("://")[2])]:
            raise UsageError(_UNENCODED_AT.format(shown=_short(shown))) from None
        if "port" in str(exc).lower() or "invalid literal" in str(exc):
            raise UsageError(f"the database URL {shown!r} has a port that is not a number") from None
        raise UsageError(f"not a database URL: {shown!r} ({_EXAMPLES})") from None
    except Exception:
        raise UsageError(f"not a database URL: {shown!r} ({_EXAMPLES})") from None
    if ("@" in (parsed.host or "") or "@" in (parsed.username or "")
            or ("@" in (parsed.database or "") and "/" in (parsed.database or ""))):
        # the user name or password holds an "@": the driver would take part of it for the
        # host or the database (a database name may hold "@", as in host/r3@db)
        raise UsageError(_UNENCODED_AT.format(shown=_short(shown)))
    if parsed.drivername != parsed.drivername.lower():  # a URL's scheme is case-insensitive
        parsed = parsed.set(drivername=parsed.drivername.lower())
    if parsed.host:
        try:
            ascii_host = parsed.host.encode("idna").decode("ascii")  # what the driver does first
        except UnicodeError:
            ascii_host = None
        if ascii_host is None or not _valid_host(ascii_host):
            raise UsageError(f"the database URL '{_short(shown)}' has a host name that is not valid "
                             f"({_short(printable(parsed.host), 40)!r}); give a name such as db.example.org "
                             "or an IP address") from None
    if parsed.drivername in ("postgres", "postgresql"):  # what users type: dat's driver, psycopg 3
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.port is not None:
        rest = url.partition("://")[2]
        hostport = rest[_userinfo_end(rest) + 1:].split("/", 1)[0].split("?", 1)[0]
        port_text = hostport.rpartition("]")[2].rpartition(":")[2]
        if not (port_text.isascii() and port_text.lstrip("+-").isdigit()):  # int() reads "٥٤٣٢" as 5432
            raise UsageError(f"the database URL {shown!r} has a port that is not a number")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise UsageError(f"the database URL '{_short(shown)}' has port {parsed.port}, out of range 1-65535")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UsageError(f"cannot use {shown}: dat stores its data in SQLite "
                         "(sqlite:///path/dat.sqlite3) or PostgreSQL "
                         "(postgresql+psycopg://user@host/db)")
    if backend == "sqlite":
        if parsed.host or parsed.port or parsed.username:
            raise UsageError(f"the SQLite URL {shown!r} has a host part; an SQLite URL is a path after "
                             "three slashes: sqlite:///relative/dat.sqlite3 or sqlite:////absolute/dat.sqlite3")
        db = parsed.database or ""
        extra = sorted(k for k in parsed.query if not (k == "mode" and parsed.query[k] == "memory"))
        if extra:  # SQLAlchemy would ignore them with a warning (mode=ro is not honoured)
            raise UsageError(f"the SQLite URL {_short(shown)!r} has query options ({', '.join(extra)[:60]}), "
                             "which dat does not use; give just the path: sqlite:///path/dat.sqlite3")
        if db in ("", ":memory:") or "mode=memory" in db or parsed.query.get("mode") == "memory":
            raise UsageError(f"{shown} is an in-memory database: whatever dat stored would vanish when "
                             "the command ends; give a file, e.g. sqlite:///dat.sqlite3")
    if backend == "postgresql":
        if not parsed.database:
            raise UsageError(f"the PostgreSQL URL {shown!r} names no database; add /dbname at the end")
    return parsed


_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _valid_host(host: str) -> bool:
    """Whether ``host`` (ASCII, as IDNA made it) can name a server: an IPv6 address (the URL
    wrote it in brackets), a comma-separated list of hosts (libpq tries each in turn), or
    dot-separated labels of letters, digits, hyphens (not at either end) and underscores
    (container names use them), 253 characters at most, a final dot allowed. No space,
    ``!``, ``/`` or empty label (``a..b``)."""
    import ipaddress

    if ":" in host and "," not in host:
        try:
            ipaddress.IPv6Address(host)
            return True
        except ValueError:
            return False
    if "," in host:  # libpq's list of hosts to try in turn
        return all(_valid_host(h) for h in host.split(","))
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in name.split("."))


#: host names that all mean the server on this machine
_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def same_database(a: URL, b: URL) -> bool:
    """True when the parsed URLs ``a`` and ``b`` name the same database however they are
    spelt: SQLite files by their real path (symlinks and ``./`` resolved) or inode; PostgreSQL
    by host (this machine's names as one), port and database name."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        pa, pb = a.database or "", b.database or ""
        if os.path.realpath(pa) == os.path.realpath(pb):
            return True
        try:
            return os.path.samefile(pa, pb)
        except OSError:
            return False

    def server(u: URL) -> tuple[str, int, str]:
        host = str(u.host or u.query.get("host") or "").lower()
        return ("" if host in _LOCAL_HOSTS else host, u.port or 5432, u.database or "")

    return server(a) == server(b)


def _check_sqlite_path(db: str, explicit: bool, must_exist: bool) -> None:
    """Refuse what SQLite would not open as a database file, and never create a folder the
    user named: only the default data folder is created."""
    import stat

    path = Path(db)
    # within 200 characters whatever the path: the file 80, its folder 85 at the most
    shown, folder_shown = _short(db, 80), _short(str(path.parent), 85)
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a path through a file, a permission problem
        why = "a file is in the way, not a folder" if isinstance(exc, NotADirectoryError) else exc.strerror
        raise DatabaseError(f"cannot open the database {shown}: {why}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise DatabaseError(f"{shown} is a folder, not a database file; give the path of a file in it, "
                                f"e.g. sqlite:///{_short(str(path / 'dat.sqlite3'), 45)}")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a pipe" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                    or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
            raise DatabaseError(f"{shown} is {kind}, not a database file")
        return
    if must_exist:
        raise DatabaseError(f"the database {shown} does not exist (dat db upgrade creates it)")
    folder = path.parent
    if folder.is_dir():
        return
    if folder.exists():
        raise DatabaseError(f"cannot create {shown}: {_short(folder_shown, 60)} is a file, not a folder")
    if explicit:
        raise DatabaseError(f"the folder {folder_shown} does not exist; create it first or check the path "
                            "(dat creates only its default data folder)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            why = "a file is in the way, not a folder"
        raise DatabaseError(f"cannot create the folder {folder_shown}: {why}") from None


def _read_only_folder(db: str) -> Any:
    """For an existing SQLite file in a folder this user cannot write to, a connection
    factory that opens it read-only and immutable, else ``None``. SQLite cannot create the
    journal (or the ``-wal``/``-shm`` files of a WAL database) there, so a normal open fails
    even to read; nobody but root can write the file there either (a write needs its
    journal), so reading it as immutable is safe. Writes are then refused as read-only, and
    reading commands skip the plugin sync with the usual warning."""
    path = Path(db)
    folder = path.parent if str(path.parent) else Path(".")
    if not db or not path.is_file() or os.access(folder, os.W_OK):
        return None
    wal = Path(f"{db}-wal")
    if wal.exists() and wal.stat().st_size > 0:  # a WAL with pages not yet in the file
        return None
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"

    def connect() -> Any:
        import sqlite3

        return sqlite3.connect(uri, uri=True, timeout=SQLITE_TIMEOUT, check_same_thread=False)

    return connect


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    import sqlite3

    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:  # a read-only file or folder: keep its journal mode
        pass
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_TIMEOUT * 1000)}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_WRITES = ("insert", "update", "delete", "replace", "create", "alter", "drop")


def check_intact(url: str, dbapi_conn: Any) -> None:
    """Refuse to write to a damaged SQLite file: ``PRAGMA quick_check(1)`` (a few ms on a
    small file, about 0.1 s on a 25 MB one), run once per process and database, before the
    first write; a damaged file is a :class:`DatabaseError` (exit 1) and nothing is written.
    Reading does not run it (a read of a damaged page is reported as damaged by SQLite)."""
    if url in _CHECKED:
        return
    import sqlite3

    cur = dbapi_conn.cursor()
    try:
        rows = cur.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        err = classify_error(url, exc)
        raise err or DatabaseError(_say(f"cannot check the database {_name(url)}: ", str(exc))) from None
    finally:
        cur.close()
    first = " ".join(str(rows[0][0] if rows else "no answer").split())
    if first != "ok":
        raise DatabaseError(_say(f"the database {_name(url)} is damaged (", mask_text(first, url),
                                 "); nothing was written: restore it from a backup"))
    _CHECKED.add(url)


_CHECKED: set[str] = set()


def _is_read(statement: str) -> bool:
    """True for a statement that only reads (``SELECT``, ``SHOW``, ``WITH`` ... ``SELECT``)."""
    words = statement.lstrip(" (\n\t").split(None, 1)
    return bool(words) and words[0].lower() in ("select", "show") and not any(
        w in statement.lower() for w in (" for update", " for share"))


def _check_before_write(url: str, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """SQLAlchemy's ``before_cursor_execute`` hook on SQLite: :func:`check_intact` before
    the first statement that writes."""
    if url not in _CHECKED and statement.lstrip().split(None, 1)[:1] and \
            statement.lstrip().split(None, 1)[0].lower() in _WRITES:
        check_intact(url, conn.connection.driver_connection)


def _sqlite_readonly_why(db: str) -> str:
    path = Path(db)
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(folder if str(folder) else Path("."), os.W_OK):
        what = "create its journal next to it" if path.exists() else "create the file"
        return f"the folder {_short(str(folder), 80)} is read-only, so SQLite cannot {what}"
    return "SQLite refused to write to it"


def _fitted_name(url: str, *rest: str) -> str:
    """The database's name, shortened so that a message of it and ``rest`` fits."""
    return _short(mask_url(url), max(30, _MAX_SHOWN - 5 - sum(len(r) for r in rest)))


def _read_only(url: str, db: str) -> ReadOnlyDatabase:
    why = _sqlite_readonly_why(db)
    name = _fitted_name(url, why, "cannot write to the database : ")
    return ReadOnlyDatabase(f"cannot write to the database {name}: {why}")


def classify_error(url: str, exc: BaseException, statement: str | None = None) -> DatabaseError | None:
    """One line for the user about a driver error on the database at ``url`` that no code
    of dat handles (read-only, busy, not a database, damaged, cannot connect), else ``None``.
    The message names the database with its password masked, and the driver's own text is
    masked too."""
    orig = getattr(exc, "orig", None) or exc
    first = " ".join(((str(orig).strip().splitlines() or [type(orig).__name__])[0]).split())
    # libpq's "connection failed: connection to server at "h", port p failed: FATAL: " only
    # repeats the URL: what follows is what the server said
    first = re.sub(r'^connection failed: connection to server (?:at|on) "[^"]*"(?: \([^)]*\))?'
                   r'(?:, port \d+)? failed: (?:FATAL:\s*)?', "", first)
    first = _cut(mask_text(first, url))
    low = first.lower()
    name = _name(url)
    try:
        parsed = make_url(url)
    except Exception:
        return None
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database or ""
        if "readonly database" in low or "read-only" in low:
            return _read_only(url, db)
        if "unable to open database file" in low:
            folder = Path(db).parent
            if not os.access(folder if str(folder) else Path("."), os.W_OK):
                return _read_only(url, db)
            return DatabaseError(_say(f"cannot open the database {name}: ", first))
        if "database is locked" in low or "database is busy" in low or "database table is locked" in low:
            return DatabaseError(f"the database {name} is busy: another program has been writing to it for "
                                 f"longer than {SQLITE_TIMEOUT:g} s; try again when it has finished")
        if "file is not a database" in low or "file is encrypted" in low:
            return DatabaseError(f"{name} is not an SQLite database (the file holds something else); "
                                 "give the path of a dat database, or a new file")
        if "malformed" in low or "disk image" in low:
            return DatabaseError(_say(f"the database {name} is damaged (", first, "); restore it from a backup"))
        if "disk i/o error" in low or "database or disk is full" in low:
            return DatabaseError(_say(f"cannot use the database {name}: ", first))
        return None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "25006":
        why = ": the server runs this login's transactions read-only"
        name = _fitted_name(url, "cannot write to the database ", why, " " * 70)
        return ReadOnlyDatabase(_say(f"cannot write to the database {name}{why} (", first, ")",
                                     reserve=35))
    statement = statement or getattr(exc, "statement", None)
    if sqlstate == "42501" and statement and _is_read(statement):
        why = ": the server refused: permission denied"  # no SELECT right: not a read-only database
        tail = "; ask the database admin for access"
        name = _fitted_name(url, "cannot read the database ", why, tail, " " * 60)
        return DatabaseError(_say(f"cannot read the database {name}{why} (", first, f"){tail}"))
    if sqlstate == "42501":
        why = ": the server refused: permission denied"
        name = _fitted_name(url, "cannot write to the database ", why, " " * 70)
        return ReadOnlyDatabase(_say(f"cannot write to the database {name}{why} (", first, ")",
                                     reserve=35))
    import sys

    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(orig, psycopg.OperationalError) and (
            sqlstate is None or sqlstate[:2] in ("08", "28", "3D", "53", "57")):
        return DatabaseError(_say(f"cannot open the database {name}: ", first))
    return None


def _on_error(url: str, context: Any) -> None:
    """SQLAlchemy's ``handle_error`` hook: a driver error the user must see becomes a
    :class:`DatabaseError` here, on every engine dat opens, whatever command was running."""
    err = classify_error(url, context.original_exception, context.statement)
    if err is not None:
        raise err


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None, *, must_exist: bool = False) -> Engine:
    """An engine on ``url`` (see :func:`resolve_url`), checked before anything is created: a
    malformed URL is a :class:`UsageError`; an SQLite path that is a folder, a device or a
    pipe, or whose named folder does not exist, a :class:`DatabaseError`. ``must_exist``: an
    SQLite file that does not exist is an error too (nothing is created)."""
    url, explicit = resolve_url(url)
    engine = _ENGINES.get(url)
    if engine is not None and not must_exist:
        return engine
    parsed = parse_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed.database or "", explicit, must_exist)
        kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT}
        creator = _read_only_folder(parsed.database or "")
        if creator is not None:
            kwargs["creator"] = creator
    else:
        kwargs["connect_args"] = {"connect_timeout": 5}
        kwargs["pool_pre_ping"] = True
        # a secret in the query goes to the driver directly, so no repr of the engine shows it
        secret = {k: v for k, v in parsed.query.items() if any(s in k.lower() for s in SECRET_KEYS)}
        if secret:
            kwargs["connect_args"].update(secret)
            parsed = parsed.difference_update_query(secret)
    if engine is not None:
        return engine
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise DatabaseError(_say(f"cannot use {_name(url)}: ", mask_text(str(exc), url))) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", functools.partial(_check_before_write, url))
    event.listen(engine, "handle_error", functools.partial(_on_error, url))
    _ENGINES[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _CHECKED.clear()


def _first_line(exc: BaseException, url: str | None = None) -> str:
    orig = getattr(exc, "orig", None) or exc
    msg = str(orig).strip().splitlines()
    return mask_text(msg[0], url) if msg else type(orig).__name__


def _missing_table(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "42P01" or "no such table" in str(orig).lower()


def current_revision(engine: Engine) -> str | None:
    """The database's Alembic revision, ``None`` when it has none (no ``alembic_version``
    table). A file that is not a database, a server that cannot be reached... raise."""
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except (OperationalError, ProgrammingError) as exc:
            if _missing_table(exc):
                return None
            raise
    if len(rows) > 1:  # Alembic keeps one row: which one is true cannot be told
        why = (f" is damaged: its alembic_version table has {len(rows)} rows where dat keeps one; "
               "restore it from a backup")
        name = _fitted_name(engine.url.render_as_string(False), "the database ", why)
        raise DatabaseError(f"the database {name}{why}")
    return rows[0] if rows else None


def known_revisions() -> set[str]:
    """The revisions of this dat's migration scripts (their file names start with them)."""
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py")}


def foreign_tables(engine: Engine) -> list[str]:
    """The tables in the database (its default schema) other than Alembic's own."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
    return sorted(n for n in names if n != "alembic_version" and not n.startswith("sqlite_"))


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` with Alembic."""
    from alembic import command

    if engine.dialect.name == "sqlite":
        _migrate_sqlite(engine, revision)
        return
    with engine.begin() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _migrate_sqlite(engine: Engine, revision: str) -> None:
    """SQLite's migration, all or nothing: pysqlite runs DDL outside any transaction, and a
    batch step (copy a table, drop the old one, rename) with foreign keys enforced failed
    half-way on a database holding data, leaving ``_alembic_tmp_*`` behind and every later
    command failing (r5 F02). Here dat opens the transaction itself, so the DDL rolls back
    with the rest; foreign keys are off while tables are rebuilt (SQLite's own advice), then
    checked whole before the commit."""
    from alembic import command

    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        level = raw.isolation_level
        raw.isolation_level = None  # no implicit BEGIN/COMMIT: dat's own below
        try:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                _clear_leftovers(conn)
                cfg = alembic_config(engine)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise DatabaseError(f"the upgrade would leave {len(broken)} rows whose references are "
                                        f"missing (first in table {broken[0][0]}); nothing was changed")
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            raw.isolation_level = level


#: the copy of a table that Alembic's batch step builds before it drops and replaces the table
_TMP_PREFIX = "_alembic_tmp_"


def _clear_leftovers(conn: Connection) -> None:
    """Drop the half-built copies that an upgrade stopped by an older dat left behind (before
    the upgrade ran in one transaction): while the table itself still exists, its copy holds
    nothing that the table does not, and it would make every later upgrade fail with "table
    _alembic_tmp_... already exists". A copy whose table is gone holds the only rows: that
    database is refused with what to do, and nothing is changed."""
    names = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name in sorted(n for n in names if n.startswith(_TMP_PREFIX)):
        table = name[len(_TMP_PREFIX):]
        if table not in names:
            raise DatabaseError(
                f"an earlier upgrade of this database stopped half-way: table {_short(table, 40)} was "
                f"dropped and its rows are only in {_short(name, 60)}; restore the database from a "
                "backup (or rename that table back with the sqlite3 tool) before dat can upgrade it; "
                "nothing was changed")
        conn.exec_driver_sql('DROP TABLE "{}"'.format(name.replace('"', '""')))


def check_schema(engine: Engine, url: str, *, adopt: bool = False) -> str | None:
    """The database's revision, after refusing one dat must not migrate: a revision this
    dat does not know (a newer dat made it), or tables but no dat schema (someone else's
    database) unless ``adopt``."""
    rev = current_revision(engine)
    if rev == HEAD_REVISION:
        return rev
    if rev is not None and rev not in known_revisions():
        why = (f" is at schema revision {_short(rev, 20)}, which this dat does not know (it knows up "
               f"to {HEAD_REVISION}): a newer dat made it, or it is not dat's; upgrade dat or use another "
               "database")
        raise DatabaseError(f"{_fitted_name(url, why)}{why}")
    if rev is None:
        tables = foreign_tables(engine)
        if tables and not adopt:
            why = (f" is not a dat database (it has tables: {_listed(tables, 50)}); use "
                   "`dat db upgrade --adopt` to add dat's tables to it")
            raise DatabaseError(f"{_fitted_name(url, why)}{why}")
        clash = sorted(set(_schema_names(engine)) & dat_names())
        if clash:  # refused before anything is created: the database is left as it was
            why = (f": it has {'a table' if len(clash) == 1 else 'tables'} named like dat's own "
                   f"({_listed(clash, 50)}); rename or drop {'it' if len(clash) == 1 else 'them'}, "
                   "or use another database")
            raise DatabaseError(f"cannot adopt {_fitted_name(url, 'cannot adopt ', why)}{why}")
    return rev


def _listed(names: list[str], limit: int) -> str:
    """Names as a message lists them: the first ten, shortened to ``limit`` characters."""
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return _short(shown, limit)


def dat_names() -> set[str]:
    """The names dat's schema creates: its tables and their indexes."""
    from dat.core.models import metadata

    names = set(metadata.tables)
    for table in metadata.tables.values():
        names.update(str(ix.name) for ix in table.indexes if ix.name)
    return names


def _schema_names(engine: Engine) -> list[str]:
    """Every name in the database's default schema that a new table or index would clash
    with: tables, views, indexes, sequences (Alembic's own table aside)."""
    query = ("SELECT name FROM sqlite_master" if engine.dialect.name == "sqlite" else
             "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE n.nspname = current_schema()")
    with engine.connect() as conn:
        return [n for n in conn.execute(text(query)).scalars() if n != "alembic_version"]


def open_database(url: str | None = None, *, sync: bool = True, host: Any = None,
                  adopt: bool = False) -> Engine:
    """An engine on an up-to-date database, created, migrated and synced as needed.

    Refused (:class:`DatabaseError`): a database of a newer dat, someone else's database
    (tables but no dat schema; ``adopt=True`` adds dat's tables to it), a read-only one that
    needs migrating. On a read-only database that is up to date the plugin sync is skipped
    with a warning (``host.warn``), so reading still works."""
    url = database_url(url)
    engine = get_engine(url)
    try:
        rev = check_schema(engine, url, adopt=adopt)
        if rev != HEAD_REVISION:
            migrate(engine)
        if sync:
            from dat.core.plugins import get_plugin_manager

            host = host or get_plugin_manager()
            try:
                if sync_mode(engine) == "auto":
                    sync_if_changed(engine, host)
                else:
                    check_plugins_synced(engine, host)
            except ReadOnlyDatabase as exc:
                tail = "; the plugins' data was not synced"
                host.warn(_cut(str(exc), _MAX_SHOWN - 14 - len(tail)) + tail)  # 14: "dat: warning: "
    except OperationalError as exc:
        raise classify_error(url, exc) or DatabaseError(
            _say(f"cannot open the database {_name(url)}: ", _first_line(exc, url))) from None
    except SQLAlchemyError as exc:
        raise classify_error(url, exc) or DatabaseError(
            _say(f"database error on {_name(url)}: ", _first_line(exc, url))) from None
    return engine


#: prefix of the meta key under which each installation records :func:`plugin_sources`
SOURCES_KEY = "plugin_sources"


def _sources_key() -> str:
    """One meta row per installation (host, Python environment, dat folder), so users of a
    shared server do not overwrite each other's record."""
    import hashlib
    import socket
    import sys

    ident = f"{socket.gethostname()}|{sys.prefix}|{Path(__file__).parent}"
    return f"{SOURCES_KEY}:{hashlib.sha256(ident.encode()).hexdigest()[:16]}"


def plugin_sources(host: Any) -> str | None:
    """A cheap fingerprint of where the plugins' data comes from: each plugin's name and, for
    data plugins, the path, size and modification time of each data file (plus the core
    modules that turn data into rows). ``None`` when some plugin contributes data from code,
    which only running it can tell; then the full registry fingerprint decides.

    Building the registry parses and validates every item every plugin contributes; with a
    national dataset that is most of a short command's run, so when this fingerprint is
    unchanged since the last sync the registry is not built at all."""
    import hashlib

    from dat.core.datafile import DataPlugin
    from dat.core.kinds import SYNCED

    # the hooks whose contributions are synced into the database
    data_hooks = {kind.hook for kind in SYNCED}
    digest = hashlib.sha256()
    core_dir = Path(__file__).parent
    for name in ("specs.py", "kinds.py", "sync.py", "datafile.py", "plugins.py", "models.py"):
        st = (core_dir / name).stat()
        digest.update(f"core|{name}|{st.st_mtime_ns}|{st.st_size}\n".encode())
    for name, plugin in sorted(host.pm.list_name_plugin(), key=lambda np: str(np[0])):
        hooks = {c.name for c in host.pm.get_hookcallers(plugin) or ()}
        digest.update(f"plugin|{name}|{sorted(hooks)}\n".encode())
        if not hooks & data_hooks:
            continue
        if type(plugin) is not DataPlugin:
            return None
        from importlib import resources

        for path in plugin.paths:
            try:
                file = Path(str(resources.files(plugin.package).joinpath(path)))
                st = file.stat()
            except (OSError, TypeError, ModuleNotFoundError):
                return None
            digest.update(f"data|{plugin.package}|{path}|{file}|{st.st_mtime_ns}|{st.st_size}\n".encode())
    return digest.hexdigest()


def sync_if_changed(engine: Engine, host: Any) -> None:
    """Sync plugin data into the database unless nothing it comes from has changed.

    The shortcut is taken only when this installation's :func:`plugin_sources` equal the
    ones it recorded at its last sync *and* the database's registry fingerprint is still the
    one that sync left (nobody synced other data since); otherwise the registry is built and
    :func:`dat.core.sync.sync_plugins` decides as it always does."""
    from dat.core.models import Meta
    from dat.core.sync import FINGERPRINT_KEY, recorded_refusals

    quick = None if host.strict else plugin_sources(host)
    key = _sources_key()
    with Session(engine) as s:
        if quick is not None:
            mine = s.get(Meta, key)
            synced = s.get(Meta, FINGERPRINT_KEY)
            if mine is not None and synced is not None and mine.value == f"{quick} {synced.value}":
                host.recorded_refusals, host.recorded_owners = recorded_refusals(s)
                return
        _sync(s, host, quick)


SYNC_MODES = ("auto", "explicit")


def sync_mode(engine: Engine) -> str:
    """``auto``: every command brings the plugins' data in when it changed (SQLite, one
    user). ``explicit``: only ``dat db sync`` writes plugin data (PostgreSQL, shared by many
    officers whose installed plugins may differ). ``DAT_SYNC=auto|explicit`` overrides it
    (e.g. a single-user PostgreSQL database); anything else is a usage error."""
    import os

    chosen = os.environ.get("DAT_SYNC", "").strip().lower()
    if chosen:
        if chosen not in SYNC_MODES:
            raise UsageError(f"DAT_SYNC must be auto or explicit, not {_short(chosen, 20)!r}")
        return chosen
    return "auto" if engine.dialect.name == "sqlite" else "explicit"


def check_plugins_synced(engine: Engine, host: Any) -> None:
    """With explicit sync: warn once when the plugins installed here differ from the ones
    the database was last synced with (cheap: names and versions, no registry built)."""
    import json

    from dat.core.models import Meta
    from dat.core.sync import PLUGINS_KEY, recorded_refusals

    with Session(engine) as s:
        meta = s.get(Meta, PLUGINS_KEY)
        host.recorded_refusals, host.recorded_owners = recorded_refusals(s)
    if meta is None:
        host.warn("this database has not been synced with any plugins yet: an admin runs `dat db sync`")
        return
    try:
        synced = json.loads(meta.value)
    except ValueError:
        synced = {}
    here = plugin_versions(host)
    if not isinstance(synced, dict) or synced == here:
        return
    new = sorted(set(here) - set(synced))
    gone = sorted(set(synced) - set(here))
    other = sorted(n for n in set(here) & set(synced) if here[n] != synced[n])
    parts = [f"{label}: {', '.join(names[:4])}{' …' if len(names) > 4 else ''}"
             for label, names in (("only here", new), ("not here", gone), ("other version", other)) if names]
    host.warn("the plugins here differ from those the database was synced with ("
              + "; ".join(parts) + "): an admin runs `dat db sync`")


def sync_now(engine: Engine, host: Any, *, force: bool = False) -> Any:
    """``dat db sync``: bring the plugins' data in now, whatever the sync mode, and return
    the :class:`~dat.core.sync.SyncReport`."""
    from dat.core.roles import require_admin

    with Session(engine) as s:
        require_admin(s.connection(), "sync plugin data")
        return _sync(s, host, None if host.strict else plugin_sources(host), force=force)


def _sync(s: Session, host: Any, quick: str | None, *, force: bool = False) -> Any:
    """The one sync step both paths take: ownership as the database records it, the sync,
    then this installation's record of the sources it synced (``quick``) for the shortcut."""
    from dat.core.models import Meta
    from dat.core.sync import FINGERPRINT_KEY, database_state, sync_plugins

    host.set_database_state(database_state(s))
    report = sync_plugins(s, host.registry, force=force, versions=plugin_versions(host))
    synced = s.get(Meta, FINGERPRINT_KEY)
    if quick is not None and synced is not None:
        s.merge(Meta(key=_sources_key(), value=f"{quick} {synced.value}"))
        s.commit()
    return report


def plugin_versions(host: Any) -> dict[str, str | None]:
    """The healthy plugins and their versions: what a sync records, so that every other
    installation can tell when its plugins differ from the ones the database was synced with."""
    return {name: host.plugins[name].version for name in sorted(host.healthy())}


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def describe_database_error(exc: BaseException) -> str | None:
    """One line for the user about a database driver error (any SQLAlchemy error, or a raw
    sqlite3 / psycopg error from a bulk write that bypassed SQLAlchemy: a server that cannot be
    reached, a read-only database, a lock), else ``None``. The database is named with its
    password masked. Reads the driver modules only if they are already imported, so it costs
    nothing otherwise."""
    import sys

    exc_mod = sys.modules.get("sqlalchemy.exc")
    drivers = tuple(m.Error for m in (sys.modules.get("sqlite3"), sys.modules.get("psycopg")) if m is not None)
    is_sa = exc_mod is not None and isinstance(exc, exc_mod.SQLAlchemyError)
    if not is_sa and not (drivers and isinstance(exc, drivers)):
        return None
    orig = getattr(exc, "orig", None) or exc
    sqlite3 = sys.modules.get("sqlite3")
    want = "sqlite" if sqlite3 is not None and isinstance(orig, sqlite3.Error) else "postgresql"
    urls = [u for u, e in _ENGINES.items() if e.dialect.name == want]
    for url in urls:
        err = classify_error(url, exc)
        if err is not None:
            return str(err)
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]
    for url in _ENGINES:
        first = mask_text(first, url)
    return _say("database error: ", mask_text(first))
