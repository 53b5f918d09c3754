"""Targets and RAG rules: target kinds, quarterly profiles, tolerance and polarity.

Pure functions, stdlib only. The core's rule, for "higher is better": at or above the target
is Green; short of it by no more than the tolerance (a fraction of the target, 5% by
default, or an absolute amount) is Amber; otherwise Red. "Lower is better" mirrors it. A
target of 0 uses the tolerance as an absolute amount. A recorded judgement always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable

DEFAULT_TOLERANCE = 0.05


class TargetError(ValueError):
    """A target, profile, RAG or polarity that breaks a rule."""


class RAG(str, Enum):
    RED = "R"
    AMBER = "A"
    GREEN = "G"

    @property
    def word(self) -> str:
        return {"R": "Red", "A": "Amber", "G": "Green"}[self.value]

    @property
    def letter(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: Any) -> "RAG":
        if isinstance(text, RAG):
            return text
        s = str(text).strip().lower()
        for rag in cls:
            if s in (rag.value.lower(), rag.word.lower()):
                return rag
        raise TargetError(f"{text!r} is not a RAG rating; use R, A, G, Red, Amber or Green")


class Polarity(str, Enum):
    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"

    @classmethod
    def parse(cls, text: Any) -> "Polarity":
        if isinstance(text, Polarity):
            return text
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise TargetError(f"{text!r} is not a polarity; use higher, lower or none") from None


class TargetKind(str, Enum):
    ABSOLUTE = "absolute"
    CHANGE = "change"
    GROWTH = "growth"
    MULTIPLE = "multiple"
    TEXT = "text"


def resolve_target(kind: Any, value: float | None = None, baseline: float | None = None,
                   years: float | None = None, text: str | None = None) -> float | None:
    """The absolute value a target asks for: ``change`` is a percentage change from the
    baseline (-20 = reduce by 20%), ``growth`` a yearly percentage compounded over ``years``,
    ``multiple`` a factor of the baseline; ``text`` targets have no value."""
    try:
        kind = TargetKind(kind)
    except ValueError:
        raise TargetError(f"{kind!r} is not a target kind; use "
                          + ", ".join(k.value for k in TargetKind)) from None
    if kind is TargetKind.TEXT:
        return None
    if value is None:
        raise TargetError(f"value: a {kind.value} target needs a value")
    if kind is TargetKind.ABSOLUTE:
        return float(value)
    if baseline is None:
        raise TargetError(f"baseline: a {kind.value} target needs a baseline")
    if kind is TargetKind.CHANGE:
        return baseline * (1 + value / 100)
    if kind is TargetKind.MULTIPLE:
        return baseline * value
    if years is None:
        raise TargetError("years: a growth target needs the number of years")
    return baseline * (1 + value / 100) ** years


@dataclass(frozen=True)
class Profile:
    """How an annual target is spread over Q1..Q4 (weights normalised to sum to 1)."""

    weights: tuple[float, float, float, float]

    @classmethod
    def equal(cls) -> "Profile":
        return cls((0.25, 0.25, 0.25, 0.25))

    @classmethod
    def seasonal(cls, w1: float, w2: float, w3: float, w4: float) -> "Profile":
        ws = (w1, w2, w3, w4)
        if any(w is None or w < 0 for w in ws) or sum(ws) <= 0:
            raise TargetError("a profile needs four non-negative weights, at least one positive")
        total = float(sum(ws))
        return cls(tuple(w / total for w in ws))  # type: ignore[arg-type]

    @classmethod
    def parse(cls, x: Any) -> "Profile":
        if x is None or x == "equal":
            return cls.equal()
        if isinstance(x, Profile):
            return x
        try:
            ws = [float(w) for w in x]
        except (TypeError, ValueError):
            raise TargetError(f"{x!r} is not a profile; use 'equal' or four weights") from None
        if len(ws) != 4:
            raise TargetError(f"a profile has four quarterly weights, not {len(ws)}")
        return cls.seasonal(*ws)

    def share(self, quarters: Iterable[int]) -> float:
        total = 0.0
        for q in quarters:
            if q not in (1, 2, 3, 4):
                raise TargetError(f"Q{q}: quarters are 1-4")
            total += self.weights[q - 1]
        return total

    def expected(self, annual_target: float, quarters: Iterable[int]) -> float:
        return annual_target * self.share(quarters)


def rate(value: float | None, target: float | None, polarity: Any,
         tolerance: float = DEFAULT_TOLERANCE, *, absolute_tolerance: float | None = None) -> RAG | None:
    """RAG of ``value`` against ``target`` (``None`` without a value, target or polarity)."""
    pol = Polarity.parse(polarity)
    if value is None or target is None or pol is Polarity.NONE:
        return None
    if absolute_tolerance is not None:
        slack = absolute_tolerance
    elif target == 0:
        slack = tolerance
    else:
        slack = abs(target) * tolerance
    if pol is Polarity.HIGHER:
        if value >= target:
            return RAG.GREEN
        return RAG.AMBER if value >= target - slack else RAG.RED
    if value <= target:
        return RAG.GREEN
    return RAG.AMBER if value <= target + slack else RAG.RED


def rate_part_year(value: float | None, annual_target: float | None, profile: Profile,
                   quarters: Iterable[int], polarity: Any,
                   tolerance: float = DEFAULT_TOLERANCE) -> RAG | None:
    """Pro-rata RAG of a part-year cumulative figure against an annual target."""
    if annual_target is None:
        return None
    return rate(value, profile.expected(annual_target, quarters), polarity, tolerance)


@dataclass(frozen=True)
class RagResult:
    rag: RAG | None
    basis: str  # "rule" | "judgement" | "plugin" | "none"
    expected: float | None
    reason: str


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:,.0f}"


def decide(value: float | None, target_value: float | None, polarity: Any, *,
           judgement: Any = None, profile: Any = None, quarters: Iterable[int] | None = None,
           tolerance: float | None = None) -> RagResult:
    """The RAG of one figure: a recorded judgement wins; otherwise the part-year rule when a
    profile and a part of the year are given; otherwise :func:`rate`."""
    if judgement is not None:
        return RagResult(RAG.parse(judgement), "judgement", None, "judgement recorded")
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    pol = Polarity.parse(polarity)
    if target_value is None:
        return RagResult(None, "none", None, "no quantified target")
    if value is None:
        return RagResult(None, "none", target_value, "no value")
    if pol is Polarity.NONE:
        return RagResult(None, "none", target_value, "indicator has no polarity")
    expected = target_value
    qs = sorted(set(quarters)) if quarters is not None else None
    how = ""
    if profile is not None and qs is not None and qs != [1, 2, 3, 4]:
        prof = Profile.parse(profile)
        expected = prof.expected(target_value, qs)
        how = f" pro rata for Q{qs[0]}" + (f"-Q{qs[-1]}" if len(qs) > 1 else "") + \
              f" ({prof.share(qs):.0%} of annual {_fmt(target_value)})"
    rag = rate(value, expected, pol, tol)
    better = "higher" if pol is Polarity.HIGHER else "lower"
    return RagResult(rag, "rule", expected,
                     f"{_fmt(value)} vs target {_fmt(expected)}{how} ({better} is better, "
                     f"amber within {tol:.0%})")
