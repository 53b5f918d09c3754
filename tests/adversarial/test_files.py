"""Hostile file systems for what dat writes besides ``-o``: the plugin package of
``dat new-partnership``, a writer left open on a full disk, signals and SIGKILL during a
write, ``--help`` into a closed pipe.

Every refusal asserts the exit code, one ``dat: `` line of at most 200 characters, no
traceback, and that the files around it are unchanged (their bytes) and no temporary file or
folder is left.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from dat.cli.main import cli
from dat.core import files
from dat.core.files import OutputError, atomic_path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def refused(res, code: int, *needles: str) -> str:
    out = res.stderr + res.output
    assert res.exit_code == code, (res.exit_code, out)
    assert "Traceback" not in out and "internal error" not in out, out
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dat: ") and len(lines[0]) <= 200, res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def tree(folder: Path) -> dict[str, str]:
    """Every entry below ``folder``: a file's digest, a link's target, a folder's mark."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = f"-> {os.readlink(p)}"
        elif p.is_dir():
            out[rel] = "/"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def no_temporaries(folder: Path) -> None:
    assert not [p for p in folder.rglob("*") if ".tmp" in p.name], tree(folder)


def _dat_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("dat")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dat.cli.main"]


# -- new-partnership writes like every other writer (D1, E1, I5, J2) ----------------------------

@pytest.mark.parametrize("member", ["pyproject.toml", "dat_zed/__init__.py", "dat_zed", "tests"])
def test_new_partnership_never_writes_through_a_symlink_inside(tmp_path, member):
    pkg = tmp_path / "dat-zed"
    assert invoke("new-partnership", "Zed", "--dir", str(tmp_path)).exit_code == 0
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "pyproject.toml").write_text("ORIGINAL\n")
    (victim / "__init__.py").write_text("ORIGINAL\n")
    link = pkg / member
    import shutil

    shutil.rmtree(link) if link.is_dir() else link.unlink()
    link.symlink_to(victim / link.name if not link.name.startswith(("dat_", "tests")) else victim)
    before = tree(tmp_path)
    refused(invoke("new-partnership", "Zed", "--dir", str(tmp_path), "--force"), 1, "symbolic link")
    assert tree(tmp_path) == before  # checked before anything moved: no file replaced
    no_temporaries(tmp_path)


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling", "to-a-folder"])
def test_new_partnership_refuses_a_symlinked_package_folder(tmp_path, dangling):
    elsewhere = tmp_path / "elsewhere"
    if not dangling:
        elsewhere.mkdir()
    (tmp_path / "dat-zed").symlink_to(elsewhere)
    for force in ([], ["--force"]):
        refused(invoke("new-partnership", "Zed", "--dir", str(tmp_path), *force), 1,
                "dat-zed", "is a symbolic link")
    assert elsewhere.exists() != dangling and (dangling or not list(elsewhere.iterdir()))
    no_temporaries(tmp_path)


def test_new_partnership_needs_an_existing_dir(tmp_path):
    where = tmp_path / "nowhere" / "deeper"
    refused(invoke("new-partnership", "Zed", "--dir", str(where)), 2, str(where), "is not an existing folder")
    assert not (tmp_path / "nowhere").exists()


def test_new_partnership_on_a_full_disk_leaves_nothing(tmp_path, monkeypatch):
    """J2: the third file fails as on a full disk: no package, no temporary folder."""
    written = []
    real = files.write_text

    def fill(path, text, **kw):
        written.append(path)
        if len(written) == 3:
            raise OutputError(f"cannot write {path}: No space left on device")
        return real(path, text, **kw)

    monkeypatch.setattr(files, "write_text", fill)
    line = refused(invoke("new-partnership", "Fully", "--dir", str(tmp_path)), 1, "No space left on device")
    assert ".tmp" not in line and "dat-fully" in line
    assert list(tmp_path.iterdir()) == []


def test_new_partnership_force_replaces_its_files_and_keeps_others(tmp_path):
    assert invoke("new-partnership", "Zed", "--dir", str(tmp_path)).exit_code == 0
    pkg = tmp_path / "dat-zed"
    (pkg / "pyproject.toml").write_text("edited\n")
    (pkg / "NOTES.md").write_text("mine\n")
    res = invoke("new-partnership", "Zed", "--dir", str(tmp_path), "--force")
    assert res.exit_code == 0, res.output
    assert "dat-zed" in (pkg / "pyproject.toml").read_text() and (pkg / "NOTES.md").read_text() == "mine\n"
    no_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dat-zed"]


def test_new_partnership_folder_mode_follows_umask(tmp_path):
    assert invoke("new-partnership", "Zed", "--dir", str(tmp_path)).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "dat-zed").stat().st_mode & 0o777 == 0o777 & ~mask


def test_new_partnership_into_a_full_stdout_creates_nothing(tmp_path):
    with open("/dev/full", "w") as full:
        res = subprocess.run([*_dat_cmd(), "new-partnership", "Zed", "--dir", str(tmp_path)], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=60)
    assert res.returncode == 1 and res.stderr.strip() == "dat: cannot write the output: No space left on device"
    assert list(tmp_path.iterdir()) == []


# -- a writer left open on a full disk (C1) -----------------------------------------------------

class _Full:
    """A file whose every write fails as on a full disk (and so does closing a zip on it)."""

    def write(self, _data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def tell(self):
        return 0

    def flush(self):
        pass


def _zip_writer(_path):
    archive = zipfile.ZipFile(_Full(), "w")  # noqa: SIM115 - left open, as openpyxl does on error
    archive.writestr("xl/workbook.xml", "x" * 1000)


def test_a_zip_writer_failing_on_a_full_disk_is_released_quietly(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    out = tmp_path / "o.xlsx"
    out.write_bytes(b"old")
    with pytest.raises(OutputError, match="No space left on device"), atomic_path(out, force=True) as tmp:
        _zip_writer(tmp)
    import gc

    gc.collect()
    assert seen == [] and out.read_bytes() == b"old"
    no_temporaries(tmp_path)


# -- signals and SIGKILL during a write (J1) ---------------------------------------------------

SLOW_WRITER = """
import sys, time, click
from dat.cli import main as m

@m.cli.command("slow-write")
@click.argument("out")
def slow(out):
    from dat.core.files import atomic_text
    with atomic_text(out, force=True) as fh:
        fh.write("new")
        print("ready", flush=True)
        time.sleep(30)

m.main(["slow-write", sys.argv[1]])
"""


@pytest.mark.parametrize("name", ["SIGUSR1", "SIGUSR2", "SIGALRM", "SIGTERM", "SIGHUP"])
def test_a_signal_during_a_write_ends_cleanly(tmp_path, name):
    out = tmp_path / "o.csv"
    out.write_text("old\n")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    assert [p for p in tmp_path.iterdir() if f".{proc.pid}." in p.name]  # the pid is in the name
    sig = getattr(signal, name)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, err
    assert err.strip() == f"dat: stopped by {name}"
    assert out.read_text() == "old\n"
    no_temporaries(tmp_path)


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path):
    """SIGKILL cannot be caught: the next write to the same target removes what it left,
    but never a temporary file of a writer that still runs, nor another target's."""
    out = tmp_path / "o.csv"
    out.write_text("old\n")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.kill()
    proc.communicate(timeout=30)
    stale = [p for p in tmp_path.iterdir() if ".tmp" in p.name]
    assert len(stale) == 1 and f".{proc.pid}." in stale[0].name
    live = tmp_path / f".o.{os.getppid()}.abcdefgh.tmp.csv"  # a process that runs
    other = tmp_path / f".p.{proc.pid}.abcdefgh.tmp.csv"  # another target's
    live.write_text("busy")
    other.write_text("other")
    files.write_text(out, "new\n", force=True)
    assert out.read_text() == "new\n" and not stale[0].exists()
    assert live.read_text() == "busy" and other.read_text() == "other"


def test_a_killed_new_partnership_leaves_nothing_for_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".dat-zed.{dead}.abcdefgh.tmp"
    (stale / "dat_zed").mkdir(parents=True)
    (stale / "dat_zed" / "__init__.py").write_text("half")
    (stale / files.TEMP_MARKER).touch()  # dat's own temporary folder
    assert invoke("new-partnership", "Zed", "--dir", str(tmp_path)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dat-zed"]
    assert not any(p.name == files.TEMP_MARKER for p in (tmp_path / "dat-zed").rglob("*"))


def test_a_users_folder_named_like_a_stale_temporary_is_never_removed(tmp_path):
    """r3 F7: the sweep unlinks only regular files of the temporary name (and, for folders,
    only folders holding dat's marker): a user's folder of that name is left alone."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    mine = tmp_path / f".out.{dead}.abcdefgh.tmp.csv"
    (mine / "keep").mkdir(parents=True)
    (mine / "keep" / "data.txt").write_text("precious")
    files.write_text(tmp_path / "out.csv", "new\n")
    assert (mine / "keep" / "data.txt").read_text() == "precious"
    theirs = tmp_path / f".dat-zed.{dead}.abcdefgh.tmp"  # no marker: not dat's
    (theirs / "dat_zed").mkdir(parents=True)
    (theirs / "dat_zed" / "notes.txt").write_text("mine")
    assert invoke("new-partnership", "Zed", "--dir", str(tmp_path)).exit_code == 0
    assert (theirs / "dat_zed" / "notes.txt").read_text() == "mine"


# -- --help and --version into a closed pipe (I1) ------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["--version"], ["export", "--help"]])
def test_help_into_a_closed_pipe_is_quiet_141(args):
    cmd = " ".join([*_dat_cmd(), *args])
    proc = subprocess.run(f"{cmd} | (exec 0<&-; sleep 0.5); exit ${{PIPESTATUS[0]}}", shell=True,
                          executable="/bin/bash", capture_output=True, timeout=60)
    assert proc.returncode == 141 and proc.stderr == b"", proc.stderr


# -- round 2: names near NAME_MAX, and names with control characters -------------------------------

@pytest.mark.parametrize("name", ["b" * 251 + ".csv", "é" * 125 + ".xlsx"])
def test_an_output_name_up_to_name_max_is_written(tmp_path, name, seed_store):
    assert len(name.encode()) == 255
    target = tmp_path / name
    res = invoke("--db", f"sqlite:///{seed_store.engine.url.database}", "export", "-o", str(target))
    assert res.exit_code == 0, res.stderr
    assert target.exists() and len(res.stderr.strip().splitlines()[-1]) <= 200
    no_temporaries(tmp_path)


def test_a_long_name_reaches_the_temporary_file_writer(tmp_path):
    target = tmp_path / ("z" * 250 + ".md")
    with atomic_path(target) as tmp:
        assert len(tmp.name.encode()) <= 255
        tmp.write_text("x")
    assert target.read_text() == "x"
    no_temporaries(tmp_path)


def test_a_name_with_a_new_line_is_shown_escaped(tmp_path, seed_store):
    target = tmp_path / "new\nline.csv"
    url = f"sqlite:///{seed_store.engine.url.database}"
    res = invoke("--db", url, "export", "-o", str(target))
    assert res.exit_code == 0 and target.exists()
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("new\\nline.csv"), res.stderr
    again = refused(invoke("--db", url, "export", "-o", str(target)), 1, "the file exists")
    assert "new\\nline.csv" in again


def test_r6_output_is_never_the_database_being_read(tmp_path):
    """r6 F02: ``dat export -o DB --force`` replaced the SQLite database it read with the
    export; through a relative path or a linked folder it is the same file, and refused."""
    from click.testing import CliRunner

    from dat.cli.main import cli

    db = tmp_path / "d.sqlite3"
    url = f"sqlite:///{db}"
    assert CliRunner().invoke(cli, ["--db", url, "db", "upgrade"]).exit_code == 0
    before = db.read_bytes()
    (tmp_path / "link").symlink_to(tmp_path)
    for target in (str(db), str(tmp_path / "link" / "d.sqlite3")):
        for args in (["export", "-o", target, "--force"], ["report", "dudley", "-o", target, "--force"]):
            res = CliRunner().invoke(cli, ["--db", url, *args])
            assert res.exit_code == 2 and "it is the database this command reads" in res.stderr, res.stderr
    assert db.read_bytes() == before


def test_r6_a_note_with_u_fffe_exports_to_xlsx(tmp_path):
    """r6 F01: a note holding U+FFFE or U+FFFF (accepted on import) made the .xlsx export an
    internal error; it is written as U+FFFD, as control characters are."""
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from dat.cli.main import cli

    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    src = tmp_path / "in.csv"
    src.write_text("partnership,indicator,period,value,numerator,denominator,note\n"
                   "dudley,NI40,1961/62,40,,,a\ufffeb\uffffc\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["--db", url, "import", str(src)]).exit_code == 0
    out = tmp_path / "o.xlsx"
    res = CliRunner().invoke(cli, ["--db", url, "export", "-i", "NI40", "-p", "dudley", "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    notes = [c.value for row in load_workbook(out).active.iter_rows() for c in row if isinstance(c.value, str)]
    assert "a\ufffdb\ufffdc" in notes, notes
