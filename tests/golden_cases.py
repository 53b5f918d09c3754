"""The JSON outputs that a refactoring must leave byte-identical: ``dat status`` (every
period with figures), ``dat funding``, ``dat actions`` and ``dat compare`` (every indicator a
partnership has figures for, named and across all partnerships) for the five built-in
partnerships. ``python tests/golden_cases.py`` rewrites ``tests/golden/outputs.json.gz`` —
only do that when a change of output is intended, and say so in the commit."""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).with_name("golden") / "outputs.json.gz"
PARTNERSHIPS = ("bromley", "cheshire", "dudley", "haringey", "ne_lincs")
#: the day ``dat actions`` judges overdue against in the recorded outputs
AS_OF = "2008-04-01"


def cases(db_url: str) -> list[list[str]]:
    """Every command line compared, worked out from the database itself."""
    from dat.core.services import Store, list_indicators, periods_with_data

    store = Store(db_url)
    out: list[list[str]] = []
    codes: set[str] = set()
    for slug in PARTNERSHIPS:
        out.append(["status", slug])
        for period in periods_with_data(store, slug):
            out.append(["status", slug, "-P", period])
        out.append(["funding", slug])
        # a fixed day: whether an action is overdue depends on the day it is judged
        out.append(["actions", slug, "--as-of", AS_OF])
        for ind in list_indicators(store, slug):
            out.append(["compare", slug, "-i", ind["code"]])
            codes.add(ind["code"])
    out.append(["funding", *PARTNERSHIPS])
    for code in sorted(codes):
        out.append(["compare", "-i", code])
        out.append(["compare", "-i", code, "--include-sub-areas", "-b", "group"])
    return out


def run_all(db_url: str) -> dict[str, dict[str, object]]:
    from click.testing import CliRunner

    from dat.cli.main import cli

    runner = CliRunner()
    results: dict[str, dict[str, object]] = {}
    for args in cases(db_url):
        res = runner.invoke(cli, ["--db", db_url, *args, "-f", "json"], catch_exceptions=False)
        results[" ".join(args)] = {"exit": res.exit_code, "stdout": res.stdout}
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DAT_DATA_DIR"] = tmp
        results = run_all(f"sqlite:///{tmp}/golden.sqlite3")
    GOLDEN.parent.mkdir(exist_ok=True)
    with gzip.open(GOLDEN, "wt", encoding="utf-8") as fh:
        json.dump(results, fh, indent=0, sort_keys=True)
    print(f"{len(results)} outputs written to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
