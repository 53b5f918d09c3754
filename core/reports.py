"""Reports: templates rendered by the core from a context it builds.

A template is a Jinja2 file a plugin registers (``register_templates``). The core builds
the context — the partnership, its scorecard for the period, its funding for the year, its
action plan, every figure and target it has — and renders. Installed templates render with
a normal environment (autoescape on for ``.html`` templates); a template file given by a
user renders in Jinja2's sandbox with autoescape for HTML. A template error names the
template, the line and the cause.

Context (what a template can use):

``partnership``  dict from :func:`services.get_partnership`
``period``       canonical period string; ``scorecard`` from :func:`services.scorecard`
``funding``      :func:`services.funding` for ``year`` (the period's financial year by default)
``actions``      list from :func:`services.actions`
``figures``      ``{code: {period: row}}`` of every current figure (value, rag, commentary…)
``indicators``   ``{code: indicator dict}``
``targets``      ``{code: [target dict, …]}``
``generated``    today's date (ISO)
``sub_areas``    list of ``{partnership, depth, figures, indicators, funding}`` for every area
                 below the partnership (councils, then their localities), depth 1 first level
``peers``        partnership dicts of the other members of its comparator group

Filters: ``money`` (£1,234), ``num`` (1,234 / 0.6), ``pct`` (57%), ``rag`` (``R`` → ``Red``),
``signed_pct`` (+11.6%).
"""

from __future__ import annotations

import builtins
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dat.core import services
from dat.core.errors import DataError, DatError, shorten
from dat.core.formatting import money as _money
from dat.core.formatting import rag_word as _rag
from dat.core.periods import PeriodError
from dat.core.services import PartnershipInfo, PartnershipRow, Store, UnknownName

T = TypeVar("T")

if TYPE_CHECKING:
    from dat.core.plugins import Registry
    from dat.core.specs import RendererSpec, TemplateSpec


class ReportError(DataError, RuntimeError):
    """A template that cannot be rendered: the message names the template, line and cause."""




def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.6g}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{_num(value)}%"


#: the most decimal places ``signed_pct`` writes
SIGNED_PCT_MAX_PLACES = 10
#: the most digits before the point ``money`` and ``signed_pct`` write (10**40 is far past any
#: real figure; ``'1e999999999'|money`` would otherwise write a billion digits)
FILTER_MAX_DIGITS = 40
#: the widest ``tojson`` indent (an int, or a string of at most this many characters)
TOJSON_MAX_INDENT = 16


def _digits_check(name: str, value: Any) -> None:
    """Refuse a number whose fixed-point text would be longer than FILTER_MAX_DIGITS digits
    before the point, before it is formatted."""
    from decimal import Decimal, InvalidOperation

    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return
    if isinstance(value, int):
        big = value.bit_length() > FILTER_MAX_DIGITS * 3.33
    else:
        try:
            d = Decimal(str(value)) if not isinstance(value, Decimal) else value
        except (InvalidOperation, ValueError):
            return
        big = d.is_finite() and d.adjusted() >= FILTER_MAX_DIGITS
    if big:
        raise TemplateLimitError(f"|{name} of a number of more than {FILTER_MAX_DIGITS} digits "
                                 f"{_LIMIT}")


def _money_filter(value: Any, missing: str = "not stated") -> str:
    _digits_check("money", value)
    return _money(value, missing)


def _signed_pct(value: Any, places: int = 1) -> str:
    if isinstance(places, bool) or not isinstance(places, int):
        raise TemplateLimitError(f"|signed_pct places must be a whole number from 0 to "
                                 f"{SIGNED_PCT_MAX_PLACES}, not {type(places).__name__}")
    if not 0 <= places <= SIGNED_PCT_MAX_PLACES:
        shown = f"{places:,}" if places.bit_length() < 64 else "a huge number"
        raise TemplateLimitError(f"|signed_pct places of {shown} is too many (limit "
                                 f"{SIGNED_PCT_MAX_PLACES}) {_LIMIT}")
    if value is None:
        return "–"
    _digits_check("signed_pct", value)
    return f"{value:+.{places}f}%"




FILTERS = {"money": _money_filter, "num": _num, "pct": _pct, "rag": _rag, "signed_pct": _signed_pct}


def _registry(store: Store) -> Registry:
    assert store.host is not None  # Store.__post_init__ always sets the plugin host
    return store.host.registry


def list_templates(store: Store, partnership: str | None = None) -> list[dict[str, Any]]:
    """Templates a partnership can use: its own and the generic ones."""
    reg = _registry(store)
    out = []
    for (owner, name), spec in sorted(reg.templates.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if partnership is None or owner in (None, partnership):
            out.append({"name": name, "title": spec.title, "partnership": owner,
                        "description": spec.description, "plugin": spec.plugin,
                        "path": f"{spec.package}/{spec.path}"})
    return out


def find_template(store: Store, partnership: str, name: str) -> TemplateSpec:
    reg = _registry(store)
    spec = reg.templates.get((partnership, name)) or reg.templates.get((None, name))
    if spec is None:
        raise UnknownName("template", name, (t["name"] for t in list_templates(store, partnership)))
    return spec


def build_context(store: Store, partnership: str, period: str | None = None,
                  year: str | None = None) -> dict[str, Any]:
    part = services.get_partnership(store, partnership)
    card = services.scorecard(store, partnership, period)
    if year is None and card["period"]:
        from dat.core.periods import parse_period

        year = str(parse_period(card["period"]).fy)
    fund = services.funding(store, partnership, year)
    if not fund["lines"] and year is not None:
        fund = services.funding(store, partnership, None)
    everything = services.figures(store, partnership)
    every_part = services.list_partnerships(store)
    return {
        "partnership": part, "period": card["period"], "scorecard": card, "funding": fund,
        "actions": services.actions(store, partnership)["actions"],
        "figures": everything["figures"], "indicators": everything["indicators"],
        "targets": everything["targets"], "generated": date.today().isoformat(),
        "sub_areas": _sub_areas(store, part, every_part, year),
        "peers": [p for p in every_part if part["comparator_group"] and p["slug"] != partnership
                  and p["comparator_group"] == part["comparator_group"]],
    }


def _sub_areas(store: Store, part: PartnershipInfo, every_part: list[PartnershipRow],
               year: str | None) -> list[dict[str, Any]]:
    """Each sub-area below the partnership (children, then theirs), with its figures and its
    funding for the report's year."""
    children: dict[str | None, list[PartnershipRow]] = {}
    for p in every_part:
        children.setdefault(p["parent"], []).append(p)
    out: list[dict[str, Any]] = []

    def walk(slug: str, depth: int) -> None:
        for child in children.get(slug, []):
            figs = services.figures(store, child["slug"])
            try:
                fund = services.funding(store, child["slug"], year)
            except PeriodError:
                fund = services.funding(store, child["slug"], None)
            out.append({"partnership": child, "depth": depth, "figures": figs["figures"],
                        "indicators": figs["indicators"], "funding": fund})
            walk(child["slug"], depth + 1)

    walk(part["slug"], 1)
    return out


# -- limits on a user's template -------------------------------------------------------------
#
# A template given with --template-file runs in Jinja2's sandbox, which blocks unsafe
# attributes (no way to reach Python's internals or the file system) but not a template that
# exhausts memory or time. These limits bound every render of a user's template; each one,
# when passed, stops the render with a TemplateLimitError (exit 1) naming it. Templates that
# dat and its plugins ship render without them, as before.

#: characters of template source (the file is read no further)
TEMPLATE_MAX_SOURCE = 1_000_000
#: characters a render writes, counted as they are written (the report itself and the text
#: that macros, call blocks, filter blocks, set blocks and ``self.block()`` build first)
TEMPLATE_MAX_OUTPUT = 10_000_000
#: seconds a render may take (checked at every loop step, call, attribute and filter)
TEMPLATE_MAX_SECONDS = 10.0
#: macro calls (and ``caller()``, recursive ``loop()``) nested inside one another
TEMPLATE_MAX_DEPTH = 100
#: characters or items of any one string, list, tuple, dict or set a template builds, checked
#: before it is built: ``*``, ``+``, ``~``, ``%``, ``format``, widths and precisions,
#: ``center``/``ljust``/``rjust``/``zfill``/``expandtabs``/``replace``/``join``/``translate``,
#: ``indent``/``wordwrap``/``batch``/``sum``, ``append``/``extend``/``update``...
TEMPLATE_MAX_SIZE = 1_000_000
SANDBOX_MAX_SIZE = TEMPLATE_MAX_SIZE  # the name before 0.x; kept for code that imports it
#: items of a ``range()`` (and slices of ``|slice``)
TEMPLATE_MAX_RANGE = 100_000
#: steps of all ``{% for %}`` loops of a render together
TEMPLATE_MAX_ITERATIONS = 1_000_000
#: characters and items of every value the template builds, added up over the render
TEMPLATE_MAX_BUILT = 20_000_000
#: characters ``|wordwrap`` may copy cutting runs of white space longer than its width
#: (the square of the longest run over the width; 10**10 is about 1.5 s)
WORDWRAP_MAX_WORK = 10_000_000_000
#: the largest integer a template may compute, in bits
TEMPLATE_MAX_INT_BITS = 4096
#: lists, tuples, dicts and namespaces nested in one another in any value a template builds,
#: prints, compares or hashes (CPython hashes a tuple recursively in C without a guard: a
#: tuple nested 200,000 deep crashed dat); also blocks and brackets nested in the source
TEMPLATE_MAX_NESTING = 100
#: the work ``|urlize`` may do: the sum of the squares of the lengths of the words of its text
#: (Jinja's trailing-punctuation regex backtracks quadratically inside one call: a 20,002
#: character word took 7.5 s, so 50,000,000 is about 1 s)
URLIZE_MAX_WORK = 50_000_000
#: arguments of one call unpacked with ``*l`` or ``**d`` past which they count as built
#: (each ``f(*l)`` makes a new tuple that the callee may keep: ``cycler``, a macro's varargs)
CALL_FREE_ARGS = 8
#: tags (``{% ... %}`` and ``{{ ... }}``) of the source, counted with Jinja's lexer before it
#: is parsed (parsing and compiling 36,000 empty macros took over a minute and 1 GB)
TEMPLATE_MAX_TAGS = 10_000
#: tokens (names, numbers, operators, strings...) inside the tags of the source
TEMPLATE_MAX_TOKENS = 100_000
#: bytes of memory a render may take beyond dat's own, and the seconds of processor time and
#: of wall clock after which it is stopped: the backstop of every limit above. A user's
#: template renders in a child process held to them (dat.core.isolate), so one call into C
#: that the counters cannot see inside (a quadratic search, colliding hash keys) still ends
TEMPLATE_MAX_MEMORY = 1 << 30
TEMPLATE_HARD_SECONDS = 15.0
#: codecs ``encode``/``decode`` may use: the linear ones (``punycode`` and ``idna`` take
#: quadratic time, 20,000 characters took 32 s in one call)
TEMPLATE_CODECS = frozenset({
    "utf-8", "utf-8-sig", "ascii", "iso8859-1", "utf-16", "utf-16-le", "utf-16-be",
    "utf-32", "utf-32-le", "utf-32-be",
})


@dataclass(frozen=True)
class TemplateLimits:
    """The limits of one render of a user's template (tests lower them)."""

    source: int = TEMPLATE_MAX_SOURCE
    output: int = TEMPLATE_MAX_OUTPUT
    seconds: float = TEMPLATE_MAX_SECONDS
    depth: int = TEMPLATE_MAX_DEPTH
    size: int = TEMPLATE_MAX_SIZE
    range: int = TEMPLATE_MAX_RANGE
    iterations: int = TEMPLATE_MAX_ITERATIONS
    built: int = TEMPLATE_MAX_BUILT
    nesting: int = TEMPLATE_MAX_NESTING
    tags: int = TEMPLATE_MAX_TAGS
    tokens: int = TEMPLATE_MAX_TOKENS
    memory: int = TEMPLATE_MAX_MEMORY
    #: processor and wall-clock seconds after which the child is stopped (``None``: the
    #: larger of :data:`TEMPLATE_HARD_SECONDS` and three times ``seconds``)
    hard_seconds: float | None = None
    #: render in a child process held to ``memory`` and the hard time limit (tests of the
    #: in-process limits turn it off to measure the render's own memory)
    isolate: bool = True

    def hard(self) -> float:
        return self.hard_seconds if self.hard_seconds is not None else max(TEMPLATE_HARD_SECONDS, 1.5 * self.seconds)


class TemplateLimitError(ReportError):
    """A user's template went past one of its limits (:class:`TemplateLimits`)."""


class TemplateMistake(ReportError):
    """A mistake in a template that the sandbox finds before Python would, and words itself
    (``"%c" % 10**7``: no such character); reported with the template's name and line, as
    a limit is."""


#: the highest character code (U+10FFFF)
_MAX_CHAR = 0x10FFFF


def _check_char(value: Any) -> None:
    """Refuse a ``%c`` or ``{:c}`` of a number that is no character code, before Python
    says so in its own words (``%c arg not in range(0x110000)``)."""
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= _MAX_CHAR:
        shown = f"{value:,}" if value.bit_length() <= 64 else ("-" if value < 0 else "") + _count(abs(value))
        raise TemplateMistake(f"%c of {shown}: a character code is 0 to {_MAX_CHAR:,} (U+10FFFF)")


def _chars(n: int) -> str:
    return f"{n // 1_000_000} MB" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n:,} characters"


def _seconds(s: float) -> str:
    return f"{s:g} s"


_LIMIT = "(the limit for a report template)"


def _size_of(value: Any) -> int | None:
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)):
        return len(value)
    return None


_VIEWS: tuple[type, ...] = (type({}.keys()), type({}.values()), type({}.items()))


def _is_namespace_class(value: Any) -> bool:
    return isinstance(value, type) and value.__name__ == "Namespace" and \
        value.__module__ == "jinja2.utils"


def _is_namespace(value: Any) -> bool:
    return type(value).__name__ == "Namespace" and type(value).__module__ == "jinja2.utils"


def _text_size(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` has, found without building it: a list of
    itself nested twenty times prints 2**20 times (stops counting past ``limit``)."""
    if isinstance(value, str):
        return len(value)
    if not isinstance(value, _CONTAINERS) and not _is_namespace(value):
        if isinstance(value, int) and not isinstance(value, bool):
            return value.bit_length() * 31 // 100 + 2
        return 24
    total, stack = 0, [value]
    while stack and total <= limit:
        v = stack.pop()
        if isinstance(v, _VIEWS):
            view: Any = v
            v = list(view) if len(view) <= limit else list(range(limit + 1))
        elif _is_namespace(v):
            v = object.__getattribute__(v, "_Namespace__attrs")
        if isinstance(v, str):
            total += len(v) + 4
        elif isinstance(v, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(v)
            if total <= limit:
                stack.extend(v)
        elif isinstance(v, dict):
            total += 2 + 4 * len(v)
            if total <= limit:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif isinstance(v, int) and not isinstance(v, bool):
            total += v.bit_length() * 31 // 100 + 2
        else:
            total += 24
    return total


_CONTAINERS = (list, tuple, dict, set, frozenset, *_VIEWS)
_NESTING = (list, tuple, dict, set, frozenset)


def _depth(value: Any, limit: int) -> int:
    """How deep lists, tuples, dicts, sets and namespaces are nested in ``value`` (a string
    or number is 0, ``[1]`` is 1), found without recursion; stops at ``limit + 1`` (a list
    that holds itself is as deep as that). Each container is walked once per depth it is
    reached at, so a list shared many times costs what it holds, not what it prints."""
    if not isinstance(value, _NESTING) and not _is_namespace(value):
        return 0
    deepest, seen = 0, dict[int, int]()
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if _is_namespace(v):
            v = object.__getattribute__(v, "_Namespace__attrs")
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        if seen.get(id(v), 0) >= d:
            continue
        seen[id(v)] = d
        children = [*v.keys(), *v.values()] if isinstance(v, dict) else v
        kinds = set(map(type, children))  # at C speed: most values hold only strings, numbers
        if not any(issubclass(k, _NESTING) or k.__name__ == "Namespace" for k in kinds):
            continue
        stack.extend((c, d + 1) for c in children
                     if isinstance(c, _NESTING) or _is_namespace(c))
    return deepest


def _check_pairs(items: Any, limits: TemplateLimits) -> None:
    """The (key, value) pairs given to ``dict()``, ``namespace()`` or ``update()``: each key is
    measured as a dict key is before it is hashed (a tuple key is hashed whole in C)."""
    if _depth(items, limits.nesting) > limits.nesting + 2:  # [(key, value)...]
        raise _nesting_error(limits.nesting)
    for pair in items:
        if isinstance(pair, (list, tuple)) and pair and isinstance(pair[0], _CONTAINERS):
            _check_text(pair[0], limits.size, compare=True, nesting=limits.nesting)


def _nesting_error(limit: int) -> TemplateLimitError:
    return TemplateLimitError(f"a template may not build a list, tuple or dict nested more "
                              f"than {limit} deep {_LIMIT}")


def _check_text(value: Any, limit: int, compare: bool = False,
                nesting: int = TEMPLATE_MAX_NESTING) -> Any:
    """Refuse ``value`` if printing it (or, with ``compare``, comparing or hashing it) would
    go through more than ``limit`` characters or parts: a list nested in itself twenty times
    has 2**20 parts although it was built from two-item lists."""
    if isinstance(value, _CONTAINERS) or _is_namespace(value):
        size = _text_size(value, limit)
        if size > limit:
            if compare:
                raise TemplateLimitError(f"a template may not compare or look up a value of more "
                                         f"than {limit:,} parts (a list or dict nested in "
                                         f"itself?) {_LIMIT}")
            raise TemplateLimitError(f"a template may not print a value longer than {limit:,} "
                                     f"characters (a list or dict printed whole) {_LIMIT}")
        if _depth(value, nesting) > nesting:  # hashing a deep tuple recurses in C unguarded
            raise _nesting_error(nesting)
    return value


class _State:
    """What one render has used so far."""

    __slots__ = ("limits", "deadline", "iterations", "built", "written", "depth")

    def __init__(self, limits: TemplateLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.iterations = self.built = self.written = self.depth = 0


def _count(n: int) -> str:
    """``n`` as a message shows it: 1,000,000, or about 10**40 for a number too long to read."""
    return f"{n:,}" if abs(n) < 10**24 else f"about 10**{n.bit_length() * 30103 // 100000}"


def _too_big(size: int, limit: int, what: str = "a value") -> TemplateLimitError:
    return TemplateLimitError(f"a template may not build {what} of {_count(size)} items "
                              f"(limit {limit:,}) {_LIMIT}")


_PRINTF = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.S)


def _printf_size(fmt: str, values: Any, limit: int) -> int:
    """An upper bound of the length of ``fmt % values``, refusing a width or precision above
    ``limit`` before Python builds it."""
    mapping = values if hasattr(values, "keys") and not isinstance(values, (str, tuple)) else None
    args = list(values) if isinstance(values, tuple) else [values]
    pos, size = 0, len(fmt)

    def number(spec: str | None) -> int:
        nonlocal pos
        if not spec:
            return 0
        if spec == "*":
            value = args[pos] if pos < len(args) else 0
            pos += 1
            spec = str(value) if isinstance(value, int) else "0"
        n = abs(int(spec))
        if n > limit:
            raise TemplateLimitError(f"a format width or precision of {n:,} is too large "
                                     f"(limit {limit:,}) {_LIMIT}")
        return n

    for m in _PRINTF.finditer(fmt):
        key, width, precision, conv = m.groups()
        if conv == "%":
            continue
        extra = number(width) + number(precision)
        if key is not None and mapping is not None:
            try:
                arg = mapping[key]
            except Exception:  # Python's own % reports it
                arg = ""
        else:
            arg = args[pos] if pos < len(args) else ""
            pos += 1
        if conv == "c":
            _check_char(arg)
        if conv in "sra":
            extra += _text_size(arg, limit) * (6 if conv in "ra" else 1) + 2
        else:
            extra += 64
        size += extra
        if size > limit:
            raise _too_big(size, limit, "a formatted string")
    return size


def _spec_check(spec: str, limit: int) -> None:
    for digits in re.findall(r"\d+", spec):
        if len(digits) > 18:
            raise TemplateLimitError(f"a format width or precision of {len(digits):,} digits "
                                     f"is too large (limit {limit:,}) {_LIMIT}")
        if int(digits) > limit:
            raise TemplateLimitError(f"a format width or precision of {int(digits):,} is too "
                                     f"large (limit {limit:,}) {_LIMIT}")


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], i: int, name: str, default: Any) -> Any:
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _int_arg(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _materialized(state: _State, iterable: Any) -> list[Any]:
    out = []
    for item in iterable:
        out.append(item)
        if len(out) > state.limits.size:
            raise _too_big(len(out), state.limits.size, "a list")
    return out


def _joined_size(items: list[Any], sep: Any, limit: int = TEMPLATE_MAX_SIZE) -> int:
    total = len(sep) * max(len(items) - 1, 0) if isinstance(sep, (str, bytes)) else 0
    for item in items:
        total += len(item) if isinstance(item, (str, bytes)) else _text_size(item, limit)
        if total > limit:
            break
    return total


def _method_check(state: _State, obj: Any, name: str, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Refuse a call of a builtin method that would build a value past the size limit, before
    it runs. Returns the arguments to call it with (an iterable argument materialized)."""
    limit = state.limits.size
    predicted = 0
    text: Any = obj  # str, bytes or bytearray below (mypy cannot mix their count())
    if isinstance(obj, (str, bytes, bytearray)):
        n = len(obj)
        if name in ("center", "ljust", "rjust", "zfill"):
            predicted = max(n, _int_arg(_arg(args, kwargs, 0, "width", 0)))
        elif name == "expandtabs":
            tab = _int_arg(_arg(args, kwargs, 0, "tabsize", 8))
            predicted = n + text.count("\t" if isinstance(obj, str) else b"\t") * max(tab, 0)
        elif name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            count = _int_arg(_arg(args, kwargs, 2, "count", -1))
            if isinstance(old, (str, bytes, bytearray)) and isinstance(new, (str, bytes, bytearray)):
                hits = (n + 1) if not old else text.count(old)
                if count >= 0:
                    hits = min(hits, count)
                predicted = n + hits * max(len(new) - len(old), 0)
        elif name == "join" and args:
            items = _materialized(state, args[0])
            predicted = _joined_size(items, obj, limit)
            args = (items, *args[1:])
        elif name == "translate" and args and isinstance(args[0], dict):
            longest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))),
                          default=1)
            predicted = n * max(longest, 1)
    elif isinstance(obj, int) and name == "to_bytes":
        predicted = _int_arg(_arg(args, kwargs, 0, "length", 1))
    elif isinstance(obj, (list, dict, set, bytearray)):
        n = len(obj)
        if name in ("append", "insert", "add", "setdefault"):
            predicted = n + 1
        elif name in ("extend", "update", "union", "fromkeys") and args:
            grown = 0
            new_args = []
            for a in args:
                if _size_of(a) is None:
                    a = _materialized(state, a)
                grown += len(a)
                new_args.append(a)
            args = tuple(new_args)
            predicted = n + grown + (len(kwargs) if name == "update" else 0)
    if predicted > limit:
        raise _too_big(predicted, limit, f"a value with {name}()")
    return args, kwargs


#: methods of a list, tuple, dict or set that compare or hash their arguments
_COMPARING_METHODS = frozenset({
    "index", "count", "remove", "sort", "get", "pop", "setdefault", "fromkeys", "add",
    "discard", "union", "intersection", "difference", "symmetric_difference", "issubset",
    "issuperset", "isdisjoint",
})

#: methods that copy a string into new strings (their list is counted when it is made)
_SPLITTING = frozenset({"split", "rsplit", "splitlines", "partition", "rpartition"})

_GUARDED_METHODS = frozenset({
    "center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate",
    "append", "insert", "add", "setdefault", "extend", "update", "union", "fromkeys",
    "to_bytes",
})


#: filters that do not turn their whole value into text (the others are checked first)
_STRUCTURAL_FILTERS = frozenset({
    "length", "count", "first", "last", "list", "reverse", "map", "select", "reject",
    "selectattr", "rejectattr", "batch", "slice", "sum", "join", "random", "items", "attr",
    "default", "d", "abs", "int", "float", "round", "money", "num", "pct", "rag", "signed_pct",
})
#: filters that compare or hash the items of their value
_COMPARING_FILTERS = frozenset({"sort", "unique", "min", "max", "dictsort", "groupby"})


def _filter_check(state: _State, name: str, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Refuse a filter call whose result would pass the size limit, before it runs."""
    limit = state.limits.size
    value = args[0] if args else None
    rest = args[1:]
    predicted = 0
    if name in _COMPARING_FILTERS:
        _check_text(value, limit, compare=True)
    elif name not in _STRUCTURAL_FILTERS:
        _check_text(value, limit)
    if name == "center":
        predicted = max(_size_of(value) or 0, _int_arg(_arg(rest, kwargs, 0, "width", 80)))
    elif name == "indent":
        width = _arg(rest, kwargs, 0, "width", 4)
        ilen = len(width) if isinstance(width, str) else _int_arg(width)
        text = str(value)
        predicted = len(text) + (text.count("\n") + 1) * max(ilen, 0)
        if ilen > limit:
            predicted = ilen
    elif name == "wordwrap":
        text = str(value)
        width = max(_int_arg(_arg(rest, kwargs, 0, "width", 79)), 1)
        wrap = _arg(rest, kwargs, 2, "wrapstring", None)
        wlen = len(wrap) if isinstance(wrap, str) else 1
        runs = re.findall(r"\s+", text)
        gaps = len(runs)
        predicted = len(text) + (2 * gaps + len(text) // width + 2) * wlen
        # textwrap cuts a run of white space longer than the width a width at a time, copying
        # the rest each time: 400,000 spaces at width 5 took 4.4 s in one call
        longest = max((len(r) + 7 * r.count("\t") for r in runs), default=0)
        if longest * longest // width > WORDWRAP_MAX_WORK:
            raise TemplateLimitError(f"|wordwrap({width:,}) of a run of {longest:,} spaces would "
                                     f"take too long (at most {WORDWRAP_MAX_WORK:,} characters "
                                     f"copied) {_LIMIT}")
    elif name == "urlize":
        work = sum(len(w) ** 2 for w in re.split(r"\s+", str(value)))
        if work > URLIZE_MAX_WORK:
            raise TemplateLimitError(f"|urlize of words this long would take too long (the "
                                     f"squares of their lengths add up past "
                                     f"{URLIZE_MAX_WORK:,}) {_LIMIT}")
    elif name == "format":
        fmt_args = kwargs or rest
        _printf_size(str(value), fmt_args, limit)
    elif name == "replace" and len(rest) >= 2:
        text, old, new = str(value), str(rest[0]), str(rest[1])
        count = _arg(rest, kwargs, 2, "count", None)
        hits = (len(text) + 1) if not old else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        predicted = len(text) + hits * max(len(new) - len(old), 0)
    elif name == "join":
        items = _materialized(state, value if value is not None else ())
        attribute = _arg(rest, kwargs, 1, "attribute", None)
        sep = _arg(rest, kwargs, 0, "d", "")
        # with attribute= the items' texts are not known before: the separators are
        predicted = (_joined_size(items, sep, limit) if attribute is None
                     else _joined_size([""] * len(items), sep, limit))
        args = (items, *rest)
    elif name == "tojson":
        indent = _arg(rest, kwargs, 0, "indent", None)
        width = len(indent) if isinstance(indent, str) else _int_arg(indent or 0)
        if width > TOJSON_MAX_INDENT:
            raise TemplateLimitError(f"|tojson indent of {width:,} is too wide "
                                     f"(limit {TOJSON_MAX_INDENT}) {_LIMIT}")
    elif name == "batch":
        predicted = _int_arg(_arg(rest, kwargs, 0, "linecount", 0))
    elif name == "slice":
        slices = _int_arg(_arg(rest, kwargs, 0, "slices", 0))
        if slices > state.limits.range:
            raise TemplateLimitError(f"slice into {slices:,} parts is too many "
                                     f"(limit {state.limits.range:,}) {_LIMIT}")
    elif name == "sum":
        start = _arg(rest, kwargs, 1, "start", 0)
        if isinstance(start, (list, tuple)):
            items = _materialized(state, value if value is not None else ())
            attribute = _arg(rest, kwargs, 0, "attribute", None)
            if attribute is None:
                predicted = len(start) + sum(_size_of(i) or 0 for i in items)
            args = (items, *rest)
    if predicted > limit:
        raise _too_big(predicted, limit, f"a value with |{name}")
    return args, kwargs


def _limited_binop(op: str, left: Any, right: Any, limit: int = TEMPLATE_MAX_SIZE) -> Any:
    """``left op right`` for a user's template, refusing a result past the limits before it
    is built."""
    import operator

    for operand in (left, right):  # a number made too big elsewhere (int.from_bytes: r6 F01)
        if isinstance(operand, int) and operand.bit_length() > TEMPLATE_MAX_INT_BITS:
            raise TemplateLimitError(f"a number too large for a template (limit "
                                     f"{TEMPLATE_MAX_INT_BITS} bits)")
    if op == "**":
        if isinstance(right, (int, float)) and abs(right) > 100:
            raise TemplateLimitError(f"exponent {right} is too large for a template (limit 100)")
        result = left ** right
    elif op == "*":
        size = (len(left) * right if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, int)
                else len(right) * left if isinstance(right, (str, bytes, list, tuple)) and isinstance(left, int)
                else 0)
        if size > limit:
            raise _too_big(size, limit)
        result = left * right
    elif op == "+":
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, (str, bytes, list, tuple)):
            size = len(left) + len(right)
            if size > limit:
                raise _too_big(size, limit)
        result = left + right
    elif op == "%":
        if isinstance(left, str):
            _printf_size(left, right, limit)
        result = left % right
    else:
        result = {"-": operator.sub, "/": operator.truediv, "//": operator.floordiv}[op](left, right)
    if isinstance(result, int) and result.bit_length() > TEMPLATE_MAX_INT_BITS:
        raise TemplateLimitError(f"a number too large for a template (limit "
                                 f"{TEMPLATE_MAX_INT_BITS} bits)")
    return result


def _has_non_finite(value: Any) -> bool:
    """Whether a constant Jinja folded holds inf, -inf or nan (found without recursion)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            if not math.isfinite(v):
                return True
        elif type(v) in (list, tuple):
            stack.extend(v)
        elif type(v) is dict:
            stack.extend(v.keys())
            stack.extend(v.values())
    return False


def _py_literal(value: Any) -> str:
    """Python source for a folded constant, with inf, -inf and nan written as float('...')."""
    if isinstance(value, float):
        return f"float({repr(value)!r})" if not math.isfinite(value) else str(value)
    if type(value) is list:
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    if type(value) is tuple:
        return "(" + "".join(_py_literal(v) + ", " for v in value) + ")"
    if type(value) is dict:
        return "{" + ", ".join(f"{_py_literal(k)}: {_py_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _folded_size(value: Any) -> int:
    """What a list, tuple or dict constant costs each time it is built: its containers and
    their items (measured once, when the template is compiled)."""
    total, stack = 0, [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            total += _CONTAINER_COST + len(v)
            stack.extend(i for i in v if isinstance(i, (list, tuple, dict)))
        elif isinstance(v, dict):
            total += _CONTAINER_COST + 2 * len(v)
            stack.extend(i for i in (*v.keys(), *v.values()) if isinstance(i, (list, tuple, dict)))
    return total


#: filters whose items are new lists or tuples (|slice and |batch yield lists, |items and
#: |dictsort pairs, |groupby groups): what those hold counts as built, as each is made (F01)
_FRESH_ITEMS = frozenset({"slice", "batch", "items", "dictsort", "groupby"})
#: a new list or tuple counts this many items besides what it holds (an empty list is 56
#: bytes: 100,000 of them from []|slice(100000) were kept 200 times in 1.5 GB)
_CONTAINER_COST = 4
#: an item of a new dict or set counts this many (an entry takes about 50 bytes, a list's
#: slot 8: 200 copies of a 100,000-key dict from namespace(d) counted 20,000,000 in 1.1 GB)
_ENTRY_COST = 3


def _fresh_size(name: str, item: Any) -> int:
    if name == "groupby" and isinstance(item, tuple) and len(item) == 2:
        return 2 * _CONTAINER_COST + 2 + (_size_of(item[1]) or 0)
    return _CONTAINER_COST + (_size_of(item) or 0)


@lru_cache(maxsize=1)
def _int_filter_check(value: Any) -> None:
    """Refuse what ``|int`` would make an integer past the bit limit, before it converts:
    a Decimal scaled by 10**999990 took 22 s in that one call, and a million hex digits make
    a number of four million bits in a blink (r7 F03, F04)."""
    from decimal import Decimal

    digits = TEMPLATE_MAX_INT_BITS * 30103 // 100000 + 2  # decimal digits of the largest
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > digits:
        raise TemplateLimitError(f"a number too large for a template (limit {TEMPLATE_MAX_INT_BITS} bits)")
    if isinstance(value, (str, bytes)) and len(value) > TEMPLATE_MAX_INT_BITS + 64:
        raise TemplateLimitError(f"a number of {len(value):,} characters is too large for a template "
                                 f"(limit {TEMPLATE_MAX_INT_BITS} bits)")


def _sandbox_classes() -> Any:
    """The limited sandbox (built on first use so that jinja2 stays off ``dat --help``)."""
    import functools
    import types

    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator, Frame, operators
    from jinja2.exceptions import SecurityError
    from jinja2.runtime import LoopContext, Macro
    from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
    from jinja2.utils import generate_lorem_ipsum
    from markupsafe import Markup

    class LimitedCodeGenerator(CodeGenerator):
        """Compiles buffers that count what is written into them and ``~`` that checks its
        size before it joins."""

        def buffer(self, frame: Frame) -> None:
            frame.buffer = self.temporary_identifier()
            self.writeline(f"{frame.buffer} = environment.dat_buffer()")

        def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
            # a comparison of lists nested in themselves recurses in C: measure them first
            self.write("(environment.dat_cmp(")
            self.visit(node.expr, frame)
            self.write(")")
            for op in node.ops:
                self.write(f" {operators[op.op]} environment.dat_cmp(")
                self.visit(op.expr, frame)
                self.write(")")
            self.write(")")

        def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
            self.write("environment.dat_nest({")
            for idx, item in enumerate(node.items):
                if idx:
                    self.write(", ")
                self.write("environment.dat_cmp(")  # a key is hashed
                self.visit(item.key, frame)
                self.write("): ")
                self.visit(item.value, frame)
            self.write("})")

        def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
            if not isinstance(node.arg, nodes.Slice):
                super().visit_Getitem(node, frame)
                return
            # Jinja writes a slice as Python's own s[a:b], past environment.getitem: a slice
            # builds a new string or list and is counted there like any other value (F01)
            self.write("environment.getitem(")
            self.visit(node.node, frame)
            self.write(", slice(")
            for idx, part in enumerate((node.arg.start, node.arg.stop, node.arg.step)):
                if idx:
                    self.write(", ")
                if part is None:
                    self.write("None")
                else:
                    self.visit(part, frame)
            self.write("))")

        def visit_Const(self, node: nodes.Const, frame: Frame) -> None:
            # Jinja writes a folded float as str(value): "1e999"|float became the Python name
            # inf, and the template failed with "NameError: name 'inf' is not defined" (F07)
            val = node.as_const(frame.eval_ctx)
            # a folded list ([]|slice(100000)|list) is a literal built again each time it is
            # evaluated: counted each time, as the filters that made it would be (F01)
            folded = isinstance(val, (list, tuple, dict)) and len(val) > 0
            if folded:
                self.write("environment.dat_folded(")
            if isinstance(val, (float, list, tuple, dict)) and _has_non_finite(val):
                self.write(_py_literal(val))
            else:
                super().visit_Const(node, frame)
            if folded:
                self.write(f", {_folded_size(val)})")

        def visit_List(self, node: nodes.List, frame: Frame) -> None:
            self.write("environment.dat_nest(")  # a list literal may not nest too deep
            super().visit_List(node, frame)
            self.write(")")

        def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
            if node.ctx != "load":  # an assignment's target
                super().visit_Tuple(node, frame)
                return
            self.write("environment.dat_nest(")
            super().visit_Tuple(node, frame)
            self.write(")")

        def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
            if frame.eval_ctx.volatile:
                func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
            elif frame.eval_ctx.autoescape:
                func_name = "markup_join"
            else:
                func_name = "str_join"
            self.write(f"environment.dat_concat({func_name}, (")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class Buffer(list[Any]):
        """A macro's, call block's, filter block's or set block's text, counted as written."""

        __slots__ = ("_env",)
        _env: Any

        def append(self, item: Any) -> None:
            self._env.dat_wrote(item)
            super().append(item)

        def extend(self, items: Any) -> None:
            items = tuple(items)
            for item in items:
                self._env.dat_wrote(item)
            super().extend(items)

    class SpecCheck:
        _env: Any
        _dat_total = 0

        def format_field(self, value: Any, format_spec: str) -> Any:
            state = self._env.dat_state
            _spec_check(format_spec, state.limits.size)
            if format_spec.endswith("c"):
                _check_char(value)
            _check_text(value, state.limits.size)
            rv = super().format_field(value, format_spec)  # type: ignore[misc]
            self._dat_total += len(rv)
            if self._dat_total > state.limits.size:
                raise _too_big(self._dat_total, state.limits.size, "a formatted string")
            return rv

    class LimitedFormatter(SpecCheck, SandboxedFormatter):
        pass

    class LimitedEscapeFormatter(SpecCheck, SandboxedEscapeFormatter):
        pass

    class LimitedDict:
        """The ``dict`` global: ``dict(...)`` and ``dict.fromkeys(...)`` with their items
        counted and their keys measured before they are hashed."""

        def __init__(self, env: Any) -> None:
            self._env = env

        def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
            return self._env.dat_dict(*args, **kwargs)

        def fromkeys(self, iterable: Any, value: Any = None) -> dict[Any, Any]:
            env = self._env
            env.dat_tick()
            keys = _materialized(env.dat_state, iterable)
            nesting = env.dat_state.limits.nesting
            if _depth(keys, nesting) > nesting + 1 or _depth(value, nesting) >= nesting:
                raise _nesting_error(nesting)
            return env.dat_built(dict.fromkeys(keys, value))

        def __repr__(self) -> str:
            return "<class 'dict'>"

    class LimitedSandbox(SandboxedEnvironment):
        """Jinja2's sandbox with the limits of :class:`TemplateLimits`."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})
        code_generator_class = LimitedCodeGenerator

        def __init__(self, limits: TemplateLimits, **options: Any) -> None:
            super().__init__(finalize=self.dat_finalize, **options)
            self.dat_state = _State(limits)
            self.globals["range"] = self.dat_range
            self.globals["lipsum"] = self.dat_lipsum
            self.globals["dict"] = LimitedDict(self)

        # -- budgets
        def dat_tick(self) -> None:
            if time.monotonic() > self.dat_state.deadline:
                raise TemplateLimitError(f"took longer than {_seconds(self.dat_state.limits.seconds)} "
                                         f"{_LIMIT}")

        def dat_count(self, n: int) -> None:
            """``n`` more characters or items built (before they are, where that is known)."""
            state = self.dat_state
            state.built += n
            if state.built > state.limits.built:
                raise TemplateLimitError(f"built more than {state.limits.built:,} characters "
                                         f"and items in all {_LIMIT}")

        def dat_built(self, value: Any) -> Any:
            n = _size_of(value)
            if n is not None:
                state = self.dat_state
                if n > state.limits.size:
                    raise _too_big(n, state.limits.size)
                self.dat_count(n * _ENTRY_COST if isinstance(value, (dict, set, frozenset)) else n)
                if not isinstance(value, (str, bytes, bytearray)):
                    self.dat_nest(value)
            return value

        def dat_nest(self, value: Any) -> Any:
            """A list, tuple or dict built: refused if nested past the nesting limit."""
            limit = self.dat_state.limits.nesting
            if _depth(value, limit) > limit:
                raise _nesting_error(limit)
            return value

        def dat_wrote(self, chunk: Any) -> None:
            state = self.dat_state
            state.written += len(chunk) if isinstance(chunk, str) else len(str(chunk))
            if state.written > state.limits.output:
                raise TemplateLimitError(f"output larger than {_chars(state.limits.output)} "
                                         "(the limit for a report; text that macros, blocks "
                                         "and filters build counts too)")
            if time.monotonic() > state.deadline:
                self.dat_tick()

        def dat_cmp(self, value: Any) -> Any:
            """An operand of a comparison or a dict key: measured when it is a container."""
            limits = self.dat_state.limits
            return _check_text(value, limits.size, compare=True, nesting=limits.nesting)

        def dat_finalize(self, value: Any) -> Any:
            """Every ``{{ value }}``: a list or dict is checked before it is printed."""
            limits = self.dat_state.limits
            return _check_text(value, limits.size, nesting=limits.nesting)

        def dat_buffer(self) -> Buffer:
            buf = Buffer()
            buf._env = self
            return buf

        def concat(self, parts: Any) -> str:
            if isinstance(parts, Buffer):
                return "".join(parts)
            out = []
            for chunk in parts:
                self.dat_wrote(chunk)
                out.append(chunk)
            return "".join(out)

        def dat_concat(self, join: Any, parts: tuple[Any, ...]) -> Any:
            self.dat_tick()
            limit = self.dat_state.limits.size
            size = sum(len(p) if isinstance(p, str) else _text_size(p, limit) for p in parts)
            if size > self.dat_state.limits.size:
                raise _too_big(size, self.dat_state.limits.size, "a string with ~")
            return self.dat_built(join(parts))

        def dat_iter(self, iterable: Any) -> Any:
            state = self.dat_state
            limit = state.limits.iterations
            for item in iterable:
                state.iterations += 1
                if state.iterations > limit:
                    raise TemplateLimitError(f"loops ran more than {limit:,} steps in all {_LIMIT}")
                if time.monotonic() > state.deadline:
                    self.dat_tick()
                yield item

        def dat_folded(self, value: Any, size: int) -> Any:
            """A list, tuple or dict constant built anew (``size``: :func:`_folded_size`)."""
            self.dat_count(size)
            return value

        def dat_counted(self, name: str, items: Iterator[Any]) -> Iterator[Any]:
            """The items of a filter's generator, each new list or tuple counted as built
            when it is made (before whatever keeps it can)."""
            for n, item in enumerate(items):
                self.dat_count(_fresh_size(name, item))
                if n % 1024 == 1023:
                    self.dat_tick()
                yield item

        def dat_range(self, *args: int) -> range:
            rng = range(*args)
            limit = self.dat_state.limits.range
            # len() of range(10**30) overflows a C ssize_t: count it in Python's ints
            step = rng.step
            n = max(0, (rng.stop - rng.start + step - (1 if step > 0 else -1)) // step)
            if n > limit:
                raise TemplateLimitError(f"range of {_count(n)} items is too large "
                                         f"(limit {limit:,}) {_LIMIT}")
            return rng

        def dat_dict(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
            """``dict()``: its items counted and their keys measured before they are hashed."""
            self.dat_tick()
            limits = self.dat_state.limits
            if args and not hasattr(args[0], "keys"):
                items = _materialized(self.dat_state, args[0])
                _check_pairs(items, limits)
                args = (items, *args[1:])
            size = (len(args[0]) if args else 0) + len(kwargs)
            if size > limits.size:
                raise _too_big(size, limits.size, "a dict")
            return self.dat_built(dict(*args, **kwargs))

        def dat_lipsum(self, n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
            words = _int_arg(n) * builtins.max(_int_arg(min), _int_arg(max), 0)
            limit = self.dat_state.limits.size
            if words * 12 > limit:
                raise _too_big(words * 12, limit, "lipsum text")
            return self.dat_built(generate_lorem_ipsum(n=n, html=html, min=min, max=max))

        # -- the sandbox's own paths
        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            self.dat_tick()
            return self.dat_built(_limited_binop(operator, left, right, self.dat_state.limits.size))

        def dat_guard(self, value: Any) -> Any:
            """A builtin method that can build a big value, wrapped to check first."""
            if not isinstance(value, (types.BuiltinMethodType, types.MethodType)):
                return value
            name = getattr(value, "__name__", "")
            obj = getattr(value, "__self__", None)
            if name in ("encode", "decode") and isinstance(obj, (str, bytes, bytearray)):
                return _codec_guard(self, value, name, obj)
            if name in _SPLITTING and isinstance(obj, (str, bytes, bytearray)):
                self.dat_count(len(obj))  # the new strings: at most the whole text again
            container = isinstance(obj, (list, tuple, dict, set, frozenset, *_VIEWS))
            if not container and (name not in _GUARDED_METHODS
                                  or not isinstance(obj, (str, bytes, bytearray, int))):
                return value
            state = self.dat_state

            def guarded(*args: Any, **kwargs: Any) -> Any:
                args, kwargs = _method_check(state, obj, name, args, kwargs)
                if name == "update":  # its keys are hashed: a dict's are already, pairs'
                    for a in args:  # are not (their size was checked above)
                        if not isinstance(a, dict):
                            _check_pairs(a, state.limits)
                elif name in _COMPARING_METHODS:  # list.index, dict.get, set.add... compare
                    limit = state.limits.size  # or hash: measured first (an iterable
                    nesting = state.limits.nesting  # argument is a list by now)
                    for a in (*args, *kwargs.values()):
                        _check_text(a, limit, compare=True, nesting=nesting)
                    if name in ("sort", "index", "count", "remove"):
                        _check_text(obj, limit, compare=True, nesting=nesting)
                return self.dat_built(value(*args, **kwargs))

            guarded.dat_guarded = True  # type: ignore[attr-defined]
            guarded.__name__ = guarded.__qualname__ = name
            return guarded

        def getattr(self, obj: Any, attribute: str) -> Any:
            self.dat_tick()
            return self.dat_guard(super().getattr(obj, attribute))

        def getitem(self, obj: Any, argument: Any) -> Any:
            self.dat_tick()
            limits = self.dat_state.limits
            if isinstance(argument, tuple):  # hashed: measured first
                _check_text(argument, limits.size, compare=True, nesting=limits.nesting)
            if isinstance(argument, slice) and isinstance(obj, (str, bytes, bytearray, list, tuple)):
                # a slice is a new string or list: counted before it is built (F01)
                try:
                    n = len(range(*argument.indices(len(obj))))
                except (TypeError, ValueError):
                    n = 0  # Python's own slicing says what is wrong
                if n > limits.size:
                    raise _too_big(n, limits.size, "a slice")
                self.dat_count(n)
            return self.dat_guard(super().getitem(obj, argument))

        def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
            # Jinja2 returns an undefined that fails only when used, so ``x|attr('__class__')
            # |attr('__mro__')`` ends in a vague UndefinedError; refuse at once, by name
            raise SecurityError(f"access to attribute {attribute!r} of "
                                f"{type(obj).__name__!r} object is unsafe")

        def wrap_str_format(self, value: Any) -> Any:
            if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) or \
                    value.__name__ not in ("format", "format_map"):
                return None
            f_self = value.__self__
            if not isinstance(f_self, str):
                return None
            str_type = type(f_self)
            is_format_map = value.__name__ == "format_map"
            formatter: Any
            if isinstance(f_self, Markup):
                formatter = LimitedEscapeFormatter(self, escape=f_self.escape)
            else:
                formatter = LimitedFormatter(self)

            def wrapper(*args: Any, **kwargs: Any) -> str:
                if is_format_map:
                    if kwargs:
                        raise TypeError("format_map() takes no keyword arguments")
                    if len(args) != 1:
                        raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                    kwargs, args = args[0], ()
                formatter._dat_total = 0
                return str_type(formatter.vformat(f_self, args, kwargs))

            return functools.update_wrapper(wrapper, value)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            __self.dat_tick()
            state = __self.dat_state
            # Jinja passes a loop's and a block's variables as _loop_vars and _block_vars
            own = {k: v for k, v in kwargs.items() if k not in ("_loop_vars", "_block_vars")}
            unpacked = len(args) + len(own)
            if unpacked > CALL_FREE_ARGS:  # f(*l): a new tuple the callee may keep
                if unpacked > state.limits.size:
                    raise _too_big(unpacked, state.limits.size, "a call with arguments")
                __self.dat_count(unpacked)
            if _is_namespace_class(__obj):  # namespace(d) copies d: counted, keys measured
                return __self.dat_built(__obj(__self.dat_dict(*args, **own)))
            if getattr(__obj, "__name__", "") == "changed" and \
                    isinstance(getattr(__obj, "__self__", None), LoopContext):
                for a in args:  # compared with the last step's value
                    __self.dat_cmp(a)
            if isinstance(__obj, (Macro, LoopContext)):
                if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
                    args = (__self.dat_iter(args[0]), *args[1:])
                if state.depth >= state.limits.depth:
                    raise TemplateLimitError(f"macros nested more than {state.limits.depth} deep "
                                             f"{_LIMIT}: a recursion without end?")
                state.depth += 1
                try:
                    return super().call(__context, __obj, *args, **kwargs)
                finally:
                    state.depth -= 1
            fmt = __self.wrap_str_format(__obj)
            guarded = __self.dat_guard(fmt or __obj)
            try:
                rv = super().call(__context, guarded, *args, **kwargs)
            except OverflowError as exc:  # "Python int too large to convert to C ssize_t"
                huge = [a for a in (*args, *kwargs.values())
                        if isinstance(a, int) and abs(a) > sys.maxsize]
                if not huge or "ssize_t" not in str(exc) and "C int" not in str(exc) \
                        and "C long" not in str(exc):
                    raise
                name = getattr(__obj, "__name__", "a function")
                raise TemplateLimitError(f"a number of {_count(huge[0])} given to {name}() is "
                                         f"too large (limit {state.limits.size:,}) "
                                         f"{_LIMIT}") from None
            if isinstance(rv, int) and rv.bit_length() > TEMPLATE_MAX_INT_BITS:  # int.from_bytes (r6 F01)
                raise TemplateLimitError(f"a number too large for a template (limit "
                                         f"{TEMPLATE_MAX_INT_BITS} bits)")
            if getattr(guarded, "dat_guarded", False):
                return rv
            return __self.dat_built(rv)

        def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
            tree = super()._parse(source, name, filename)
            for loop in tree.find_all(nodes.For):  # every loop steps through dat_iter
                loop.iter = nodes.Call(nodes.EnvironmentAttribute("dat_iter"), [loop.iter], [],
                                       None, None, lineno=loop.iter.lineno)
            return tree

    def _codec_guard(env: LimitedSandbox, method: Any, name: str, obj: Any) -> Any:
        import codecs

        def guarded(*args: Any, **kwargs: Any) -> Any:
            env.dat_tick()
            encoding = _arg(args, kwargs, 0, "encoding", "utf-8")
            errors = _arg(args, kwargs, 1, "errors", "strict")
            if not isinstance(encoding, str) or not isinstance(errors, str):
                raise TypeError(f"{name}() encoding and errors must be strings")
            try:
                canonical = codecs.lookup(encoding).name
            except LookupError:
                raise LookupError(f"unknown encoding: {printable(encoding)[:40]}") from None
            if canonical not in TEMPLATE_CODECS:
                raise TemplateLimitError(f"a template may {name} only with utf-8, utf-16, utf-32, "
                                         f"ascii or latin-1, not {printable(encoding)[:40]} "
                                         f"{_LIMIT}")
            limit = env.dat_state.limits.size
            # what one character can become with these error handlers: \U0010ffff, &#1114111;
            # or its Unicode name (\N{...}, up to about 90); otherwise at most 4 bytes, and
            # the result is measured (and counted) when it is made
            worst = {"namereplace": 90, "backslashreplace": 10,
                     "xmlcharrefreplace": 10}.get(errors, 1)
            if len(obj) * worst > limit:
                raise _too_big(len(obj) * worst, limit, f"a value with {name}()")
            return env.dat_built(method(*args, **kwargs))

        guarded.dat_guarded = True  # type: ignore[attr-defined]
        guarded.__name__ = guarded.__qualname__ = name
        return guarded

    def guard_filter(env: LimitedSandbox, name: str, func: Any) -> Any:
        passes = getattr(func, "jinja_pass_arg", None) is not None

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            env.dat_tick()
            head, rest = (args[:1], args[1:]) if passes else ((), args)
            rest, kwargs = _filter_check(env.dat_state, name, rest, kwargs)
            if name == "sum" and rest and isinstance(_arg(rest[1:], kwargs, 1, "start", 0), (list, tuple)) \
                    and _arg(rest[1:], kwargs, 0, "attribute", None) is None:
                start = _arg(rest[1:], kwargs, 1, "start", 0)
                total = list(start)
                for item in rest[0]:
                    if not isinstance(item, type(start)):
                        raise TypeError(f"can only concatenate {type(start).__name__} "
                                        f"(not {type(item).__name__}) to {type(start).__name__}")
                    total.extend(item)
                return env.dat_built(total if isinstance(start, list) else tuple(total))
            if name == "int" and rest:
                _int_filter_check(rest[0])
            result = func(*head, *rest, **kwargs)
            if isinstance(result, int) and result.bit_length() > TEMPLATE_MAX_INT_BITS:
                raise TemplateLimitError(f"a number too large for a template (limit "
                                         f"{TEMPLATE_MAX_INT_BITS} bits)")
            if name in _FRESH_ITEMS:
                if isinstance(result, list):
                    env.dat_count(sum(_fresh_size(name, item) for item in result))
                elif isinstance(result, Iterator):
                    result = env.dat_counted(name, result)
            return env.dat_built(result)

        return guarded

    def guard_test(env: LimitedSandbox, func: Any) -> Any:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            env.dat_tick()
            limit = env.dat_state.limits.size
            for a in (*args, *kwargs.values()):
                _check_text(a, limit, compare=True)
            return func(*args, **kwargs)

        return guarded

    return LimitedSandbox, guard_filter, guard_test


def _environment(sandboxed: bool, autoescape: bool, loader: Any,
                 limits: TemplateLimits | None = None) -> Any:
    import jinja2

    options: dict[str, Any] = dict(
        loader=loader, autoescape=autoescape, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    if not sandboxed:
        env = jinja2.Environment(**options)
        env.filters.update(FILTERS)
        return env
    limited_sandbox, guard_filter, guard_test = _sandbox_classes()
    env = limited_sandbox(limits or TemplateLimits(), cache_size=0, **options)
    env.filters.update(FILTERS)
    for fname, func in list(env.filters.items()):
        env.filters[fname] = guard_filter(env, fname, func)
    for tname, func in list(env.tests.items()):
        env.tests[tname] = guard_test(env, func)
    return env


def _single_loader(name: str, source: str) -> Any:
    """A loader that gives the user's template once: a user's template may not include, import
    or extend any template, itself included."""
    import jinja2
    from jinja2.exceptions import SecurityError

    served: list[str] = []

    def load(template: str) -> Any:
        if template == name and not served:
            served.append(template)
            return source, None, lambda: True
        raise SecurityError(f"a user's template cannot include, import or extend a template "
                            f"({template!r})")

    return jinja2.FunctionLoader(load)


def _fit_error(exc: ReportError, name: str) -> ReportError:
    """``exc`` (a message about template ``name``) on one line of at most 200 characters
    with "dat: ": the template's name is shortened in the middle first (its start and end
    stay), so the line number and the kind of error are kept; only then is the rest cut."""
    text, limit = str(exc), _MAX_LINE - 5
    if len(text) <= limit or name not in text:
        return exc
    head, rest = text.split(name, 1)
    shown = shorten(name, max(20, limit - len(head) - len(rest)))
    text = head + shown + rest
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return type(exc)(text)


def render_source(source: str, context: dict[str, Any], *, name: str, html: bool,
                  sandboxed: bool, limits: TemplateLimits | None = None) -> str:
    """Render template ``source``; a ``sandboxed`` one (a user's) within ``limits``, in a
    child process held to their memory and time (:func:`isolated`)."""
    try:
        if not sandboxed:
            return _render_source(source, context, name=name, html=html, sandboxed=False)
        return isolated(name, limits, _render_source, source, context, name=name, html=html,
                        sandboxed=True, limits=limits)
    except ReportError as exc:
        raise _fit_error(exc, name) from None


def isolated(name: str, limits: TemplateLimits | None, fn: Callable[..., T], /, *args: Any,
             **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` for a user's template ``name`` in a child process held to the
    memory and the hard time limit of ``limits``; going past them is a
    :class:`TemplateLimitError`. With ``limits.isolate`` off it runs here."""
    from dat.core import isolate

    limits = limits or TemplateLimits()
    if not limits.isolate:  # tests of the in-process limits measure the render's own memory
        return fn(*args, **kwargs)
    hard = limits.hard()
    try:
        return isolate.run_limited(fn, args, kwargs, memory=limits.memory, cpu=hard, wall=hard)
    except isolate.Stopped as exc:
        raise TemplateLimitError(f"template {name}: stopped because {exc} {_LIMIT}") from None
    except isolate.Failed as exc:
        raise ReportError(f"template {name}: failed: {exc}") from None


#: tags that open a block closed by an ``end...`` tag (``set`` too, when it has no ``=``)
_BLOCK_TAGS = frozenset({"for", "if", "macro", "call", "filter", "block", "with", "autoescape"})


def _structure_check(env: Any, source: str, name: str, limits: TemplateLimits) -> None:
    """Refuse a source with more tags or tokens than the limits, or blocks or brackets nested
    deeper, counted with Jinja's own lexer before anything is parsed or compiled (parsing and
    compiling cannot be stopped by the deadline: 36,000 empty macros took over a minute)."""
    from jinja2.exceptions import TemplateSyntaxError

    tags = tokens = blocks = brackets = 0
    first: str | None = None
    assigns = False
    try:
        for lineno, kind, value in env.lex(source, name):
            if kind in ("block_begin", "variable_begin", "raw_begin"):
                tags += 1
                first, assigns = None, False
                if tags > limits.tags:
                    raise TemplateLimitError(f"template {name}, line {lineno}: more than "
                                             f"{limits.tags:,} tags ({{% %}} and {{{{ }}}}) "
                                             f"{_LIMIT}")
                continue
            if kind in ("whitespace", "data", "comment", "comment_begin", "comment_end",
                        "linecomment", "raw_end", "variable_end"):
                continue
            if kind == "block_end":
                if first in _BLOCK_TAGS or (first == "set" and not assigns):
                    blocks += 1
                elif first is not None and first.startswith("end"):
                    blocks -= 1
                first = None
            else:
                tokens += 1
                if tokens > limits.tokens:
                    raise TemplateLimitError(f"template {name}, line {lineno}: more than "
                                             f"{limits.tokens:,} names, numbers and operators "
                                             f"in its tags {_LIMIT}")
                if first is None and kind == "name":
                    first = value
                elif kind == "operator":
                    if value in "([{":
                        brackets += 1
                    elif value in ")]}":
                        brackets -= 1
                    elif value == "=":
                        assigns = True
                if first is None:
                    first = ""
            if blocks > limits.nesting or brackets > limits.nesting:
                raise TemplateLimitError(f"template {name}, line {lineno}: nested too deeply "
                                         f"(blocks or brackets more than {limits.nesting} deep) "
                                         f"{_LIMIT}")
    except TemplateSyntaxError:
        return  # parsing reports it, with its line


def _render_source(source: str, context: dict[str, Any], *, name: str, html: bool,
                   sandboxed: bool, limits: TemplateLimits | None = None) -> str:
    import jinja2

    if not sandboxed:
        env = _environment(False, html, jinja2.DictLoader({name: source}))
        try:
            return _controls(str(env.get_template(name).render(**context)))
        except RecursionError:
            raise ReportError(f"template {name}: recursion too deep (a macro that calls "
                              "itself without end)") from None
        except Exception as exc:
            raise _render_error(exc, name) from None
    limits = limits or TemplateLimits()
    if len(source) > limits.source:
        raise TemplateLimitError(f"template {name}: larger than {_chars(limits.source)} "
                                 f"of source {_LIMIT}")
    if "\x00" in source:
        raise ReportError(f"template {name}: contains a NUL character; is it a text file?")
    env = _environment(True, html, _single_loader(name, source), limits)
    _structure_check(env, source, name, limits)
    out: list[str] = []
    try:
        try:
            template = env.get_template(name)
        except (SyntaxError, MemoryError):  # Python's compiler on absurdly nested source
            raise TemplateLimitError(f"template {name}: nested too deeply to compile "
                                     f"{_LIMIT}") from None
        env.dat_tick()  # the clock started before parsing and compiling
        for chunk in template.generate(**context):
            env.dat_wrote(chunk)
            out.append(chunk)
    except RecursionError:  # nesting or calls deeper than Python's own stack
        raise TemplateLimitError(f"template {name}: recursion too deep (nesting, or a macro "
                                 "that calls itself without end) " + _LIMIT) from None
    except (TemplateLimitError, TemplateMistake) as exc:
        if str(exc).startswith(f"template {name}"):
            raise
        line = _error_line(exc, name)
        where = f"template {name}" + (f", line {line}" if line != "?" else "")
        raise type(exc)(f"{where}: {exc}") from None
    except MemoryError:  # before Exception, which it is a subclass of
        out.clear()
        raise TemplateLimitError(f"template {name}: ran out of memory {_LIMIT}") from None
    except OverflowError as exc:  # a huge int where Python wants a C size: 'a'.ljust(10**30)...
        line = _error_line(exc, name)
        where = f"template {name}" + (f", line {line}" if line != "?" else "")
        first = printable((str(exc).splitlines() or [""])[0])[:60]
        if "infinity" in first:  # int("1e999"|float), "%d" % inf, range(inf|int)...
            raise ReportError(f"{where}: a number that is not finite (inf or -inf) cannot be "
                              "made an integer") from None
        raise TemplateLimitError(f"{where}: a number too large for a template ({first}) "
                                 f"{_LIMIT}") from None
    except Exception as exc:
        raise _render_error(exc, name) from None
    return _controls("".join(out))


#: C0 controls other than tab and newline, DEL and the C1 controls: a template's output
#: never carries them (an escape sequence would reach a terminal, .docx cannot hold them)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _controls(text: str) -> str:
    """``text`` with every control character but tab and newline replaced by U+FFFD, as the
    .xlsx renderer writes them, and every lone surrogate (``"\\ud800"``, which no UTF-8
    file or terminal can take) as well."""
    return _CONTROLS.sub("\ufffd", text)


def printable(text: str) -> str:
    """``text`` for a terminal: every character that is not printable (ESC, BEL, C1,
    U+2028...) escaped as Python writes it (``\\x1b``); spaces kept."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


#: exceptions a template's own code raises (with jinja2's own): reported as the template's
#: error with its line, never as a bug in dat
_TEMPLATE_ERRORS = (TypeError, ValueError, LookupError, AttributeError, ArithmeticError,
                    AssertionError, NotImplementedError, StopIteration, UnicodeError)
#: a message quoting the template is cut to this many characters; the whole line to 200
_EXCERPT, _MAX_LINE = 80, 200


def _render_error(exc: Exception, name: str) -> Exception:
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        return ReportError(f"template {name}, line {exc.lineno}: {exc.message}")
    if isinstance(exc, ReportError):
        return exc
    line = _error_line(exc, name)
    # the template's own mistakes: every exception its code can raise ([].pop(), a format
    # string short of arguments, an unknown codec...), and anything else raised inside it
    if isinstance(exc, (jinja2.TemplateError, *_TEMPLATE_ERRORS)) or line != "?":
        prefix = f"template {name}, line {line}: {type(exc).__name__}: "
        if len(prefix) > _MAX_LINE - 5 - 40:  # a long path is shortened first (T7)
            shown = shorten(name, max(20, len(name) - (len(prefix) - (_MAX_LINE - 5 - 40))))
            prefix = f"template {shown}, line {line}: {type(exc).__name__}: "
        first = printable((str(exc).splitlines() or [""])[0])
        # one line of at most 200 with "dat: ": the message (which may quote the template's
        # own text) is cut to a short excerpt
        room = max(20, min(_EXCERPT, _MAX_LINE - 5 - len(prefix)))
        msg = prefix + (first if len(first) <= room else first[:room - 1] + "…")
        return ReportError(msg if len(msg) <= _MAX_LINE - 5 else msg[:_MAX_LINE - 6] + "…")
    return exc


def _read_user_template(path: Path, limits: TemplateLimits | None) -> str:
    """A user's template file, read no further than the source limit."""
    import os
    import stat

    limit = (limits or TemplateLimits()).source
    try:  # a FIFO, a device (/dev/zero) or a folder is never opened
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ReportError(f"template {path}: is not a regular file")
    except OSError:
        pass  # open() below says why
    try:
        with path.open(encoding="utf-8", errors="strict", newline=None) as fh:
            source = fh.read(limit + 1)
    except (OSError, UnicodeDecodeError) as exc:
        reason = (f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                  if isinstance(exc, UnicodeDecodeError) else exc.strerror or str(exc))
        raise ReportError(f"cannot read template {path}: {reason}") from None
    if len(source) > limit:
        raise TemplateLimitError(f"template {path}: larger than {_chars(limit)} of source "
                                 f"{_LIMIT}")
    return source


def _error_line(exc: BaseException, name: str) -> str:
    tb = exc.__traceback__
    line = "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in (name, "<template>"):
            line = str(tb.tb_lineno)
        tb = tb.tb_next
    return line


def render_report(store: Store, partnership: str, template: str | None = None, *,
                  period: str | None = None, year: str | None = None,
                  template_file: str | Path | None = None,
                  limits: TemplateLimits | None = None) -> str:
    """Render a registered template (``template``) or a user's file (``template_file``,
    sandboxed, within ``limits``) for a partnership."""
    if template_file is not None:
        path = Path(template_file)
        try:
            source = _read_user_template(path, limits)
        except ReportError as exc:
            raise _fit_error(exc, str(path)) from None
        context = build_context(store, partnership, period, year)
        return render_source(source, context, name=str(path), html=_is_html(path.name),
                             sandboxed=True, limits=limits)
    spec = find_template(store, partnership, template or "scorecard")
    try:
        source = resources.files(spec.package).joinpath(spec.path).read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as exc:
        raise ReportError(f"template {spec.package}/{spec.path} cannot be read: {exc}") from None
    context = build_context(store, partnership, period, year)
    return render_source(source, context, name=f"{spec.package}/{spec.path}",
                         html=_is_html(spec.path), sandboxed=False)


def write_report(store: Store, partnership: str, path: str | Path, template: str | None = None, *,
                 period: str | None = None, year: str | None = None,
                 template_file: str | Path | None = None, force: bool = False,
                 limits: TemplateLimits | None = None) -> dict[str, Any]:
    """Render a report and write it to ``path`` with the renderer registered for its suffix
    (``.md``, ``.html``, ``.docx``, ``.xlsx`` built in; plugins may add more). A user's
    ``template_file`` renders sandboxed within ``limits``; nothing is written if it fails.
    The file is written through :mod:`dat.core.files`: never through a symlink, an existing
    file only with ``force``, atomically (the renderer writes a temporary file in the same
    folder)."""
    from dat.core.files import atomic_path, check_output, write_text

    path = Path(path)
    check_output(path, force=force)
    renderer = find_renderer(store, path.suffix)
    if template_file is not None:
        tpath = Path(template_file)
        try:
            source = _read_user_template(tpath, limits)
        except ReportError as exc:  # a long path is shortened to fit the line (F07)
            raise _fit_error(exc, str(tpath)) from None
        name, sandboxed, title = str(tpath), True, tpath.name
    else:
        spec = find_template(store, partnership, template or "scorecard")
        try:
            source = resources.files(spec.package).joinpath(spec.path).read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError) as exc:
            raise ReportError(f"template {spec.package}/{spec.path} cannot be read: {exc}") from None
        name, sandboxed, title = f"{spec.package}/{spec.path}", False, spec.title
    context = build_context(store, partnership, period, year)
    if _is_html(name):  # an HTML template renders with autoescape and is written as it is
        if path.suffix.lower() not in (".html", ".htm"):
            raise ReportError(f"template {name} is HTML: write it to a .html file")
        html = render_source(source, context, name=name, html=True, sandboxed=sandboxed,
                             limits=limits)
        write_text(path, html, force=force)
        return {"path": str(path), "renderer": "html-template", "title": title}
    doc_title = f"{context['partnership']['name']}: {title}" + (f", {context['period']}" if context["period"] else "")
    if not sandboxed:
        markdown = render_source(source, context, name=name, html=False, sandboxed=False)
    try:
        with atomic_path(path, force=force) as tmp:
            if sandboxed:  # the user's markdown is rendered to a file in the same child
                try:
                    isolated(name, limits, _render_to_file, renderer, source, context,
                             name=name, limits=limits, path=tmp, title=doc_title)
                except ReportError as exc:
                    raise _fit_error(exc, name) from None
            else:
                renderer.render(markdown=markdown, context=context, path=tmp, title=doc_title)
    except DatError:
        raise
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # a renderer is plugin code: its failure is its plugin's
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ReportError(f"the {renderer.name} renderer (plugin {renderer.plugin}) failed writing {path}: "
                          f"{type(exc).__name__}: {first}") from None
    return {"path": str(path), "renderer": renderer.name, "title": doc_title}


def _render_to_file(renderer: RendererSpec, source: str, context: dict[str, Any], *, name: str,
                    limits: TemplateLimits | None, path: Path, title: str) -> None:
    """Render a user's template and write the result with ``renderer`` (in the child of
    :func:`isolated`: the renderer's own work on the user's text is bounded too)."""
    markdown = _render_source(source, context, name=name, html=False, sandboxed=True, limits=limits)
    renderer.render(markdown=markdown, context=context, path=path, title=title)


def find_renderer(store: Store, suffix: str) -> RendererSpec:
    suffix = suffix.lower()
    for spec in _registry(store).renderers.values():
        if suffix in spec.suffixes:
            return spec
    known = sorted({s for spec in _registry(store).renderers.values() for s in spec.suffixes})
    raise UnknownName("output format", suffix or "(no suffix)", known)


def _is_html(name: str) -> bool:
    return name.endswith((".html", ".html.j2", ".htm", ".htm.j2"))
