"""Every file a tracked file names exists.

Code, tests and docs point at each other by path ("see docs/cli.md", "core/db.py's
HEAD_REVISION", "tests/test_migrations.py checks ..."). This scans every file ``git ls-files``
lists (not the snapshot and golden outputs, not binary files, not symlinks) for words that
look like a relative path of this repository ending in ``.md`` or ``.py`` and fails, listing
each one, when a named file is missing.

A word is taken as a path when it has a folder part (``docs/cli.md``, ``../README.md``) or is a
capitalised top-level document (``README.md``). Bare lower-case names (``plugin.py``,
``summary.md``) are mostly output files and names inside a folder the text has just named, so
they are not checked. A path is found when it exists relative to the repository root, relative
to the folder of the file naming it, or under the package mapping of pyproject.toml
(``dat/core/db.py`` is core/db.py). Not checked: URLs; words with a ``{placeholder}`` (the
scaffold's templates of a generated package); paths rooted in a variable or absolute; the
entries of a CHANGELOG.md (history may name files since removed); this file's own examples; the
few references below that name files of a package the text describes, not of this repository.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from helpers import ROOT

SKIP_PREFIXES = ("tests/__snapshots__/", "tests/golden/")
#: this file: its examples of what is and is not a path are what it tests
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()

#: (referencing file, path): paths of an example package the text is describing
EXAMPLES = {
    ("docs/plugins.md", "my_area_dat/__init__.py"),  # "the shortest plugin": a package of your own
    ("docs/plugins.md", "dat_sefton/__init__.py"),  # what `dat new-partnership "Sefton"` writes
    ("docs/plugins.md", "tests/test_sefton.py"),  # ditto
    ("tests/adversarial/test_files.py", "dat_zed/__init__.py"),  # the package a test scaffolds
    ("tests/adversarial/test_files.py", "NOTES.md"),  # a user's own file inside that package
}

# A relative path: optional ./ or ../ steps, then name(/name)* ending .md or .py. Not preceded
# by a character that would make it the tail of something longer (a folder, a URL, a
# {placeholder}, $VAR, ~ or a glob's *), not followed by more of a name (options_appraisal.md.j2).
PATH = re.compile(r"(?<![\w{}/.\-$~*%\\])((?:\.{1,2}/)*\.?[\w-][\w.-]*(?:/[\w.-]+)*\.(?:md|py))(?![\w/{}\\-]|\.\w)")
URL = re.compile(r"[A-Za-z][\w+.-]*://\S+")
TOP_LEVEL_DOC = re.compile(r"[A-Z][A-Z0-9_-]*\.md")


def _package_dirs() -> dict[str, str]:
    """``{"dat/core/": "core/", ...}`` from pyproject.toml's ``[tool.setuptools] package-dir``."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        mapping = tomllib.load(fh)["tool"]["setuptools"]["package-dir"]
    return {package.replace(".", "/") + "/": folder.rstrip("/") + "/" for package, folder in mapping.items()}


PACKAGE_DIRS = _package_dirs()


def _tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no list of tracked files")
    return [name for name in out.decode().split("\0") if name]


def _text(relpath: str) -> str | None:
    path = ROOT / relpath
    if path.is_symlink() or not path.is_file():
        return None
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def path_words(line: str) -> list[str]:
    """The words of ``line`` that are taken as repository paths (see the module docstring)."""
    line = URL.sub(" ", line)
    return [w for w in PATH.findall(line) if "/" in w or TOP_LEVEL_DOC.fullmatch(w)]


def resolves(referrer: str, word: str) -> bool:
    """Whether ``word``, named in the tracked file ``referrer``, is a file of the repository."""
    candidates = [ROOT / word, (ROOT / referrer).parent / word]
    for package, folder in PACKAGE_DIRS.items():
        if word.startswith(package):
            candidates.append(ROOT / folder / word[len(package):])
    return any(c.is_file() for c in candidates)


def references() -> list[tuple[str, int, str]]:
    """Every (file, line number, path word) in the tracked files."""
    found = []
    for relpath in _tracked_files():
        if relpath.startswith(SKIP_PREFIXES) or relpath == SELF or Path(relpath).name == "CHANGELOG.md":
            continue
        text = _text(relpath)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            found.extend((relpath, number, word) for word in path_words(line))
    return found


def test_every_referenced_file_exists():
    missing = [f"{relpath}:{number} → {word}" for relpath, number, word in references()
               if (relpath, word) not in EXAMPLES and not resolves(relpath, word)]
    if missing:
        pytest.fail(f"{len(missing)} references to files that do not exist:\n" + "\n".join(missing), pytrace=False)


def test_the_scan_sees_references_it_should():
    # guards against a scan that finds nothing and passes, and against stale exemptions
    found = {(relpath, word) for relpath, _, word in references()}
    assert {("core/db.py", "tests/test_migrations.py"), ("core/models.py", "tests/test_migrations.py"),
            ("README.md", "docs/cli.md")} <= found
    assert EXAMPLES <= found, f"EXAMPLES names references no longer made: {EXAMPLES - found}"


@pytest.mark.parametrize("line, words", [
    ("see docs/cli.md and `core/models.py`.", ["docs/cli.md", "core/models.py"]),
    ("[the guide](../docs/plugins.md#testing), DESIGN.md §7", ["../docs/plugins.md", "DESIGN.md"]),
    ("tests/test_migrations.py::test_head_revision_is_the_head_of_the_scripts", ["tests/test_migrations.py"]),
    ("https://example.org/docs/cli.md and file:///tmp/docs/x.py", []),
    ('f"tests/test_{slug}.py", "{slug}/plugin.py", $HOME/x/y.py, ~/x/y.md', []),
    ("templates/options_appraisal.md.j2, core/migrations/script.py.mako, tests/test_seed_*.py", []),
    ("/abs/path/x.py, plugin.py, summary.md, .md, *.py", []),
    ("dat/core/db.py", ["dat/core/db.py"]),
])
def test_what_is_taken_as_a_path(line, words):
    assert path_words(line) == words


def test_paths_resolve_from_root_folder_and_package_mapping():
    assert resolves("docs/cli.md", "core/db.py")
    assert resolves("docs/cli.md", "plugins.md")  # beside the referring file
    assert resolves("README.md", "dat/core/db.py")
    assert resolves("README.md", "dat/core/migrations/env.py")
    assert resolves("README.md", "dat/cli/main.py")
    assert not resolves("README.md", "dat/core/no_such_module.py")
    assert not resolves("README.md", "docs/no_such_page.md")
