"""Refactoring safety net: the JSON of ``dat status``, ``dat funding``, ``dat actions`` and
``dat compare`` for the five built-in partnerships is byte-identical to the recorded outputs
(``tests/golden_cases.py`` says which command lines, and how to re-record on purpose)."""

from __future__ import annotations

import gzip
import json

from golden_cases import GOLDEN, run_all


def test_json_outputs_are_byte_identical(tmp_path):
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        expected = json.load(fh)
    actual = run_all(f"sqlite:///{tmp_path / 'golden.sqlite3'}")
    assert sorted(actual) == sorted(expected), "the set of command lines changed"
    changed = [k for k in expected if actual[k] != expected[k]]
    assert not changed, f"{len(changed)} of {len(expected)} outputs changed, first: {changed[:5]}"
    assert len(expected) > 400
