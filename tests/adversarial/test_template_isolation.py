"""The backstop of every template limit: a user's template renders in a forked child held to a
memory and a time limit (dat.core.isolate), so one call into C that the sandbox's counters
cannot see inside still ends, with dat's message, no output file and the database unchanged.

The cases are the seventh attack's: a quadratic reverse search, dict keys that all hash alike,
a translate table of large strings, a list of a million characters kept 40 times."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from helpers import db_digest

from dat.core import isolate
from dat.core.reports import ReportError, TemplateLimitError, TemplateLimits, render_source, write_report

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the child process needs fork")

MB = 1 << 20
#: small enough that a test takes seconds; the default is 1 GiB and 15 s
TIGHT = TemplateLimits(memory=256 * MB, hard_seconds=2.0)
#: a loaded CI machine may be slow to fork, pickle and reap
SLACK = 12.0


# -- the child itself --------------------------------------------------------------------------

def _value(x):
    return {"x": x, "pid": os.getpid()}


def test_a_result_comes_back_from_another_process():
    out = isolate.run_limited(_value, (41,))
    assert out["x"] == 41 and out["pid"] != os.getpid()


def _raise():
    raise ValueError("the template's own mistake")


def test_an_exception_comes_back_as_itself():
    with pytest.raises(ValueError, match="the template's own mistake"):
        isolate.run_limited(_raise)


class _Odd(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def _raise_odd():
    raise _Odd(1, 2)


def test_an_exception_that_cannot_be_rebuilt_comes_back_as_text():
    with pytest.raises(isolate.Failed, match=r"_Odd: 1/2"):
        isolate.run_limited(_raise_odd)


def _die(sig):
    os.kill(os.getpid(), sig)
    time.sleep(5)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_child_that_dies_is_a_stop_not_a_crash(sig):
    with pytest.raises(isolate.Stopped, match="ran out of memory"):
        isolate.run_limited(_die, (sig,))


def _sleep():
    time.sleep(30)


def test_the_wall_clock_ends_a_child_that_waits():
    start = time.monotonic()
    with pytest.raises(isolate.Stopped, match=r"still running after 0.5 s"):
        isolate.run_limited(_sleep, wall=0.5)
    assert time.monotonic() - start < SLACK


def _spin():
    while True:
        pass


def test_processor_time_ends_a_child_that_spins():
    with pytest.raises(isolate.Stopped, match=r"more than 1 s of processor time|still running"):
        isolate.run_limited(_spin, cpu=1, wall=30)


def _allocate(n):
    return len(bytearray(n))


def test_memory_ends_a_child_that_allocates_too_much():
    with pytest.raises(isolate.Stopped, match=r"ran out of memory \(at most 64 MiB"):
        isolate.run_limited(_allocate, (512 * MB,), memory=64 * MB)
    assert isolate.run_limited(_allocate, (16 * MB,), memory=64 * MB) == 16 * MB


def test_the_caller_keeps_no_zombie_and_no_descriptor():
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        isolate.run_limited(_value, (1,))
    with pytest.raises(isolate.Stopped):
        isolate.run_limited(_sleep, wall=0.2)
    assert len(os.listdir("/proc/self/fd")) == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


# -- templates ---------------------------------------------------------------------------------

SEVENTH_ATTACK = [
    ("rfind-quadratic", '{% set s="a"*1000000 %}{% set n="ab"~("a"*499998) %}{{ s.rfind(n) }}',
     r"stopped because it (was still running after 2 s|used more than 2 s of processor time)"),
    ("hash-collisions", "{% set M=2305843009213693951 %}{{ dict.fromkeys(range(0, M*100000, M))|length }}",
     r"stopped because it (was still running|used more than)|took longer"),
    ("translate-table", '{{ ("a"*2500).translate(["x"*999999]*98)|length }}',
     r"ran out of memory|stopped because|larger than|items"),
    ("cjk-lists", '{% set s="\u4e00"*1000000 %}{% set k=[] %}{% for i in range(40) %}'
     "{% set _=k.append(s|list) %}{% endfor %}{{ k|length }}",
     r"ran out of memory|stopped because|built"),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager
    from dat.core.services import Store

    url = f"sqlite:///{tmp_path_factory.mktemp('iso') / 'iso.sqlite3'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAT_DATA_DIR", str(tmp_path_factory.mktemp("iso-data")))
        reset_plugin_manager()
        try:
            store = Store(url, host=get_plugin_manager(reload=True))
        finally:
            reset_plugin_manager()
    return store, url, db_digest(url)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".md", ".docx"])
@pytest.mark.parametrize("case_id,source,pattern", SEVENTH_ATTACK, ids=[c[0] for c in SEVENTH_ATTACK])
def test_what_the_counters_cannot_see_is_stopped_by_the_child(seeded, tmp_path: Path, case_id, source,
                                                             pattern, suffix):
    store, url, before = seeded
    tpl = tmp_path / "attack.md.j2"
    tpl.write_text(source, encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    start = time.monotonic()
    with pytest.raises(ReportError) as caught:
        write_report(store, "dudley", out, template_file=tpl, limits=TIGHT)
    took = time.monotonic() - start
    message = str(caught.value)
    assert message.startswith(f"template {tpl}") and "\n" not in message, message
    assert pytest.importorskip("re").search(pattern, message), message
    assert caught.value.exit_code == 1
    assert took < 2.0 + SLACK, f"{took:.1f} s: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attack.md.j2"]  # no output, no litter
    assert db_digest(url) == before


def test_a_template_renders_the_same_in_the_child_and_in_process(seeded, tmp_path: Path):
    from dat.core.reports import build_context

    store, _url, _before = seeded
    context = build_context(store, "dudley", "2007/08 Q1")
    source = ("# {{ partnership.name }}, {{ period }}\n{% for r in scorecard.rows %}"
              "- {{ r.code }} {{ r.rag or '' }}\n{% endfor %}")
    inside = render_source(source, context, name="s.md.j2", html=False, sandboxed=True,
                           limits=TemplateLimits(isolate=False))
    child = render_source(source, context, name="s.md.j2", html=False, sandboxed=True)
    assert child == inside and "Dudley" in child and "NTA.RET12" in child


def test_limit_messages_are_the_same_through_the_child():
    source = "{{ 'a'|center(10**9) }}"
    with pytest.raises(TemplateLimitError) as inside:
        render_source(source, {}, name="c.md.j2", html=False, sandboxed=True,
                      limits=TemplateLimits(isolate=False))
    with pytest.raises(TemplateLimitError) as child:
        render_source(source, {}, name="c.md.j2", html=False, sandboxed=True)
    assert str(child.value) == str(inside.value)
    assert "center of 1,000,000,000 items" in str(child.value)


# -- |int is held to the bit limit before it converts (r7 F03, F04) ---------------------------

@pytest.mark.parametrize("source", [
    '{% set x=("f"*999999)|int(base=16) %}{{ x.bit_length() }}',
    '{% set x=("v"*999999)|int(base=32) %}{{ x is divisibleby(3) }}',
    '{{ ("1"*5000)|int(base=2) }}',
    '{% set d = 1.5|string|float %}{{ ("1e5000"|float)|int }}',
])
def test_int_of_a_long_text_is_refused_before_it_converts(source):
    start = time.monotonic()
    with pytest.raises(ReportError, match=r"too large for a template \(limit 4096 bits\)|not finite"):
        render_source(source, {}, name="i.md.j2", html=False, sandboxed=True,
                      limits=TemplateLimits(isolate=False))
    assert time.monotonic() - start < SLACK


def test_int_of_a_scaled_decimal_is_refused_before_it_converts():
    from decimal import Decimal

    start = time.monotonic()
    with pytest.raises(TemplateLimitError, match=r"too large for a template \(limit 4096 bits\)"):
        render_source("{{ (d.scaleb(999990)|int).bit_length() }}", {"d": Decimal("1234.5")}, name="d.md.j2",
                      html=False, sandboxed=True, limits=TemplateLimits(isolate=False))
    assert time.monotonic() - start < SLACK
    assert render_source("{{ (d.scaleb(3)|int) }} {{ ('ff'|int(base=16)) }}", {"d": Decimal("1234.5")},
                         name="d.md.j2", html=False, sandboxed=True) == "1234500 255"
