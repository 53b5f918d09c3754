"""Hostile and careless user templates (``dat report --template-file``): every one ends in one
clear line naming the limit or the refusal (a ReportError, exit 1), within bounded time and
memory, with no output file and the database unchanged; legitimate templates still render.

The corpus runs through the real entry point, :func:`dat.core.reports.write_report`, on
SQLite and PostgreSQL (one store per backend for the module: rendering only reads). Cases that
need a limit to be reached run with small limits (``SMALL``) so each takes milliseconds; the
cases measured on main run with the default limits as well.
"""

from __future__ import annotations

import dataclasses
import re
import time
import tracemalloc
import uuid
from pathlib import Path

import pytest
from helpers import db_digest, run_dat

from dat.core.reports import ReportError, TemplateLimitError, TemplateLimits

SMALL = TemplateLimits(source=200_000, output=200_000, seconds=30, depth=30, size=100_000,
                       range=10_000, iterations=5_000, built=2_000_000)
DEFAULT = TemplateLimits()
MAX_SECONDS = 5.0  # refused at once: milliseconds alone, seconds on a loaded CI machine
MAX_PEAK_MB = 60.0


# -- one store per backend for the whole module -------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request, tmp_path_factory):
    """(store, url, digest before) on each backend, seeded from the plugins once."""
    import os

    from dat.core.db import dispose_engines
    from dat.core.plugins import get_plugin_manager, reset_plugin_manager
    from dat.core.services import Store

    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('tpl') / 'tpl.sqlite3'}"
    else:
        base = os.environ.get("DAT_TEST_POSTGRES_URL") or request.getfixturevalue("pg_server_url")
        from sqlalchemy import create_engine, text

        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        name = f"dat_tpl_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as mp:
        for var in ("DAT_PLUGINS", "DAT_DISABLE_PLUGINS", "DAT_DB", "DAT_STRICT_PLUGINS"):
            mp.delenv(var, raising=False)
        mp.setenv("DAT_DATA_DIR", str(tmp_path_factory.mktemp("tpl-data")))
        reset_plugin_manager()
        try:
            store = Store(url, host=get_plugin_manager(reload=True))
        finally:
            reset_plugin_manager()
    yield store, url, db_digest(url)
    dispose_engines()
    if admin is not None:
        from sqlalchemy import text

        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


_CONTEXTS: dict[str, dict] = {}


def _render(backend, tmp_path: Path, source: str | bytes, *, limits: TemplateLimits,
            suffix: str = ".md", name: str = "custom.md.j2", monkeypatch=None):
    """Write ``source`` as a template file and render it to ``out{suffix}`` through
    write_report; return (outcome, seconds, peak MB, output path). The context is read from
    the database once per backend (a deep copy per render: a template may mutate it), so the
    time and memory measured are the render's."""
    import copy

    from dat.core import reports

    store, url, _before = backend
    if url not in _CONTEXTS:
        _CONTEXTS[url] = reports.build_context(store, "dudley")
    clock: list[float] = []

    def cached_context(*_args, **_kwargs):
        context = copy.deepcopy(_CONTEXTS[url])
        tracemalloc.start()
        clock.append(time.perf_counter())
        return context

    tpl = tmp_path / name
    if isinstance(source, bytes):
        tpl.write_bytes(source)
    else:
        tpl.write_text(source, encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    # in process, so the memory measured is the render's; the child process that holds every
    # render of a user's template to its memory and time is tested in test_template_isolation
    limits = dataclasses.replace(limits, isolate=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reports, "build_context", cached_context)
        start = time.perf_counter()
        try:
            outcome: object = reports.write_report(store, "dudley", out, template_file=tpl,
                                                   limits=limits)
        except Exception as exc:  # the test asserts what it is
            outcome = exc
        finally:
            seconds = time.perf_counter() - (clock[0] if clock else start)
            peak = tracemalloc.get_traced_memory()[1] / 1e6 if tracemalloc.is_tracing() else 0.0
            tracemalloc.stop()
    return outcome, seconds, peak, out


def _refusal(backend, tmp_path, source, pattern, *, limits=SMALL, cls=ReportError,
             name="custom.md.j2", suffix=".md") -> tuple[str, float, float]:
    """Render a hostile template; return (message, seconds, peak MB), or raise
    AssertionError saying what was wrong with the outcome."""
    import re

    outcome, seconds, peak, out = _render(backend, tmp_path, source, limits=limits, name=name,
                                          suffix=suffix)
    assert isinstance(outcome, cls), f"expected {cls.__name__}, got {outcome!r}"
    message = str(outcome)
    assert "\n" not in message and "Traceback" not in message, message
    assert name in message, message  # names the template
    assert re.search(pattern, message), message
    assert outcome.exit_code == 1
    assert seconds < MAX_SECONDS, f"{seconds:.2f} s: {message}"
    assert peak < MAX_PEAK_MB, f"{peak:.1f} MB: {message}"
    assert not out.exists(), "a refused render left an output file behind"
    return message, seconds, peak


def _assert_refused(backend, tmp_path, source, pattern, **kw) -> str:
    message = _refusal(backend, tmp_path, source, pattern, **kw)[0]
    assert db_digest(backend[1]) == backend[2]
    return message


def _assert_all_refused(backend, tmp_path, cases, **kw) -> None:
    """Every (id, source, pattern) refused as :func:`_refusal` checks; the database digest is
    taken once after them all (rendering only reads, and a digest costs 0.1 s)."""
    failures = []
    for i, (case_id, source, pattern) in enumerate(cases):
        where = tmp_path / f"c{i}"
        where.mkdir()
        try:
            _refusal(backend, where, source, pattern, **kw)
        except AssertionError as exc:
            failures.append(f"{case_id}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)
    assert db_digest(backend[1]) == backend[2]


# -- the cases measured on main, with the default limits --------------------------------------

BIG = "{% set s = 'x' * 1000000 %}"
MEASURED = [
    ("center", "{{ 'a'|center(10**9) }}", r"\|center of 1,000,000,000 items \(limit 1,000,000\)"),
    ("ljust", "{{ 'a'.ljust(10**9) }}", r"ljust\(\) of 1,000,000,000 items"),
    ("rjust", "{{ 'a'.rjust(10**9) }}", r"rjust\(\) of 1,000,000,000 items"),
    ("zfill", "{{ '1'.zfill(10**9) }}", r"zfill\(\) of 1,000,000,000 items"),
    ("printf-width-filter", "{{ '%1000000000d'|format(1) }}", r"format width or precision of 1,000,000,000"),
    ("str-format-width", "{{ '{:>1000000000}'.format(1) }}", r"format width or precision of 1,000,000,000"),
    ("printf-star", "{{ '%*d' % (1000000000, 1) }}", r"format width or precision of 1,000,000,000"),
    ("printf-precision", "{{ '%.1000000000f' % 1.5 }}", r"format width or precision of 1,000,000,000"),
    ("concat-doubling", "{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
     "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", r"string with ~ of 1,048,576 items"),
    ("list-plus-doubling", "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
     "{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}", r"value of 1,048,576 items"),
    ("print-1mb-99999-times", BIG + "{% for i in range(99999) %}{{ s }}{% endfor %}",
     r"output larger than 10 MB \(the limit for a report"),
    ("lipsum", "{{ lipsum(n=10**7) }}", r"lipsum text of .* items \(limit 1,000,000\)"),
    ("macro-recursion", "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
     r"macros nested more than 100 deep .*recursion"),
    ("star-repeat", "{{ 'a' * 10**10 }}", r"value of 10,000,000,000 items"),
    ("power", "{{ 9 ** 999 }}", r"exponent 999 is too large"),
]


def test_measured_on_main_is_bounded_by_default(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, MEASURED, limits=DEFAULT, cls=TemplateLimitError)


def test_nested_range_loops_stop_at_the_time_or_iteration_limit(backend, tmp_path):
    # range(99999) nested: 10**10 steps; stopped by the loop budget (or the clock)
    src = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    _assert_refused(backend, tmp_path, src, r"loops ran more than 100,000 steps in all",
                    limits=TemplateLimits(iterations=100_000), cls=TemplateLimitError)
    only_time = TemplateLimits(seconds=0.3, iterations=10**9)
    _assert_refused(backend, tmp_path, src, r"took longer than 0\.3 s", limits=only_time,
                    cls=TemplateLimitError)


# -- my own hostile payloads, with small limits ------------------------------------------------

B = "{% set s = 'x' * 100000 %}"  # exactly the SMALL size limit
# lists (and a tuple) nested in themselves 40 times: two items each, 2**40 parts in all
NEST = ("{% set ns = namespace(x='a', y='a', t='a') %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
        "{% set ns.y = [ns.y, ns.y] %}{% set ns.t = (ns.t, ns.t) %}{% endfor %}")
CMP = r"may not compare or look up a value of more than 100,000 parts"
OWN = [
    ("paren-nesting", "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", r"recursion too deep|nested too deeply"),
    ("list-nesting", "{{ " + "[" * 3000 + "1" + "]" * 3000 + " }}", r"recursion too deep|nested too deeply"),
    ("if-nesting", "{% if 1 %}" * 400 + "x" + "{% endif %}" * 400, r"recursion too deep|nested too deeply"),
    ("generator-of-generators", "{% for a in range(10000)|map('string') %}{% for b in range(10000)|map('string') %}"
     "{% endfor %}{% endfor %}", r"loops ran more than 5,000 steps"),
    ("list-of-huge-range", "{{ range(10**9)|list|length }}",
     r"range of 1,000,000,000 items is too large \(limit 10,000\)"),
    ("range-step", "{{ range(0, 10**12, 7)|sum }}", r"range of .* items is too large"),
    ("sum-of-lists", "{{ ([[1] * 1000] * 10000)|sum(start=[]) }}", r"\|sum of 10,000,000 items"),
    ("list-plus-huge", B + "{{ (s|list) + (s|list) }}", r"value of 200,000 items"),
    ("wordwrap-1", B + "{{ s|wordwrap(1) }}", r"\|wordwrap of .* items \(limit 100,000\)"),
    ("wordwrap-spaces", "{{ ('a ' * 50000)|wordwrap(1, wrapstring='<br>') }}", r"\|wordwrap of"),
    ("set-doubling", "{% set a = 'ab' %}{% set a = a ~ a %}" + "{% set a = a ~ a %}" * 20 + "{{ a }}",
     r"string with ~ of .* items"),
    ("namespace-loop-append", "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
     "{% for j in range(100) %}{% set _ = ns.l.append(j) %}{% endfor %}{% endfor %}",
     r"loops ran more than|append\(\)"),
    ("self-growing-loop", "{% set l = [1] %}{% for x in l %}{% set _ = l.append(x) %}{% endfor %}",
     r"loops ran more than 5,000 steps|took longer"),
    ("extend-self", "{% set l = [1] %}{% for i in range(40) %}{% set _ = l.extend(l) %}{% endfor %}",
     r"extend\(\) of 131,072 items"),
    ("dict-update-growth", "{% set d = {} %}{% for i in range(11) %}"
     "{% set _ = d.update(dict.fromkeys(range(10000 * i, 10000 * i + 10000))) %}"
     "{% endfor %}{{ d|length }}", r"update\(\) of 110,000 items"),
    ("filter-block-upper", B + "{% filter upper %}{% for i in range(100) %}{{ s }}{% endfor %}{% endfilter %}",
     r"output larger than 200,000 characters"),
    ("set-block-capture", B + "{% set big %}{% for i in range(100) %}{{ s }}{% endfor %}{% endset %}{{ big|length }}",
     r"output larger than"),
    ("macro-capture", B + "{% macro m() %}{% for i in range(100) %}{{ s }}{% endfor %}{% endmacro %}{{ m()|length }}",
     r"output larger than"),
    ("call-block-caller", B + "{% macro m() %}{% for i in range(100) %}{{ caller() }}{% endfor %}{% endmacro %}"
     "{% call m() %}{{ s }}{% endcall %}", r"output larger than"),
    ("caller-recursion", "{% macro m() %}{{ caller() }}{% endmacro %}"
     "{% macro r() %}{% call m() %}{{ r() }}{% endcall %}{% endmacro %}{{ r() }}",
     r"macros nested more than 30 deep"),
    ("recursive-loop",
     "{% set l = [[]] %}{% set _ = l[0].append(l) %}{% for x in l recursive %}{{ loop(x) }}{% endfor %}",
     r"macros nested more than 30 deep|loops ran more than"),
    ("block-self-call", B + "{% block b %}{{ s }}{% endblock %}{% for i in range(100) %}{{ self.b() }}{% endfor %}",
     r"output larger than"),
    ("raw-huge-source", "{% raw %}" + "x" * 300_000 + "{% endraw %}", r"larger than 200,000 characters of source"),
    ("long-source", "{{ 1 }}" * 40_000, r"larger than 200,000 characters of source"),
    ("extends-self", "{% extends 'custom.md.j2' %}",
     r"SecurityError: a user's template cannot include, import or extend"),
    ("include-self", "x{% include 'custom.md.j2' %}", r"SecurityError: a user's template cannot include"),
    ("import-self", "{% import 'custom.md.j2' as me %}{{ me }}", r"SecurityError: a user's template cannot include"),
    ("from-import", "{% from '/etc/passwd' import x %}", r"SecurityError: a user's template cannot include"),
    ("include-ignore-missing", "{% include '/etc/shadow' ignore missing %}", r"SecurityError"),
    ("expandtabs", "{{ ('\\t' * 1000).expandtabs(10**6) }}", r"expandtabs\(\) of 1,000,001,000 items"),
    ("replace-growth", B + "{{ s.replace('x', 'yy') }}", r"replace\(\) of 200,000 items"),
    ("replace-empty", "{{ ('a' * 1000)|replace('', 'x' * 1000) }}", r"\|replace of 1,002,000 items"),
    ("translate", "{{ ('a' * 1000).translate({97: 'b' * 1000}) }}", r"translate\(\) of 1,000,000 items"),
    ("join-method", B + "{{ ''.join([s] * 1000) }}", r"join\(\) of [\d,]+ items \(limit 100,000\)"),
    ("join-filter", B + "{{ [s, s]|join }}", r"\|join of 200,000 items"),
    ("batch-fill", "{{ [1]|batch(10**8, 0)|list }}", r"\|batch of 100,000,000 items"),
    ("slice", "{{ [1]|slice(10**9)|list }}", r"slice into 1,000,000,000 parts"),
    ("indent-width", "{{ 'a\\nb'|indent(10**8) }}", r"\|indent of 100,000,000 items"),
    ("indent-string", "{{ ('a\\n' * 1000)|indent('x' * 1000) }}", r"\|indent of"),
    ("format-map-width", "{{ '{x:>{w}}'.format_map({'x': 1, 'w': 10**8}) }}",
     r"format width or precision of 100,000,000"),
    ("format-many-fields", B + "{{ ('{0}' * 50).format(s) }}", r"formatted string of .* items"),
    ("printf-many", B + "{{ '%s%s' % (s, s) }}", r"formatted string of"),
    ("printf-mapping", "{{ '%(w)1000000000s' % {'w': 1} }}", r"format width or precision of 1,000,000,000"),
    ("markup-format", "{{ ('<b>{}</b>'|safe).format('x' * 10**6) }}",
     r"value of 1,000,000 items|formatted string|of 1,000,000 items"),
    ("lipsum-max", "{{ lipsum(1, max=10**9) }}", r"lipsum text of"),
    ("big-int-square", "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
     r"a number too large for a template \(limit 4096 bits\)"),
    ("big-int-add", "{% set ns = namespace(n=1) %}{% for i in range(5000) %}{% set ns.n = ns.n + ns.n %}{% endfor %}",
     r"a number too large"),
    ("attr-center", "{{ ('a'|attr('center'))(10**9) }}", r"center\(\) of 1,000,000,000 items"),
    ("map-center", "{{ ['a']|map('center', 10**9)|list }}", r"\|center of 1,000,000,000 items"),
    ("getitem-method", "{{ 'a'['ljust'](10**9) }}", r"ljust\(\) of 1,000,000,000 items"),
    ("escape-growth", "{{ ('&' * 90000)|e }}", r"value of 450,000 items"),
    ("tuple-repeat", "{{ (1, 2) * 10**8 }}", r"value of 200,000,000 items"),
    ("built-total", B + "{% set ns = namespace(l=[]) %}{% for i in range(100) %}"
     "{% set _ = ns.l.append(s|upper) %}{% endfor %}",
     r"built more than 2,000,000 characters and items in all"),
    ("nested-list-print", "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
     "{% endfor %}{{ ns.x }}", r"may not print a value longer than 100,000 characters"),
    ("nested-dict-tojson", "{% set ns = namespace(x='a') %}{% for i in range(40) %}"
     "{% set ns.x = {'a': ns.x, 'b': ns.x} %}{% endfor %}{{ ns.x|tojson }}", r"may not print a value longer"),
    ("nested-tuple-printf", "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = (ns.x, ns.x) %}"
     "{% endfor %}{{ '%s' % (ns.x,) }}", r"formatted string of"),
    ("nested-str-format", "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
     "{% endfor %}{{ '{}'.format(ns.x) }}", r"may not print a value longer"),
    ("nested-concat", "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
     "{% endfor %}{{ ns.x ~ '' }}", r"string with ~ of"),
    ("nested-join", "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
     "{% endfor %}{{ [ns.x]|join }}", r"\|join of"),
    ("nested-upper", "{% set ns = namespace(x='a') %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
     "{% endfor %}{{ ns.x|upper }}", r"may not print a value longer"),
    ("nested-eq", NEST + "{{ ns.x == ns.y }}", CMP),
    ("nested-in", NEST + "{{ ns.x in [ns.y] }}", CMP),
    ("nested-tuple-key", NEST + "{{ {ns.t: 1} }}", CMP),
    ("nested-sort", NEST + "{{ [ns.x, ns.y]|sort }}", CMP),
    ("nested-test-eq", NEST + "{{ ns.x is eq(ns.y) }}", CMP),
    ("nested-index", NEST + "{{ [ns.x].index(ns.y) }}", CMP),
    ("nested-dict-get", NEST + "{{ {}.get(ns.t) }}", CMP),
    ("nested-getitem", NEST + "{{ {}[ns.t] }}", CMP),
    ("nested-unique", NEST + "{{ [ns.x]|unique|list }}", CMP),
    ("nested-namespace-print", "{% set ns = namespace(n=namespace(v='a')) %}{% for i in range(40) %}"
     "{% set ns.n = namespace(l=ns.n, r=ns.n) %}{% endfor %}{{ ns.n }}", r"may not print a value longer"),
    ("nested-dict-items", "{% set ns = namespace(d={'a': 1}) %}{% for i in range(40) %}"
     "{% set ns.d = {'a': ns.d, 'b': ns.d} %}{% endfor %}{{ ns.d.items() }}", r"may not print a value longer"),
    ("for-nesting-compile", "{% for a in [1] %}" * 25 + "x" + "{% endfor %}" * 25, r"nested too deeply to compile"),
    ("nul-byte", "# a\x00b {{ 1 }}", r"contains a NUL character"),
]


@pytest.mark.parametrize("part", range(4))
def test_own_hostile_payloads_are_refused_clearly(backend, tmp_path, part):
    _assert_all_refused(backend, tmp_path, OWN[part::4])


def test_invalid_utf8_template_is_refused(backend, tmp_path):
    _assert_refused(backend, tmp_path, b"# caf\xe9 {{ 1 }}\n", r"not UTF-8 text")


def test_huge_template_file_is_not_read_whole(backend, tmp_path):
    # 5 MB on disk: read no further than the limit (the peak stays far below the file size)
    _assert_refused(backend, tmp_path, "{# " + "x" * 5_000_000 + " #}",
                    r"larger than 200,000 characters of source")


# -- escapes: the classic SSTI payloads -----------------------------------------------------

SSTI = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch {m}').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('touch {m}') }}",
    "{{ config.__class__.__init__.__globals__['os'].popen('touch {m}') }}",
    "{{ request.application.__globals__.__builtins__.__import__('os').popen('touch {m}') }}",
    "{{ namespace.__init__.__globals__.os.popen('touch {m}').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch {m}').read() }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ joiner.__init__.__globals__.os.system('touch {m}') }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'Popen' %}"
    "{{ c('touch {m}', shell=True) }}{% endif %}{% endfor %}",
    "{{ ().__class__.__base__.__subclasses__()[0]('touch {m}') }}",
    "{{ dict.__class__.mro()[-1].__subclasses__() }}",
]


def test_ssti_payloads_are_refused_and_execute_nothing(backend, tmp_path):
    marker = tmp_path / "pwned"
    cases = [(f"ssti-{i}", p.replace("{m}", str(marker)),
              r"SecurityError: access to attribute '_|UndefinedError: '(config|request)' is undefined")
             for i, p in enumerate(SSTI)]
    _assert_all_refused(backend, tmp_path, cases)
    assert not marker.exists()


def test_escape_payloads_name_securityerror(backend, tmp_path):
    msg = _assert_refused(backend, tmp_path, "{{ cycler.__init__.__globals__ }}", r"SecurityError")
    assert "__init__" in msg


# -- what held keeps holding and legitimate templates render ---------------------------------

def test_html_user_template_autoescapes(backend, tmp_path):
    src = "<p>{{ '<script>alert(1)</script>' }} {{ partnership.name }}</p>{{ '<i>%s</i>'|safe % '<b>' }}\n"
    outcome, seconds, _peak, out = _render(backend, tmp_path, src, limits=SMALL, suffix=".html",
                                           name="custom.html.j2")
    assert not isinstance(outcome, Exception), outcome
    html = out.read_text()
    assert html == ("<p>&lt;script&gt;alert(1)&lt;/script&gt; Dudley</p><i>&lt;b&gt;</i>\n")


REALISTIC = """\
{% macro row(code, f) -%}
| {{ code }} | {{ f.value|num }} | {{ f.rag|rag }} |
{%- endmacro %}
# {{ partnership.name }}: {{ period }}

{% for code, periods in figures|dictsort if code in ['NTA.RET12'] %}
{% for p, f in periods|dictsort %}{% if loop.first %}{{ row(code, f) }}
{% endif %}{% endfor %}
{% endfor %}
Funding lines: {{ funding.lines|length }}; {{ '%-6s|%6.2f' % ('total', 12.5) }}
Money: {{ 1234567|money }} {{ '{:,.2f}'.format(1234.5) }} {{ '{:>8}'.format('ok') }}
{% set ns = namespace(total=0) %}{% for i in range(1, 101) %}{% set ns.total = ns.total + i %}{% endfor %}
Sum 1..100 = {{ ns.total }}; {{ ['b', 'a', 'c']|sort|join(', ') }}; {{ 'x'|center(7) }}|
{{ "lorem ipsum dolor sit amet"|wordwrap(11) }}
{% filter upper %}shout{% endfilter %} {{ 'abc'.replace('b', 'bb')|truncate(10) }} {{ [1, 2, 3, 4]|batch(3)|list }}
"""


def test_realistic_custom_template_renders_exactly(backend, tmp_path):
    from dat.core.reports import build_context, render_source

    outcome, seconds, peak, out = _render(backend, tmp_path, REALISTIC, limits=DEFAULT)
    assert not isinstance(outcome, Exception), outcome
    assert out.read_text() == (
        "# Dudley: 2007/08 Q1\n\n| NTA.RET12 | 70 | not rated |\n"
        "Funding lines: 4; total | 12.50\nMoney: £1,234,567 1,234.50       ok\n"
        "Sum 1..100 = 5050; a, b, c;    x   |\nlorem ipsum\ndolor sit\namet\n"
        "SHOUT abbc [[1, 2, 3], [4]]\n")
    # the limits change nothing: the same text as Jinja2's plain environment renders
    context = build_context(backend[0], "dudley")
    assert out.read_text() == render_source(REALISTIC, context, name="r.md.j2", html=False,
                                            sandboxed=False)
    assert seconds < MAX_SECONDS and peak < MAX_PEAK_MB


# -- hypothesis: width and precision specs, str methods ------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

H_LIMITS = TemplateLimits(size=10_000, seconds=2.0)
widths = st.one_of(st.integers(0, 20_000), st.integers(0, 10**15))


@settings(max_examples=60, deadline=None)
@given(width=widths, precision=st.one_of(st.none(), st.integers(0, 10**12)),
       conv=st.sampled_from(["d", "s", "f", "x", "e", "r"]), style=st.sampled_from(["%", "{}", "filter", "star"]))
def test_any_width_or_precision_is_bounded(width, precision, conv, style):
    from dat.core.reports import render_source

    prec = "" if precision is None or conv in "dx" else f".{precision}"
    if style == "%":
        src = "{{ '%" + f"{width}{prec}{conv}" + "' % 7 }}"
    elif style == "filter":
        src = "{{ '%" + f"{width}{prec}{conv}" + "'|format(7) }}"
    elif style == "star":
        src = "{{ '%*" + f"{prec}{conv}' % ({width}, 7)" + " }}"
    else:
        spec = f"{width}{prec}{'' if conv == 'r' else conv}"
        src = "{{ '{:>" + spec + "}'.format(7) }}"
    try:
        text = render_source(src, {}, name="h.md.j2", html=False, sandboxed=True, limits=H_LIMITS)
    except TemplateLimitError as exc:
        assert "\n" not in str(exc) and "h.md.j2" in str(exc)
        assert max(width, precision or 0) > 1_000 or "items" in str(exc)
    except ReportError as exc:  # Python refuses some combinations itself ('%.5d'...)
        assert "h.md.j2" in str(exc) and "\n" not in str(exc)
    else:
        assert len(text) <= H_LIMITS.size
        used = 0 if precision is None or conv in "dx" else precision
        assert width <= H_LIMITS.size and used <= H_LIMITS.size


@settings(max_examples=60, deadline=None)
@given(method=st.sampled_from(["center", "ljust", "rjust", "zfill"]), width=widths,
       text=st.text(alphabet="ab1", max_size=20), as_filter=st.booleans())
def test_padding_methods_refuse_exactly_past_the_limit(method, width, text, as_filter):
    from dat.core.reports import render_source

    call = f"{text!r}|center({width})" if as_filter and method == "center" else f"{text!r}.{method}({width})"
    src = "{{ " + call + " }}"
    if width > H_LIMITS.size:
        with pytest.raises(TemplateLimitError, match=r"of [\d,]+ items \(limit 10,000\)"):
            render_source(src, {}, name="h.md.j2", html=False, sandboxed=True, limits=H_LIMITS)
    else:
        text_out = render_source(src, {}, name="h.md.j2", html=False, sandboxed=True, limits=H_LIMITS)
        assert text_out == getattr(text, method)(width)


# -- end to end: the real process ------------------------------------------------------------

def test_cli_recursion_exits_1_one_line_no_traceback_no_file(backend, tmp_path):
    _store, db_url, before = backend
    cases = {
        "recurse.md.j2": ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(0) }}", "macros nested more than 100 deep"),
    }
    for fname, (src, needle) in cases.items():
        tpl = tmp_path / fname
        tpl.write_text(src)
        out = tmp_path / "out.docx"
        res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
        assert res.returncode == 1, res.stderr
        lines = res.stderr.strip().splitlines()
        # the path is shortened in the middle when the line would pass 200 characters
        assert len(lines) == 1 and len(lines[0]) <= 200, res.stderr
        assert lines[0].startswith("dat: template /") and f"{fname}, line 1" in lines[0], res.stderr
        assert needle in lines[0] and "Traceback" not in res.stderr
        assert not out.exists() and res.stdout == ""
    assert db_digest(db_url) == before


def test_cli_error_line_fits_200_with_a_180_char_directory(backend, tmp_path):
    """T7: a long path is shortened in the middle; the line number and error type stay."""
    _store, db_url, before = backend
    folder = tmp_path / ("d" * 180)
    folder.mkdir()
    cases = {
        "limit.md.j2": ("{{ 'a'.ljust(10**9) }}", r", line 1: a template may not build a value with ljust\(\)"),
        "type.md.j2": ("\n{{ [].pop() }}", r", line 2: IndexError: "),
        "syntax.md.j2": ("{% if %}", r", line 1: "),
        "recurse.md.j2": ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(0) }}", r"macros nested more than"),
    }
    for fname, (src, pattern) in cases.items():
        tpl = folder / fname
        tpl.write_text(src)
        out = folder / "out.md"
        res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
        assert res.returncode == 1, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and len(lines[0]) <= 200, (len(lines[0]), res.stderr)
        assert lines[0].startswith("dat: template ") and "…" in lines[0], res.stderr
        assert f"{fname}, line" in lines[0] or fname in lines[0], res.stderr
        assert re.search(pattern, lines[0]), res.stderr
        assert not out.exists() and "Traceback" not in res.stderr
    assert db_digest(db_url) == before


# -- dat's own filters: an argument (places, indent) or a value that would make them allocate ---

FILTER_ARGS = [
    ("signed-pct-places-1e9", "{{ 1.5|signed_pct(999999999) }}",
     r"\|signed_pct places of 999,999,999 is too many \(limit 10\)"),
    ("signed-pct-places-1e8", "{{ 1.5|signed_pct(100000000) }}", r"places of 100,000,000 is too many"),
    ("signed-pct-places-kw", "{{ 1.5|signed_pct(places=300000000) }}", r"places of 300,000,000 is too many"),
    ("signed-pct-nested-length", "{{ (1.5|signed_pct(500000000))|length }}", r"places of 500,000,000"),
    ("signed-pct-places-negative", "{{ 1.5|signed_pct(-1) }}", r"places of -1 is too many"),
    ("signed-pct-places-huge-int", "{{ 1.5|signed_pct(10 ** 30) }}", r"places of a huge number is too many"),
    ("signed-pct-places-float", "{{ 1.5|signed_pct(2.5) }}", r"places must be a whole number from 0 to 10"),
    ("signed-pct-huge-value", "{{ 1e300|signed_pct }}", r"\|signed_pct of a number of more than 40 digits"),
    ("money-huge-string", "{{ '1e999999999'|money }}", r"\|money of a number of more than 40 digits"),
    ("money-huge-float", "{{ 1e300|money }}", r"\|money of a number of more than 40 digits"),
    ("money-huge-int", "{{ (10 ** 60)|money }}", r"\|money of a number of more than 40 digits"),
    ("tojson-indent-int", "{{ [1, 2]|tojson(100000000)|length }}",
     r"\|tojson indent of 100,000,000 is too wide \(limit 16\)"),
    ("tojson-indent-str", "{{ [1, 2]|tojson(indent=' ' * 1000) }}", r"\|tojson indent of 1,000 is too wide"),
]


def test_dat_filters_refuse_argument_driven_allocation_before_they_run(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, FILTER_ARGS, limits=DEFAULT, cls=TemplateLimitError)


def test_dat_filters_still_format_within_their_bounds():
    from dat.core.reports import render_source

    src = ("{{ 1.5|signed_pct }} {{ 1.5|signed_pct(10) }} {{ -2|signed_pct(0) }} {{ none|signed_pct }} "
           "{{ 1234.5|money }} {{ ('9' * 40)|int|money|length }} {{ [1]|tojson(16)|length }}")
    out = render_source(src, {}, name="f.md.j2", html=False, sandboxed=True)
    assert out == "+1.5% +1.5000000000% -2% – £1,234.50 54 21"


def test_memory_error_in_a_render_is_one_line(monkeypatch):
    # a MemoryError is an Exception: it must not pass through the generic handler untouched
    from dat.core import reports

    def boom(value, places=1):
        raise MemoryError

    monkeypatch.setitem(reports.FILTERS, "signed_pct", boom)
    with pytest.raises(TemplateLimitError, match=r"^template m\.md\.j2: ran out of memory"):
        reports.render_source("{{ 1|signed_pct }}", {}, name="m.md.j2", html=False, sandboxed=True)


# -- the .docx / .xlsx renderers: what a user's template makes them build is bounded -----------

def _table(rows: int, cols: int) -> str:
    head = "|" + "|".join(f"h{c}" for c in range(cols)) + "|\n|" + "---|" * cols + "\n"
    return head + "".join("|" + "|".join(str(c) for c in range(cols)) + "|\n" for _ in range(rows))


RENDERER_CASES = [
    ("docx-paragraphs", ".docx", "{% for i in range(25000) %}para {{ i }}\n\n{% endfor %}",
     r"has 25,000 paragraphs, headings, list items and tables; a \.docx report may have at most 20,000"),
    ("docx-list-items", ".docx", "{% for i in range(20001) %}- item\n{% endfor %}",
     r"has 20,001 paragraphs, .* at most 20,000"),
    ("docx-table-cells", ".docx", "{{ t }}", r"has 60,010 table cells; a \.docx report may have at most 50,000"),
    ("docx-markdown-size", ".docx", "{{ big }}",
     r"has 2,200,052 characters of Markdown; a \.docx report may have at most 500,000"),
    ("xlsx-table-cells", ".xlsx", "{{ t2 }}", r"has 110,011 table cells; a \.xlsx report may have at most 100,000"),
    ("xlsx-columns", ".xlsx", "{{ wide }}",
     r"has 20,000 columns in one table; a \.xlsx report may have at most 16,384"),
    ("xlsx-markdown-size", ".xlsx", "{{ big }}", r"has 2,200,052 characters of Markdown; a \.xlsx report"),
]


@pytest.mark.parametrize("case_id,suffix,source,pattern", RENDERER_CASES, ids=[c[0] for c in RENDERER_CASES])
def test_office_renderers_refuse_past_their_limits_quickly(backend, tmp_path, case_id, suffix, source, pattern,
                                                            monkeypatch):
    import re

    from dat.core import reports
    from dat.core.errors import DataError

    store, url, before = backend
    tables = {"t": _table(6000, 10), "t2": _table(10000, 11), "wide": _table(0, 20000),
              "big": _table(99999, 10)}
    real = reports.build_context

    def with_tables(*args, **kw):  # the big tables come from the context, not the loop budget
        return {**real(*args, **kw), **tables}

    monkeypatch.setattr(reports, "build_context", with_tables)
    tpl = tmp_path / "big.md.j2"
    tpl.write_text(source, encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    start = time.perf_counter()
    with pytest.raises(DataError) as info:
        reports.write_report(store, "dudley", out, template_file=tpl)
    seconds = time.perf_counter() - start
    message = str(info.value)
    assert "\n" not in message and len(message) <= 200 and info.value.exit_code == 1, message
    assert re.search(pattern, message), message
    assert seconds < 15, f"{seconds:.1f} s: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.md.j2"]  # no output, no temporary file
    assert db_digest(url) == before


def test_office_renderers_build_up_to_their_limits():
    from dat.plugins import renderers

    assert (renderers.DOCX_MAX_BLOCKS, renderers.DOCX_MAX_TABLE_CELLS, renderers.XLSX_MAX_CELLS,
            renderers.XLSX_MAX_COLUMNS, renderers.OFFICE_MAX_MARKDOWN) == (20_000, 50_000, 100_000, 16_384, 500_000)


def test_cli_xlsx_20000_columns_is_one_clear_line(backend, tmp_path):
    _store, db_url, before = backend
    tpl = tmp_path / "wide.md.j2"
    tpl.write_text("| {{ range(20000)|join(' | ') }} |\n|{{ '---|' * 20000 }}\n")
    out = tmp_path / "out.xlsx"
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200 and "Traceback" not in res.stderr, res.stderr
    assert "20,000 columns in one table" in lines[0] and "16,384" in lines[0], lines[0]
    assert "Invalid column index" not in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.md.j2"]
    assert db_digest(db_url) == before


# -- SIGTERM / SIGHUP end dat like ctrl+c: the atomic write removes its temporary file ---------

@pytest.mark.parametrize("signame,code", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_signal_mid_render_leaves_no_temporary_file(backend, tmp_path, signame, code):
    import os
    import signal
    import subprocess
    import sys

    _store, db_url, before = backend
    tpl = tmp_path / "slow.md.j2"
    tpl.write_text("{% for i in range(19999) %}para **{{ i }}** text\n\n{% endfor %}")
    out = tmp_path / "out.docx"
    exe = Path(sys.executable).with_name("dat")
    for _attempt in range(3):  # a loaded machine may finish the write before the signal lands
        proc = subprocess.Popen([str(exe), "--db", db_url, "report", "dudley", "--template-file", str(tpl),
                                 "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(".out.*.tmp.docx")):  # the renderer is writing
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no temporary file appeared"
                time.sleep(0.01)
            # the temporary file lives about 1.3 s now that the .docx writer is quick: signal at once
            proc.send_signal(getattr(signal, signame))
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.returncode != 0:
            break
        out.unlink()  # finished first: a whole file, no litter; try again
    assert proc.returncode == code, stderr
    assert stderr.strip() == f"dat: stopped by {signame}" and stdout == "", stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.md.j2"]  # no output, no litter
    assert db_digest(db_url) == before


# -- the template's own mistakes and Markdown too deep for a renderer (attack T1-T3) ----------

OWN_MISTAKES = [
    ("format-short-of-args", "{{ '{0}{1}'.format('a') }}", "IndexError: tuple index out of range"),
    ("format-no-args", "{{ '{}'.format() }}", "IndexError:"),
    ("pop-empty", "{{ [].pop() }}", "IndexError: pop from empty list"),
    ("unknown-codec", "{{ 'x'.encode('nope') }}", "LookupError: unknown encoding: nope"),
    ("key", "{{ {}['k'] }}", "UndefinedError:|KeyError:"),
    ("zero", "{{ 1 // 0 }}", "ZeroDivisionError:"),
    ("long-key", "{{ ('{' ~ 'a'*400 ~ '}').format_map({}) }}", "KeyError: 'aaaa"),
]


@pytest.mark.parametrize("case_id,source,needle", OWN_MISTAKES, ids=[c[0] for c in OWN_MISTAKES])
def test_a_templates_own_exception_is_its_error_with_line(backend, tmp_path, case_id, source, needle):
    """T1/T2: never "internal error ... a bug in dat"; one line of at most 200 characters
    naming the template and its line, the template's text cut to a short excerpt."""
    import re

    _store, db_url, before = backend
    tpl = tmp_path / "mine.md.j2"
    tpl.write_text("# Title\n" + source + "\n")
    out = tmp_path / "out.md"
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200, res.stderr
    assert lines[0].startswith(f"dat: template {tpl}, line 2: "), lines[0]
    assert re.search(needle, lines[0]) and "internal error" not in lines[0] and "Traceback" not in res.stderr
    assert "a" * 100 not in lines[0]
    assert not out.exists()
    assert db_digest(db_url) == before


@pytest.mark.parametrize("suffix", [".html", ".docx", ".xlsx"])
def test_markdown_nested_past_the_renderer_is_refused_not_dropped(backend, tmp_path, suffix):
    """T3: markdown-it stops at 20 levels of quotes or lists and drops the rest; the renderer
    refuses instead (exit 1, one line naming the limit, no file). 19 levels still render."""
    _store, db_url, before = backend
    tpl = tmp_path / "deep.md.j2"
    tpl.write_text("# Report\n{{ '>' * 25 }} quoted\n\nEND\n")
    out = tmp_path / f"out{suffix}"
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 200 and "Traceback" not in res.stderr, res.stderr
    assert "nested too deeply" in lines[0] and "the limit of 20 levels" in lines[0], lines[0]
    assert not out.exists()
    lazy = tmp_path / "lazy.md.j2"  # deep quotes with lazy continuation lines
    lazy.write_text("{{ '>' * 2000 }} a\n{% for i in range(50) %}line {{ i }}\n{% endfor %}")
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(lazy), "-o", str(out))
    assert res.returncode == 1 and "the limit of 20 levels" in res.stderr and not out.exists(), res.stderr
    ok = tmp_path / "ok.md.j2"
    ok.write_text("{{ '>' * 19 }} kept\n")
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(ok), "-o", str(out))
    assert res.returncode == 0, res.stderr
    if suffix == ".html":
        assert "kept" in out.read_text()
    assert db_digest(db_url) == before


# -- the third attack: control characters (T4, T5) and files that are not files (T6) ------------

_RAW_CONTROLS = [chr(c) for c in (*range(0, 9), *range(11, 32), *range(0x7f, 0xa0))]


def _one_clean_line(res, prefix: str) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), res.stderr
    assert len(lines[0]) <= 200 and "Traceback" not in res.stderr
    assert not any(c in res.stderr + res.stdout for c in _RAW_CONTROLS), repr(res.stderr)
    return lines[0]


def test_control_characters_never_reach_the_terminal_or_the_output(backend, tmp_path):
    """T4: an escape sequence in an error message is shown escaped (\\x1b); T4/T5: .md, .html
    and .docx output carry no C0/C1 control but tab and newline (U+FFFD instead)."""
    from docx import Document

    _store, db_url, before = backend
    tpl = tmp_path / "esc.md.j2"
    tpl.write_text("{{ 'x'.encode('\x1b]0;PWNED\x07') }}")
    out = tmp_path / "out.md"
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
    assert res.returncode == 1
    assert "\\x1b]0;PWNED\\x07" in _one_clean_line(res, f"dat: template {tpl}, line 1: LookupError")
    assert not out.exists()
    body = "a\x01\x02\x1b[31mb\x7f\x85c\td\ne"
    for suffix in (".md", ".html", ".docx"):
        tpl = tmp_path / ("ctl.md.j2" if suffix != ".html" else "ctl.html.j2")
        tpl.write_text(body)
        out = tmp_path / f"ctl{suffix}"
        res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
        assert res.returncode == 0, res.stderr
        text = ("\n".join(p.text for p in Document(str(out)).paragraphs) if suffix == ".docx"
                else out.read_text(encoding="utf-8"))
        assert not any(c in text for c in _RAW_CONTROLS), repr(text)
        assert "\ufffd" in text and "b" in text
        if suffix == ".md":
            assert text == "a\ufffd\ufffd\ufffd[31mb\ufffd\ufffdc\td\ne"
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tmp_path / "ctl.md.j2"))
    assert res.returncode == 0 and not any(c in res.stdout for c in _RAW_CONTROLS)
    assert db_digest(db_url) == before


def test_a_template_that_is_not_a_regular_file_is_never_read(backend, tmp_path):
    """T6: a FIFO (with no writer: reading would hang), /dev/zero and /dev/null are "is not a
    regular file", exit 1 (as a missing template file), no file written; a folder stays bad
    usage (exit 2, "is a directory"), as for every file argument."""
    import os

    _store, db_url, before = backend
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for f in (fifo, Path("/dev/zero"), Path("/dev/null")):
        out = tmp_path / "out.md"
        res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(f), "-o", str(out), timeout=30)
        assert res.returncode == 1, res.stderr
        assert _one_clean_line(res, "dat: ") == f"dat: {f}: is not a regular file"
        assert not out.exists()
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tmp_path), "-o", str(out))
    assert res.returncode == 2 and "is a directory" in res.stderr and not out.exists()
    from dat.core.reports import _read_user_template

    for f in (fifo, tmp_path):  # the API refuses them too
        with pytest.raises(ReportError, match="is not a regular file"):
            _read_user_template(f, None)
    assert db_digest(db_url) == before


# -- fourth attack (r4): the sandbox ------------------------------------------------------------

S = "{% set s = 'a' * 10000 %}{% set keep = [] %}"
L = "{% set b = range(2000)|list %}{% set keep = [] %}"


def _keep(expr: str, times: int = 40) -> str:
    return f"{{% for i in range({times}) %}}{{% set _ = keep.append({expr}) %}}{{% endfor %}}"


BUILT = r"built more than [\d,]+ characters and items in all"
#: the list cases measure every item they sort or hash: a lower total keeps them quick
SMALL_BUILT = TemplateLimits(source=200_000, output=200_000, seconds=30, depth=30, size=100_000,
                             range=10_000, iterations=5_000, built=60_000)
#: F01: every operation that builds a new string, bytes, list or tuple counts against "built"
BUILT_CASES = [
    ("slice", S + _keep("s[1:]"), BUILT),
    ("slice-reverse", S + _keep("s[::-1]"), BUILT),
    ("slice-huge-bounds", S + _keep("s[-(10**30):10**30]"), BUILT),
    ("encode", S + _keep("s.encode('utf-8')"), BUILT),
    ("decode", S + "{% set e = s.encode() %}" + _keep("e.decode()"), BUILT),
    ("upper", S + _keep("s.upper()"), BUILT),
    ("casefold-growth", "{% set s = '\u00df' * 4000 %}{% set keep = [] %}" + _keep("s.upper()"), BUILT),
    ("swapcase", S + _keep("s.swapcase()"), BUILT),
    ("translate", S + _keep("s.translate({98: 'c'})"), BUILT),
    ("expandtabs", S + _keep("s.expandtabs()"), BUILT),
    ("splitlines", "{% set s = 'a\\n' * 5000 %}{% set keep = [] %}" + _keep("s.splitlines()"), BUILT),
    ("split", "{% set s = 'a ' * 5000 %}{% set keep = [] %}" + _keep("s.split()"), BUILT),
    ("partition", S + _keep("s.partition('b')"), BUILT),
    ("list-filter", S + _keep("s|list"), BUILT),
    ("reverse-filter", S + _keep("s|reverse"), BUILT),
]
LIST_CASES = [
    ("slice-list", L + _keep("b[1:]"), BUILT),
    ("dict-global", L + _keep("dict(b|batch(2))"), BUILT),
    ("sort-filter", L + _keep("b|sort"), BUILT),
    ("map-list", L + _keep("b|map('abs')|list"), BUILT),
    ("unique-list", L + _keep("b|unique|list"), BUILT),
]


def test_r4_f01_everything_built_counts_toward_the_total(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, BUILT_CASES, cls=TemplateLimitError, limits=SMALL_BUILT)


def test_r4_f01_lists_built_count_toward_the_total(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, LIST_CASES, cls=TemplateLimitError, limits=SMALL_BUILT)


DEEP = "{% set ns = namespace(t=1) %}"
NEST = r"a template may not build a list, tuple or dict nested more than 100 deep"
#: F02: no value nested deeper than 100 can be built (hashing a deep tuple crashed CPython)
NESTING_CASES = [
    ("tuple-literal", DEEP + "{% for i in range(200) %}{% set ns.t = (ns.t,) %}{% endfor %}", NEST),
    ("list-literal", DEEP + "{% for i in range(200) %}{% set ns.t = [ns.t] %}{% endfor %}", NEST),
    ("dict-literal", DEEP + "{% for i in range(200) %}{% set ns.t = {'k': ns.t} %}{% endfor %}", NEST),
    ("dictsort-pairs", DEEP + "{% for i in range(300) %}{% set ns.t = {'a': ns.t}|dictsort|first %}{% endfor %}",
     NEST),
    ("batch", DEEP + "{% for i in range(200) %}{% set ns.t = [ns.t]|batch(1)|list %}{% endfor %}", NEST),
    ("items-first", DEEP + "{% for i in range(300) %}{% set ns.t = {'a': ns.t}.items()|first %}{% endfor %}",
     NEST),
    ("dict-global", DEEP + "{% for i in range(200) %}{% set ns.t = dict(a=ns.t) %}{% endfor %}", NEST),
    ("append-chain-compared", "{% set l = [] %}{% set ns = namespace(c=l) %}{% for i in range(300) %}"
     "{% set n = [] %}{% set _ = ns.c.append(n) %}{% set ns.c = n %}{% endfor %}{{ l == l }}", NEST),
    ("append-chain-printed", "{% set l = [] %}{% set ns = namespace(c=l) %}{% for i in range(300) %}"
     "{% set n = [] %}{% set _ = ns.c.append(n) %}{% set ns.c = n %}{% endfor %}{{ l }}", NEST),
]


def test_r4_f02_nothing_nested_past_100_can_be_built(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, NESTING_CASES, cls=TemplateLimitError, limits=DEFAULT)


def test_r4_f02_nesting_up_to_the_limit_still_works():
    from dat.core.reports import render_source

    src = (DEEP + "{% for i in range(99) %}{% set ns.t = (ns.t,) %}{% endfor %}"
           "{{ {ns.t: 1}|length }} {{ [ns.t]|unique|list|length }} {{ {}.get(ns.t, 'no') }}")
    assert render_source(src, {}, name="n.md.j2", html=False, sandboxed=True) == "1 1 no"


CODEC = r"a template may (en|de)code only with utf-8, utf-16, utf-32, ascii or latin-1, not "
#: F03: only the linear codecs (punycode took 32 s in one call)
CODEC_CASES = [
    ("punycode", "{{ 'é'.encode('punycode') }}", CODEC + "punycode"),
    ("punycode-upper", "{{ 'é'.encode(encoding='PUNYCODE') }}", CODEC + "PUNYCODE"),
    ("idna", "{{ 'a.b'.encode('idna') }}", CODEC + "idna"),
    ("idna-decode", "{{ 'a'.encode().decode('idna') }}", CODEC + "idna"),
    ("utf-7", "{{ 'a'.encode('utf-7') }}", CODEC + "utf-7"),
    ("unicode-escape", "{{ 'a'.encode('unicode_escape') }}", CODEC + "unicode_escape"),
    ("cp1252", "{{ 'a'.encode('cp1252') }}", CODEC + "cp1252"),
    ("namereplace", "{{ ('\\ufdfa' * 20000).encode('ascii', 'namereplace') }}",
     r"encode\(\) of 1,800,000 items \(limit 100,000\)"),
    ("xmlcharrefreplace", "{{ ('\\u00e9' * 20000).encode('ascii', 'xmlcharrefreplace') }}",
     r"encode\(\) of 200,000 items"),
]


def test_r4_f03_only_linear_codecs(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, CODEC_CASES, cls=TemplateLimitError)


def test_r4_f03_wordwrap_of_a_long_space_run_is_refused_before_it_runs():
    """textwrap cuts a run of spaces longer than the width a width at a time, copying the
    rest each time: 400,000 spaces at width 5 took 4.4 s in one call (found after r4)."""
    from dat.core.reports import render_source

    for src, run in (("{{ (' ' * 400000)|wordwrap(5) }}", "400,000"),
                     ("{{ ('\\t ' * 100000)|wordwrap(5) }}", "900,000")):
        start = time.perf_counter()
        with pytest.raises(TemplateLimitError, match=rf"\|wordwrap\(5\) of a run of {run} spaces would take too long"):
            render_source(src, {}, name="w.md.j2", html=False, sandboxed=True)
        assert time.perf_counter() - start < 0.5
    assert render_source("{{ ('a ' * 1000)|wordwrap(5)|length }}", {}, name="w.md.j2", html=False,
                         sandboxed=True) == "1999"


def test_r4_f03_linear_codecs_still_work():
    from dat.core.reports import render_source

    src = ("{{ 'é'.encode('utf-8')|length }} {{ 'é'.encode('UTF8')|length }} {{ 'é'.encode('latin1')|length }} "
           "{{ 'é'.encode('utf_16_le')|length }} {{ 'é'.encode('utf-32')|length }} {{ 'a'.encode('ascii')|length }} "
           "{{ 'é'.encode().decode('utf-8') }} {{ 'é'.encode('ascii', 'replace')|length }}")
    assert render_source(src, {}, name="c.md.j2", html=False, sandboxed=True) == "2 2 1 2 8 1 é 1"


STRUCTURE_CASES = [
    ("tags", "{{ 1 }}" * 10_001, r"line 1: more than 10,000 tags \(\{% %\} and \{\{ \}\}\)"),
    ("macros", "{%macro a()%}{%endmacro%}" * 5001, r"more than 10,000 tags"),
    ("blocks", "".join(f"{{%block b{i}%}}{{%endblock%}}" for i in range(5001)), r"more than 10,000 tags"),
    ("tokens", "{{ [" + "1," * 50_001 + "] }}", r"more than 100,000 names, numbers and operators in its tags"),
    ("nested-ifs", "{% if 1 %}" * 101 + "x" + "{% endif %}" * 101,
     r"nested too deeply \(blocks or brackets more than 100 deep\)"),
    ("nested-brackets", "{{ " + "[" * 101 + "]" * 101 + " }}", r"nested too deeply \(blocks or brackets"),
    ("nested-set-blocks", "{% set a %}" * 101 + "{% endset %}" * 101, r"nested too deeply"),
]


def test_r4_f08_f12_structure_bounded_before_compiling(backend, tmp_path):
    """Refused by the lexer before anything is parsed or compiled: timed without tracemalloc
    (which makes the lexer's many small strings several times slower); the memory of the
    1 MB attack sources is bounded in the subprocess test below."""
    from dat.core import reports

    store, url, before = backend
    if url not in _CONTEXTS:
        _CONTEXTS[url] = reports.build_context(store, "dudley")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reports, "build_context", lambda *_a, **_k: _CONTEXTS[url])
        for i, (case_id, source, pattern) in enumerate(STRUCTURE_CASES):
            tpl, out = tmp_path / f"s{i}.md.j2", tmp_path / f"s{i}.md"
            tpl.write_text(source, encoding="utf-8")
            start = time.perf_counter()
            with pytest.raises(TemplateLimitError) as info:
                reports.write_report(store, "dudley", out, template_file=tpl)
            seconds = time.perf_counter() - start
            message = str(info.value)
            assert re.search(pattern, message) and "\n" not in message, (case_id, message)
            assert len(message) <= 195 and seconds < MAX_SECONDS, (case_id, seconds, message)
            assert not out.exists()
    assert db_digest(url) == before


def test_r4_f08_f12_structure_at_the_limits_compiles_in_time():
    from dat.core.reports import render_source

    start = time.perf_counter()
    src = "{%macro a()%}{%endmacro%}" * 4000 + "{{ 1 }}" * 1998 + "{% set x = 1 %}{{ x }}"
    assert render_source(src, {}, name="m.md.j2", html=False, sandboxed=True) == "1" * 1999
    assert time.perf_counter() - start < 3.0


OVERFLOW_CASES = [
    ("range", "{{ range(10**30)|length }}", r"range of about 10\*\*30 items is too large \(limit 10,000\)"),
    ("range-step", "{{ range(0, 10**40, 3)|length }}", r"range of about 10\*\*39 items is too large"),
    ("range-negative", "{{ range(10**30, 0, -1)|length }}", r"range of about 10\*\*30 items"),
    ("str-repeat", "{{ 'a' * 10**30 }}", r"value of about 10\*\*30 items \(limit 100,000\)"),
    ("list-repeat", "{{ [0] * 10**30 }}", r"value of about 10\*\*30 items"),
    ("format-width", "{{ '{:10000000000000000000}'.format(1) }}", r"format width or precision of 20 digits"),
    ("ljust", "{{ 'a'.ljust(10**30) }}", r"ljust\(\) of about 10\*\*30 items"),
    ("float-division", "{% set n = 2**100 %}{{ (n*n*n*n*n*n*n*n*n*n*n) / 3 }}",
     r"a number too large for a template \(integer division result too large for a float\)"),
]


def test_r4_f11_huge_ints_name_the_limit(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, OVERFLOW_CASES, cls=TemplateLimitError)
    (tmp_path / "x").mkdir()
    message = _refusal(backend, tmp_path / "x", "{{ [1][10**30] }}", r"has no element")[0]
    assert "ssize_t" not in message and "Overflow" not in message


def _capped():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2_000_000_000, 2_000_000_000))


def _dat_capped(db_url: str, *args: str, timeout: float = 20) -> tuple:
    """The real dat in a subprocess under a 2 GB address-space cap; (result, seconds)."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("dat")
    start = time.perf_counter()
    res = subprocess.run([str(exe), "--db", db_url, *args], capture_output=True, text=True, timeout=timeout,
                         preexec_fn=_capped)
    return res, time.perf_counter() - start


HEAVY = {
    "f02": ("{% set ns = namespace(t=1) %}{% for i in range(100000) %}{% set ns.t = (ns.t,) %}"
            "{% set ns.t = (ns.t,) %}{% endfor %}{{ {ns.t: 1} }}", NEST),
    "f03": ("{% set s = '\u00e9' * 20000 %}{{ s.encode('punycode')|length }}",
            r"encode only with utf-8"),
    "f08": ("{%macro a()%}{%endmacro%}" * 36_000, r"more than 10,000 tags"),
    "f12": ("".join(f"{{%block b{i}%}}{{%endblock%}}" for i in range(41_000)), r"more than 10,000 tags"),
    "f01": ('{% set s = "a" * 1000000 %}{% set keep = [] %}{% for i in range(2500) %}'
            "{% set _ = keep.append(s[1:]) %}{% endfor %}{{ keep|length }}",
            r"built more than 20,000,000 characters and items in all"),
}


@pytest.mark.parametrize("keys", [("f02", "f03", "f01"), ("f08", "f12")], ids=["values", "source"])
def test_r4_cli_heavy_cases_are_refused_fast_in_bounded_memory(backend, tmp_path, keys):
    """The attack's own repros (F02 200,000-deep tuple hashed, F03 punycode of 20,000 characters,
    F08 36,000 macros, F12 41,000 blocks, F01 2,500 slices of 1M): one line, exit 1, in seconds,
    under a 2 GB cap (a crash would be exit -11)."""
    _store, db_url, before = backend
    for key in keys:
        src, pattern = HEAVY[key]
        tpl = tmp_path / f"{key}.md.j2"
        tpl.write_text(src[:1_000_000], encoding="utf-8")
        out = tmp_path / f"{key}.md"
        res, seconds = _dat_capped(db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
        assert res.returncode == 1, (key, res.returncode, res.stderr[-300:])
        line = _one_clean_line(res, "dat: template ")
        assert len(line) <= 200 and re.search(pattern, line), (key, line)
        assert seconds < 8, (key, seconds)
        assert not out.exists()
    assert db_digest(db_url) == before


def test_r4_f09_lone_surrogates_are_written_as_replacement(backend, tmp_path):
    """A lone surrogate ("\\ud800", a legal Jinja escape) is U+FFFD in every output, never an
    internal error or a renderer failure."""
    _store, db_url, before = backend
    (tmp_path / "s.md.j2").write_text('# a{{ "\\ud800" }}b {{ "\\udfff" }}\n', encoding="utf-8")
    (tmp_path / "s.html.j2").write_text('<p>a{{ "\\ud800" }}b</p>\n', encoding="utf-8")
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tmp_path / "s.md.j2"))
    assert res.returncode == 0 and "a\ufffdb \ufffd" in res.stdout, res.stderr
    out = tmp_path / "out.html"
    res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(tmp_path / "s.html.j2"), "-o", str(out))
    assert res.returncode == 0 and "a\ufffdb" in out.read_text(encoding="utf-8"), res.stderr
    for suffix in (".md", ".docx", ".xlsx"):  # the renderers, through the API
        outcome, _seconds, _peak, out = _render(backend, tmp_path, '# a{{ "\\ud800" }}b\n', limits=DEFAULT,
                                                suffix=suffix)
        assert isinstance(outcome, dict) and out.exists(), (suffix, outcome)
        if suffix == ".md":
            assert "a\ufffdb" in out.read_text(encoding="utf-8")
    assert db_digest(db_url) == before


@pytest.mark.parametrize("extra", [(), ("-o", "out.md")], ids=["stdout", "-o"])
def test_r4_f07_template_file_errors_with_a_long_path_fit_200(backend, tmp_path, extra):
    """Missing, not UTF-8, over 1 MB, a FIFO: one line of at most 200 characters with a
    200-character folder name, with and without -o; the path shortened in the middle."""
    import os

    _store, db_url, before = backend
    folder = tmp_path / ("d" * 200)
    folder.mkdir()
    (folder / "latin1.md.j2").write_bytes(b"caf\xe9")
    (folder / "big.md.j2").write_text("x" * 1_000_001)
    os.mkfifo(folder / "fifo.md.j2")
    cases = {"missing.md.j2": "no such template file", "latin1.md.j2": "not UTF-8 text",
             "big.md.j2": "larger than 1 MB of source", "fifo.md.j2": "is not a regular file"}
    extra = tuple(str(tmp_path / a) if a == "out.md" else a for a in extra)
    for fname, needle in cases.items():
        res = run_dat("--db", db_url, "report", "dudley", "--template-file", str(folder / fname), *extra,
                      timeout=30)
        assert res.returncode == 1, res.stderr
        line = _one_clean_line(res, "dat: ")
        assert len(line) <= 200 and "…" in line and needle in line, (len(line), line)
        assert fname in line, line
        assert not (tmp_path / "out.md").exists()
    assert db_digest(db_url) == before


# -- fourth attack, verification (r4v): filters' generators, folded constants, inf ------------

#: r4v F01: |slice and |batch yield new lists, |items and |dictsort new pairs, |groupby new
#: groups; what they hold counts toward "built" as each is made, and so does a list Jinja folded
#: at compile time ([]|slice(100000)|list became a literal built again on every evaluation)
FRESH_CASES = [
    ("slice-filter", L + _keep("b|slice(1)|list"), BUILT),
    ("batch-filter", L + _keep("b|batch(2000)|list"), BUILT),
    ("slice-empty-folded", "{% set keep = [] %}" + _keep("[]|slice(2000)|list"), BUILT),
    ("batch-folded", "{% set keep = [] %}" + _keep("[1, 2]|batch(1, 0)|list", times=5000), BUILT),
    ("items-filter", "{% set d = dict.fromkeys(range(2000)) %}{% set keep = [] %}" + _keep("d|items|list"), BUILT),
    ("dictsort-filter", "{% set d = dict.fromkeys(range(2000)) %}{% set keep = [] %}" + _keep("d|dictsort"), BUILT),
    ("groupby-filter", L + _keep("b|groupby('real')"), BUILT),
]


def test_r4v_f01_filters_that_make_new_lists_count_what_they_hold(backend, tmp_path):
    # a clock of 1.5 s can run out first on a loaded machine: the built limit must decide
    _assert_all_refused(backend, tmp_path, FRESH_CASES, cls=TemplateLimitError,
                        limits=SMALL_BUILT)


def test_r4v_f01_slice_batch_groupby_still_work_within_the_total():
    from dat.core.reports import render_source

    src = ("{% for c in range(7)|slice(3) %}{{ c }}{% endfor %}|{{ range(5)|batch(2, 'x')|list }}|"
           "{{ []|slice(2)|list }}|{{ {'b': 1, 'a': 2}|dictsort }}|{{ {'a': 1}|items|list }}|"
           "{% for g in [1, 2, 1]|groupby('real') %}{{ g.grouper }}{{ g.list }}{% endfor %}")
    out = render_source(src, {}, name="t", html=False, sandboxed=True)
    assert out == ("[0, 1, 2][3, 4][5, 6]|[[0, 1], [2, 3], [4, 'x']]|[[], []]|[('a', 2), ('b', 1)]|"
                   "[('a', 1)]|1[1, 1]2[2]")


HEAVY["r4v-f01"] = ("{% set l = range(100000)|list %}{% set k = [] %}{% for i in range(1500) %}"
                    "{% set _ = k.append(l|batch(100000)|list) %}{% set _ = k.append(l|slice(1)|list) %}"
                    "{% endfor %}{{ k|length }}", r"built more than 20,000,000 characters and items in all")
HEAVY["r4v-f01-empty"] = ("{% set k = [] %}{% for i in range(400) %}{% set _ = k.append([]|slice(50000)|list) %}"
                          "{% endfor %}{{ k|length }}", r"built more than 20,000,000 characters and items in all")


@pytest.mark.parametrize("key", ["r4v-f01", "r4v-f01-empty"])
def test_r4v_f01_cli_slice_batch_refused_fast_in_bounded_memory(backend, tmp_path, key):
    """The attack's repro (1.24-1.48 GB and rc 0 before): one line, exit 1, under a 2 GB cap."""
    _store, db_url, before = backend
    src, pattern = HEAVY[key]
    tpl = tmp_path / "t.md.j2"
    tpl.write_text(src, encoding="utf-8")
    out = tmp_path / "t.md"
    res, seconds = _dat_capped(db_url, "report", "dudley", "--template-file", str(tpl), "-o", str(out))
    assert res.returncode == 1, (res.returncode, res.stderr[-300:])
    line = _one_clean_line(res, "dat: template ")
    assert re.search(pattern, line), line
    assert seconds < 15, seconds  # about 1-3 s alone; the memory cap is the point
    assert not out.exists()
    assert db_digest(db_url) == before


INF = r"line 1: a number that is not finite \(inf or -inf\) cannot be made an integer$"
#: r4v F07: a folded inf was written as the Python name inf ("NameError: name 'inf' is not defined")
INF_CASES = [
    ("folded-int", '{{ "1e999"|float|int }}', INF),
    ("runtime-int", '{% set s = "1e999" %}{{ s|float|int }}', INF),
    ("minus-inf", '{{ "-inf"|float|int }}', INF),
    ("round-int", '{{ "1e999"|float|round|int }}', INF),
    ("overflowed-product", "{{ (1e308 * 10)|int }}", INF),
    ("percent-d", '{{ "%d" % ("1e999"|float) }}', INF),
    ("format-d", '{{ "%d"|format("inf"|float) }}', INF),
    ("range", '{{ range("inf"|float|int) }}', INF),
    ("index", '{{ [1, 2][("inf"|float)|int] }}', INF),
    ("nan-percent-d", '{{ "%d" % ("nan"|float) }}', r"line 1: ValueError: cannot convert float NaN to integer$"),
]


def test_r4v_f07_infinite_numbers_to_int_say_so(backend, tmp_path):
    _assert_all_refused(backend, tmp_path, INF_CASES)  # the patterns end the line: no NameError


def test_r4v_f07_non_finite_floats_still_print():
    from dat.core.reports import render_source

    src = ('{{ "1e999"|float }} {{ "-inf"|float }} {{ "nan"|float }} {{ "nan"|float|int }} '
           '{{ "1e999"|float|round(2) }} {{ ["inf"|float, 1]|list }} {{ {"a": "-inf"|float}|dictsort }} '
           '{{ 1e308|int|string|length }}')
    out = render_source(src, {}, name="t", html=False, sandboxed=True)
    assert out == "inf -inf nan 0 inf [inf, 1] [('a', -inf)] 309"


# -- fifth attack (r5): values built, copied, compared or hashed before the checks --------------

#: nested 33 deep, each level two of the one below: 2**33 leaves from 33 small tuples/lists
DEEP_T = "{% set ns = namespace(t=0) %}{% for i in range(33) %}{% set ns.t = (ns.t, ns.t) %}{% endfor %}"
DEEP_L = ("{% set ns = namespace(a=[0], b=[0]) %}{% for i in range(31) %}{% set ns.a = [ns.a, ns.a] %}"
          "{% set ns.b = [ns.b, ns.b] %}{% endfor %}")
COMPARE = r"compare or look up a value of more than 100,000 parts"
R5_CASES = [
    # F01: int.to_bytes(length) is predicted like ljust, before the bytes are made
    ("to-bytes", '{{ (0).to_bytes(2900000000, "little")|length }}',
     r"to_bytes\(\) of 2,900,000,000 items \(limit 100,000\)"),
    ("to-bytes-kw", '{{ (0).to_bytes(length=200000, byteorder="big")|length }}', r"to_bytes\(\) of 200,000 items"),
    ("to-bytes-attr", '{{ (0)|attr("to_bytes")(200000, "big")|length }}', r"to_bytes\(\) of 200,000 items"),
    # F02: |join(attribute=) is predicted from its separators
    ("join-attribute", '{{ range(2800)|join("x"*99999, attribute="real")|length }}', r"\|join of 279,897,201 items"),
    # F05: |urlize of long words (quadratic inside one regex call)
    ("urlize", '{{ (")"*20000 ~ "a)")|urlize|length }}', r"\|urlize of words this long would take too long"),
    # F06: *l unpacked into a call is a new tuple the callee keeps
    ("cycler-unpack", "{% set l = [0]*99999 %}{% set k = [] %}{% for i in range(50) %}"
                      "{% set _ = k.append(cycler(*l)) %}{% endfor %}{{ k|length }}", r"built more than 2,000,000"),
    ("macro-varargs", "{% set l = [0]*99999 %}{% macro m(ns) %}{% set _ = ns.k.append(varargs) %}{% endmacro %}"
                      "{% set ns = namespace(k=[]) %}{% for i in range(50) %}{{ m(ns, *l) }}{% endfor %}",
     r"built more than 2,000,000"),
    ("unpack-too-many", "{% set l = [0]*100000 %}{{ cycler(0, *l) }}", r"call with arguments of 100,001 items"),
    # F07: namespace(d) copies d: counted like dict(d)
    ("namespace-copy", "{% set d = dict.fromkeys(range(10000)|list, 0) %}{% set k = [] %}{% for i in range(250) %}"
                       "{% set _ = k.append(namespace(d)) %}{% endfor %}{{ k|length }}", r"built more than 2,000,000"),
    # F09: loop.changed compares with the last value
    ("loop-changed", DEEP_L + "{% for v in [ns.a, ns.b] %}{{ loop.changed(v) }}{% endfor %}", COMPARE),
    # F10: the keys of (key, value) pairs are hashed
    ("update-pairs", DEEP_T + "{% set d = {} %}{{ d.update([(ns.t, 1)]) }}", COMPARE),
    ("dict-pairs", DEEP_T + "{{ dict([(ns.t, 1)]) }}", COMPARE),
    ("namespace-pairs", DEEP_T + "{{ namespace([(ns.t, 1)]) }}", COMPARE),
    ("keys-isdisjoint", DEEP_T + '{{ {"a": 1}.keys().isdisjoint([ns.t]) }}', COMPARE),
    # F11: a huge int where Python wants a C size names the argument and the limit
    ("split-huge", '{{ "a b".split(" ", 10**20) }}',
     r"a number of 100,000,000,000,000,000,000 given to split\(\) is too large \(limit 100,000\)"),
    ("pop-huge", "{{ [1, 2, 3].pop(10**20) }}", r"given to pop\(\) is too large"),
    ("hex-huge", '{{ "ab".encode().hex(":", 10**20) }}', r"given to hex\(\) is too large"),
    ("to-bytes-huge", '{{ (1).to_bytes(10**20, "big") }}', r"to_bytes\(\) of 100,000,000,000,000,000,000 items"),
]


@pytest.mark.parametrize("case_id,source,pattern", R5_CASES, ids=[c[0] for c in R5_CASES])
def test_r5_built_copied_compared_or_hashed_values_are_refused_first(case_id, source, pattern):
    from dat.core.reports import render_source

    limits = dataclasses.replace(SMALL, seconds=5.0)
    start = time.perf_counter()
    with pytest.raises(TemplateLimitError) as info:
        render_source(source, {}, name="r5.md.j2", html=False, sandboxed=True, limits=limits)
    message = str(info.value)
    assert re.search(pattern, message) and "\n" not in message, message
    assert "ssize_t" not in message and "C int" not in message
    assert time.perf_counter() - start < 3.0


def test_r5_legitimate_uses_still_render():
    from dat.core.reports import render_source

    src = ('{{ (258).to_bytes(2, "big")|length }} {{ [1, 2]|join(",", attribute="real") }} '
           '{{ "see http://example.org now"|urlize|length }} {{ cycler(*[1, 2]).next() }} '
           '{% set ns = namespace({"a": 1}, b=2) %}{{ ns.a }}{{ ns.b }} '
           '{% for v in [1, 1, 2] %}{{ loop.changed(v) }}{% endfor %} '
           '{% set d = {} %}{% set _ = d.update([((1, 2), 3)]) %}{{ d }} {{ dict([("a", 1)]) }} '
           '{{ {"a": 1}.keys().isdisjoint(["b"]) }} {{ "a b c".split(" ", 1) }}'
           '{% for i in range(3) %}{% set n = namespace(x=i) %}{{ n.x }}{% endfor %}')
    out = render_source(src, {}, name="ok.md.j2", html=False, sandboxed=True, limits=SMALL)
    assert out == ("2 1,2 74 1 12 TrueFalseTrue {(1, 2): 3} {'a': 1} True ['a', 'b c']012")


@pytest.mark.parametrize("source", [
    '{% set x = (1).from_bytes(("\\xff" * 9999).encode("latin-1"), "big") %}{{ (x ** 50)|string|length }}',
    '{% set x = (1).from_bytes(("\\xff" * 9999).encode("latin-1"), "big") %}{{ x }}',
])
def test_r6_an_int_made_by_a_method_is_held_to_the_bit_limit(backend, tmp_path, source):
    """r6 F01/F02: int.from_bytes made an 80,000-bit number the operators then raised to the
    50th power in one call (killed at 60 s); printing it gave Python's 4,300-digit message."""
    _assert_refused(backend, tmp_path, source, r"a number too large for a template \(limit 4096 bits\)",
                    limits=SMALL)


CHAR_CASES = [
    ("printf", '{{ "%c" % 10**7 }}', r"line 1: %c of 10,000,000: a character code is 0 to 1,114,111"),
    ("printf-negative", '{{ "%c" % -1 }}', r"%c of -1: a character code is 0 to 1,114,111"),
    ("printf-tuple", '{{ "%s%c" % ("a", 1114112) }}', r"%c of 1,114,112: a character code"),
    ("printf-mapping", '{{ "%(n)c" % {"n": 10**7} }}', r"%c of 10,000,000"),
    ("filter", '{{ "%c"|format(10**7) }}', r"%c of 10,000,000"),
    ("str-format", '{{ "{:c}".format(10**7) }}', r"%c of 10,000,000"),
    ("str-format-width", '{{ "{:>3c}".format(10**30) }}', r"%c of about 10\*\*30"),
    ("second-line", '\n{{ "{0:c}".format(-5) }}', r"line 2: %c of -5"),
]


def test_fix11_a_character_code_out_of_range_is_the_sandboxs_message(backend, tmp_path):
    """fix11 (issue 11): ``"%c" % 10**7`` gave Python's own "%c arg not in range(0x110000)",
    called a limit; the sandbox checks a %c or {:c} before Python does and says what a
    character code is, naming the template and line, as for any mistake in it."""
    _assert_all_refused(backend, tmp_path, CHAR_CASES)
    for case_id, source, _pattern in CHAR_CASES:
        where = tmp_path / f"m-{case_id}"
        where.mkdir()
        outcome = _render(backend, where, source, limits=SMALL, name="custom.md.j2", suffix=".md")[0]
        message = str(outcome)
        assert "0x110000" not in message and "the limit for a report template" not in message, message
        assert not isinstance(outcome, TemplateLimitError), message


def test_fix11_a_character_code_in_range_still_renders():
    from dat.core.reports import render_source

    src = '{{ "%c" % 65 }}{{ "{:c}".format(66) }}{{ "%c"|format(67) }}{{ "%c" % "D" }}{{ "%c" % 1114111 }}'
    assert render_source(src, {}, name="ok.md.j2", html=False, sandboxed=True) == "ABCD\U0010ffff"
