"""Targets and RAG rules: target kinds, quarterly profiles, tolerance and polarity.

Pure functions, stdlib only, no database.

The core's rule, for "higher is better": at or above the target is Green; short of it by no
more than the tolerance is Amber; otherwise Red. "Lower is better" mirrors it. The tolerance
is a fraction of the target (5% by default), so with a target of 85 anything from 80.75 up
to 85 is Amber. Two refinements:

* a target of 0 has no size to take a fraction of, so there the tolerance is used as an
  absolute amount (``tolerance=0.05`` means "within 0.05 of zero");
* ``absolute_tolerance`` replaces the fractional tolerance with a fixed amount.

Comparisons forgive floating-point round-off of one part in 10^9 of the target, so a
pro-rata expectation computed as 310.00000000000006 still rates a figure of 310 Green.

A recorded judgement always wins over any rule (:func:`decide`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dat.core.errors import DataError

DEFAULT_TOLERANCE = 0.05

#: round-off forgiven in comparisons, as a fraction of the target
_ROUNDOFF = 1e-9
#: round-off forgiven when the target is 0
_ROUNDOFF_AT_ZERO = 1e-12


class TargetError(DataError, ValueError):
    """A target, profile, RAG or polarity that breaks a rule."""


def _number(name: str, x: Any) -> float:
    """``x`` as a finite float, or a :class:`TargetError` naming ``name``."""
    if isinstance(x, bool):
        raise TargetError(f"{name}: {x!r} is not a number")
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise TargetError(f"{name}: {x!r} is not a number") from None
    if not math.isfinite(f):
        raise TargetError(f"{name}: {x!r} is not a finite number")
    return f


class RAG(str, Enum):
    """A Red/Amber/Green rating; the value is the letter."""

    RED = "R"
    AMBER = "A"
    GREEN = "G"

    @property
    def word(self) -> str:
        return _RAG_WORDS[self.value]

    @property
    def letter(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: Any) -> RAG:
        """``R``/``A``/``G`` or ``Red``/``Amber``/``Green``, any case, spaces ignored."""
        if isinstance(text, RAG):
            return text
        if isinstance(text, str):
            s = text.strip().lower()
            for rag in cls:
                if s in (rag.value.lower(), rag.word.lower()):
                    return rag
        raise TargetError(f"{text!r} is not a RAG rating; use R, A, G, Red, Amber or Green")


_RAG_WORDS = {"R": "Red", "A": "Amber", "G": "Green"}


class Polarity(str, Enum):
    """Which way is better: ``higher``, ``lower``, or ``none`` (no direction, never rated)."""

    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"

    @classmethod
    def parse(cls, text: Any) -> Polarity:
        """``higher``/``lower``/``none`` (any case; "higher is better" also works)."""
        if isinstance(text, Polarity):
            return text
        if isinstance(text, str):
            s = " ".join(text.strip().lower().split())
            s = s.removesuffix(" is better")
            for pol in cls:
                if s == pol.value:
                    return pol
        raise TargetError(f"{text!r} is not a polarity; use higher, lower or none")


class TargetKind(str, Enum):
    """How a target's value is stated."""

    ABSOLUTE = "absolute"  # the value itself
    CHANGE = "change"      # percentage change from a baseline (-20 = reduce by 20%)
    GROWTH = "growth"      # yearly percentage growth compounded over ``years``
    MULTIPLE = "multiple"  # a multiple of the baseline (2 = double)
    TEXT = "text"          # unquantified

    @classmethod
    def parse(cls, text: Any) -> TargetKind:
        if isinstance(text, TargetKind):
            return text
        if isinstance(text, str):
            s = text.strip().lower()
            for kind in cls:
                if s == kind.value:
                    return kind
        raise TargetError(f"{text!r} is not a target kind; use "
                          + ", ".join(k.value for k in cls))


def resolve_target(kind: Any, value: float | None = None, baseline: float | None = None,
                   years: float | None = None, text: str | None = None) -> float | None:
    """The absolute value a target asks for (``None`` for a text target).

    ``absolute``: ``value``; ``change``: ``baseline * (1 + value/100)``; ``growth``:
    ``baseline * (1 + value/100) ** years``; ``multiple``: ``baseline * value``. Not rounded.
    A missing field the kind needs raises :class:`TargetError` naming it.
    """
    kind = TargetKind.parse(kind)
    if kind is TargetKind.TEXT:
        return None
    if value is None:
        raise TargetError(f"value: a {kind.value} target needs a value")
    v = _number("value", value)
    if kind is TargetKind.ABSOLUTE:
        return v
    if baseline is None:
        raise TargetError(f"baseline: a {kind.value} target needs a baseline")
    b = _number("baseline", baseline)
    if kind is TargetKind.CHANGE:
        return b * (1 + v / 100)
    if kind is TargetKind.MULTIPLE:
        return b * v
    if years is None:
        raise TargetError("years: a growth target needs the number of years")
    n = _number("years", years)
    return b * (1 + v / 100) ** n


@dataclass(frozen=True)
class Profile:
    """How an annual target is spread over Q1..Q4; the weights are normalised to sum to 1."""

    weights: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        ws = tuple(self.weights) if not isinstance(self.weights, (str, bytes)) else ()
        if len(ws) != 4:
            raise TargetError(f"a profile has four quarterly weights, not {self.weights!r}")
        nums = tuple(_number(f"Q{i} weight", w) for i, w in enumerate(ws, 1))
        if any(w < 0 for w in nums) or not any(w > 0 for w in nums):
            raise TargetError("a profile needs four non-negative weights, at least one positive")
        # scale by the largest first so that huge weights cannot overflow the sum
        top = max(nums)
        scaled = tuple(w / top for w in nums)
        total = math.fsum(scaled)
        object.__setattr__(self, "weights", tuple(w / total for w in scaled))

    @classmethod
    def equal(cls) -> Profile:
        return cls((0.25, 0.25, 0.25, 0.25))

    @classmethod
    def seasonal(cls, w1: float, w2: float, w3: float, w4: float) -> Profile:
        """Weights in any units (percentages, counts...), normalised."""
        return cls((w1, w2, w3, w4))

    @classmethod
    def parse(cls, x: Any) -> Profile:
        """``None`` or ``"equal"`` for an equal profile, or four weights."""
        if isinstance(x, Profile):
            return x
        if x is None:
            return cls.equal()
        if isinstance(x, str):
            if x.strip().lower() == "equal":
                return cls.equal()
            raise TargetError(f"{x!r} is not a profile; use 'equal' or four weights")
        try:
            ws = list(x)
        except TypeError:
            raise TargetError(f"{x!r} is not a profile; use 'equal' or four weights") from None
        if len(ws) != 4:
            raise TargetError(f"a profile has four quarterly weights, not {len(ws)}")
        return cls.seasonal(*ws)

    def share(self, quarters: Iterable[int]) -> float:
        """The share of the year in the given quarters (1-4; each counted once)."""
        total = 0.0
        seen: set[int] = set()
        for q in quarters:
            if isinstance(q, bool) or q not in (1, 2, 3, 4):
                raise TargetError(f"{q!r}: quarters are 1, 2, 3 or 4")
            q = int(q)
            if q not in seen:
                seen.add(q)
                total += self.weights[q - 1]
        return total

    def expected(self, annual_target: float, quarters: Iterable[int]) -> float:
        """The part of ``annual_target`` due by the end of ``quarters``."""
        return _number("annual target", annual_target) * self.share(quarters)


def _check_tolerance(name: str, tol: Any) -> float:
    t = _number(name, tol)
    if t < 0:
        raise TargetError(f"{name}: {tol!r} must not be negative")
    return t


def rate(value: float | None, target: float | None, polarity: Any,
         tolerance: float = DEFAULT_TOLERANCE, *,
         absolute_tolerance: float | None = None) -> RAG | None:
    """RAG of ``value`` against ``target``; ``None`` without a value, a target or a polarity.

    Higher is better: ``value >= target`` Green; short by at most the tolerance Amber; else
    Red. Lower is better mirrors it. The tolerance is ``tolerance * |target|``, or
    ``tolerance`` itself when the target is 0, or ``absolute_tolerance`` when given.
    """
    pol = Polarity.parse(polarity)
    tol = _check_tolerance("tolerance", tolerance)
    if absolute_tolerance is not None:
        slack = _check_tolerance("absolute_tolerance", absolute_tolerance)
    if value is None or target is None or pol is Polarity.NONE:
        return None
    v = _number("value", value)
    t = _number("target", target)
    if absolute_tolerance is None:
        slack = tol if t == 0 else abs(t) * tol
    fuzz = _ROUNDOFF * abs(t) if t != 0 else _ROUNDOFF_AT_ZERO
    # how far the value falls short of the target in the bad direction (<= 0: met)
    shortfall = t - v if pol is Polarity.HIGHER else v - t
    if shortfall <= fuzz:
        return RAG.GREEN
    if shortfall <= slack + fuzz:
        return RAG.AMBER
    return RAG.RED


def rate_part_year(value: float | None, annual_target: float | None, profile: Any,
                   quarters: Iterable[int], polarity: Any,
                   tolerance: float = DEFAULT_TOLERANCE, *,
                   absolute_tolerance: float | None = None) -> RAG | None:
    """Pro-rata RAG of a part-year cumulative figure: ``value`` against the share of
    ``annual_target`` that ``profile`` expects by the end of ``quarters``."""
    if annual_target is None:
        return None
    expected = Profile.parse(profile).expected(annual_target, quarters)
    return rate(value, expected, polarity, tolerance, absolute_tolerance=absolute_tolerance)


@dataclass(frozen=True)
class RagResult:
    """A rating with how it was reached."""

    rag: RAG | None
    basis: str  # "rule" | "judgement" | "plugin" | "none"
    expected: float | None  # the target the value was rated against
    reason: str


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _quarters_label(qs: list[int]) -> str:
    if qs == list(range(qs[0], qs[-1] + 1)):
        return f"Q{qs[0]}" + (f"-Q{qs[-1]}" if len(qs) > 1 else "")
    return "+".join(f"Q{q}" for q in qs)


def decide(value: float | None, target_value: float | None, polarity: Any, *,
           judgement: Any = None, profile: Any = None, quarters: Iterable[int] | None = None,
           tolerance: float | None = None,
           absolute_tolerance: float | None = None) -> RagResult:
    """The RAG of one figure, with its basis and a short reason.

    A recorded judgement (a :class:`RAG` or its letter/word; a blank string counts as none)
    wins. Otherwise, with a profile and a part of the year (``quarters`` not all four), the
    value is rated pro rata against the profile's share of ``target_value``; otherwise
    against ``target_value`` itself. ``tolerance=None`` means :data:`DEFAULT_TOLERANCE`.
    """
    if isinstance(judgement, str) and not judgement.strip():
        judgement = None
    if judgement is not None:
        judged = RAG.parse(judgement)
        return RagResult(judged, "judgement", None, f"judgement recorded ({judged.word})")
    tol = DEFAULT_TOLERANCE if tolerance is None else _check_tolerance("tolerance", tolerance)
    pol = Polarity.parse(polarity)
    if target_value is None:
        return RagResult(None, "none", None, "no quantified target")
    target = _number("target", target_value)
    qs = sorted(set(quarters)) if quarters is not None else None
    expected = target
    how = ""
    if profile is not None and qs and qs != [1, 2, 3, 4]:
        prof = Profile.parse(profile)
        share = prof.share(qs)
        expected = target * share
        how = f" pro rata for {_quarters_label(qs)} ({share * 100:.3g}% of annual {_fmt(target)})"
    if value is None:
        return RagResult(None, "none", expected, "no value")
    if pol is Polarity.NONE:
        return RagResult(None, "none", expected, "indicator has no polarity")
    rag = rate(value, expected, pol, tol, absolute_tolerance=absolute_tolerance)
    if absolute_tolerance is not None:
        within = f"within {_fmt(_number('absolute_tolerance', absolute_tolerance))}"
    elif expected == 0:
        within = f"within {_fmt(tol)} of zero"
    else:
        within = f"within {tol * 100:.3g}%"
    better = "higher" if pol is Polarity.HIGHER else "lower"
    return RagResult(rag, "rule", expected,
                     f"{_fmt(_number('value', value))} vs target {_fmt(expected)}{how} "
                     f"({better} is better, amber {within})")
