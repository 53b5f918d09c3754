"""Typed specs: what a plugin hands to a ``register`` callback.

Every contribution hook receives a ``register`` callable. A plugin calls it with a spec
instance (``register(IndicatorSpec(code="NI40", ...))``) or with keyword arguments
(``register(code="NI40", ...)``) or a mapping; the host builds the spec, validates it with
:meth:`validate` and tags it with the plugin's name. A spec that fails validation is
recorded against the plugin (``dat plugins`` shows it) and skipped.

Stdlib only: this module is imported while plugins load, on the CLI start-up path.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from dat.core.errors import DataError

__all__ = [
    "SpecError", "PartnershipSpec", "IndicatorSpec", "TargetSpec", "ObservationSpec",
    "FundingStreamSpec", "AllocationSpec", "ActionSpec", "TemplateSpec", "ImporterSpec",
    "ExporterSpec", "RendererSpec", "build_spec",
]


class SpecError(DataError, ValueError):
    """A contribution that breaks a rule; the message names the field and the rule."""


#: "percent" is a share (0-100); "pct_change" a percentage change, which may be negative or over 100
UNITS = ("count", "percent", "pct_change", "rate", "gbp", "weeks", "days", "ratio", "rag", "text")
POLARITIES = ("higher", "lower", "none")
FRAMEWORKS = ("NI", "PSA", "NTA", "DIP", "YP", "FIN", "local")
TARGET_KINDS = ("national", "local", "stretch", "compact")
VALUE_KINDS = ("absolute", "change", "growth", "multiple", "text")
OBS_STATUSES = ("provisional", "final")
RAG_LETTERS = ("R", "A", "G")

SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
NATIONAL_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:[.\-][A-Za-z0-9_]+)*$")
LOCAL_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$")
STREAM_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,39}$")


def _req(obj: Any, name: str) -> None:
    value = getattr(obj, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SpecError(f"{name}: required")


def _one_of(obj: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(obj, name)
    if value not in choices:
        raise SpecError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def _period(obj: Any, name: str, required: bool = True) -> None:
    from dat.core.periods import PeriodError, parse_period

    value = getattr(obj, name)
    if value is None:
        if required:
            raise SpecError(f"{name}: required")
        return
    try:
        canonical = str(parse_period(str(value)))
    except PeriodError as exc:
        raise SpecError(f"{name}: {exc}") from None
    object.__setattr__(obj, name, canonical)


def _number(obj: Any, name: str) -> None:
    value = getattr(obj, name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise SpecError(f"{name}: {value!r} is not a number")
    if isinstance(value, float) and value != value:  # NaN
        raise SpecError(f"{name}: NaN is not a number")
    if not math.isfinite(float(value)):
        raise SpecError(f"{name}: {value!r} is not a finite number")
    object.__setattr__(obj, name, float(value))


@dataclass(frozen=True)
class _Spec:
    kind: ClassVar[str] = ""
    plugin: str | None = field(default=None, kw_only=True, compare=False)

    def key(self) -> tuple:  # natural key used to de-duplicate
        raise NotImplementedError

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class PartnershipSpec(_Spec):
    """A partnership (a DAT/DAAT), optionally a sub-area of a ``parent``."""

    kind: ClassVar[str] = "partnership"
    slug: str
    name: str
    region: str | None = None
    parent: str | None = None
    area_type: str = "partnership"  # partnership | local authority | locality
    comparator_group: str | None = None
    accountable_bodies: tuple[str, ...] = ()
    description: str | None = None
    #: ``True``: a comparator or neighbour the plugin names but does not own. A reference
    #: gives way to a plugin that registers the same slug as its own, without a conflict.
    reference: bool = False

    def key(self) -> tuple:
        return (self.slug,)

    def validate(self) -> None:
        _req(self, "slug")
        _req(self, "name")
        if not SLUG_RE.match(self.slug):
            raise SpecError(
                f"slug: {self.slug!r} must be 2-40 lower-case letters, digits or _ and start with a letter"
            )
        if self.parent is not None and not SLUG_RE.match(self.parent):
            raise SpecError(f"parent: {self.parent!r} is not a partnership slug")
        object.__setattr__(self, "accountable_bodies", tuple(self.accountable_bodies))
        if not isinstance(self.reference, bool):
            raise SpecError(f"reference: must be true or false, not {self.reference!r}")


@dataclass(frozen=True)
class IndicatorSpec(_Spec):
    """An indicator. National codes look like ``NI40`` or ``NTA.RET12``; a partnership's own
    are ``<slug>.<name>``."""

    kind: ClassVar[str] = "indicator"
    code: str
    name: str
    unit: str = "count"
    polarity: str = "higher"
    framework: str = "local"
    source: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    per: int | None = None  # for unit "rate": rate per N
    tolerance: float | None = None  # amber tolerance as a fraction of the target
    description: str | None = None

    def key(self) -> tuple:
        return (self.code,)

    def validate(self) -> None:
        _req(self, "code")
        _req(self, "name")
        if not (NATIONAL_CODE_RE.match(self.code) or LOCAL_CODE_RE.match(self.code)):
            raise SpecError(
                f"code: {self.code!r} must be a national code (NI40, NTA.RET12) or <slug>.<name>"
            )
        _one_of(self, "unit", UNITS)
        _one_of(self, "polarity", POLARITIES)
        _one_of(self, "framework", FRAMEWORKS)
        if self.unit == "rate" and not self.per:
            raise SpecError("per: a rate needs 'per' (e.g. 1000)")
        _number(self, "tolerance")
        if self.tolerance is not None and not 0 <= self.tolerance < 1:
            raise SpecError(f"tolerance: {self.tolerance} must be a fraction in [0, 1)")


@dataclass(frozen=True)
class TargetSpec(_Spec):
    """A target for one partnership, indicator and period (or deadline date)."""

    kind: ClassVar[str] = "target"
    partnership: str
    indicator: str
    period: str
    target_kind: str = "local"
    value_kind: str = "absolute"
    value: float | None = None
    baseline: float | None = None
    baseline_period: str | None = None
    years: float | None = None
    text: str | None = None
    profile: tuple[float, ...] | None = None
    tolerance: float | None = None
    source: str | None = None
    label: str = ""  # distinguishes two targets of the same kind (e.g. an interim one)

    def key(self) -> tuple:
        return (self.partnership, self.indicator, self.period, self.target_kind, self.label)

    def validate(self) -> None:
        for name in ("partnership", "indicator"):
            _req(self, name)
        _period(self, "period")
        _period(self, "baseline_period", required=False)
        _one_of(self, "target_kind", TARGET_KINDS)
        _one_of(self, "value_kind", VALUE_KINDS)
        for name in ("value", "baseline", "years", "tolerance"):
            _number(self, name)
        if self.value_kind == "text":
            _req(self, "text")
        else:
            _req(self, "value")
        if self.value_kind in ("change", "growth", "multiple") and self.baseline is None:
            raise SpecError(f"baseline: a {self.value_kind} target needs a baseline value")
        if self.value_kind == "growth" and self.years is None:
            raise SpecError("years: a growth target needs the number of years")
        if self.profile is not None:
            prof = tuple(self.profile)
            if len(prof) != 4 or any(not isinstance(w, (int, float)) or w < 0 for w in prof) or not any(prof):
                raise SpecError("profile: four non-negative quarterly weights, at least one positive")
            object.__setattr__(self, "profile", tuple(float(w) for w in prof))


@dataclass(frozen=True)
class ObservationSpec(_Spec):
    """A figure for one partnership, indicator and period. ``rag`` records a RAG judgement
    (a rating given by the partnership or regulator rather than computed)."""

    kind: ClassVar[str] = "observation"
    partnership: str
    indicator: str
    period: str
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rag: str | None = None
    status: str = "final"
    text: str | None = None  # a qualitative value ("Grant return")
    commentary: str | None = None
    source: str | None = None

    def key(self) -> tuple:
        return (self.partnership, self.indicator, self.period)

    def validate(self) -> None:
        for name in ("partnership", "indicator"):
            _req(self, name)
        _period(self, "period")
        for name in ("value", "numerator", "denominator", "ci_low", "ci_high"):
            _number(self, name)
        _one_of(self, "status", OBS_STATUSES)
        if self.rag is not None:
            rag = str(self.rag).strip().upper()[:1]
            if rag not in RAG_LETTERS:
                raise SpecError(f"rag: {self.rag!r} is not one of R, A, G")
            object.__setattr__(self, "rag", rag)
        if self.value is None and self.rag is None and self.text is None:
            raise SpecError("value: an observation needs a value, a rag judgement or a text")
        if self.denominator is not None:
            if self.denominator <= 0:
                raise SpecError(f"denominator: {self.denominator} must be positive")
            if self.numerator is not None and self.numerator > self.denominator:
                raise SpecError(
                    f"numerator: {self.numerator} is larger than the denominator {self.denominator}"
                )
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high:
            raise SpecError("ci_low: larger than ci_high")


@dataclass(frozen=True)
class FundingStreamSpec(_Spec):
    """A funding stream: Pooled Treatment Budget, DIP grant, ..."""

    kind: ClassVar[str] = "funding_stream"
    code: str
    name: str
    funders: tuple[str, ...] = ()
    ring_fenced: bool = False
    description: str | None = None

    def key(self) -> tuple:
        return (self.code,)

    def validate(self) -> None:
        _req(self, "code")
        _req(self, "name")
        if not STREAM_CODE_RE.match(self.code):
            raise SpecError(f"code: {self.code!r} must be letters, digits, '_', '.', '-'")
        object.__setattr__(self, "funders", tuple(self.funders))


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        # floats cannot hold pence exactly: ask for a string or an int
        raise SpecError(f"amount: {value!r} must be an int or a decimal string, not a float")
    try:
        amount = Decimal(str(value).replace(",", "").replace("£", "").strip())
    except InvalidOperation:
        raise SpecError(f"amount: {value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise SpecError(f"amount: {value!r} is not an amount of money")
    if amount != amount.quantize(Decimal("0.01")):
        raise SpecError(f"amount: {value!r} has fractions of a penny")
    return amount.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class AllocationSpec(_Spec):
    """Money from one stream to one partnership for one financial year."""

    kind: ClassVar[str] = "allocation"
    partnership: str
    stream: str
    year: str
    amount: Decimal | None = None  # None: the stream funds the partnership, amount not stated
    banked_by: str | None = None
    used_for: str | None = None
    line: str = ""  # distinguishes two lines of one stream (PCT mainstream: drugs / alcohol)
    approximate: bool = False  # "about £6m": the document gives a rounded figure
    management_admin: bool = False  # spent on management & administration
    is_total: bool = False  # the document's own total of all sources; other lines are parts of it
    source: str | None = None

    def key(self) -> tuple:
        return (self.partnership, self.stream, self.year, self.line)

    def validate(self) -> None:
        for name in ("partnership", "stream"):
            _req(self, name)
        _period(self, "year")
        from dat.core.periods import parse_period

        if parse_period(self.year).kind != "year":
            raise SpecError(f"year: {self.year!r} must be a financial year such as 2009/10")
        if self.amount is None:
            return
        object.__setattr__(self, "amount", _money(self.amount))
        if self.amount < 0:
            raise SpecError(f"amount: {self.amount} is negative")


@dataclass(frozen=True)
class ActionSpec(_Spec):
    """One line of an action plan."""

    kind: ClassVar[str] = "action"
    partnership: str
    ref: str
    action: str
    theme: str | None = None
    lead: str | None = None
    target_text: str | None = None
    targets: tuple[str, ...] = ()  # indicator codes the action serves
    outcome: str | None = None
    due: str | None = None
    milestones: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    status: str = "not started"
    source: str | None = None

    STATUSES: ClassVar[tuple[str, ...]] = (
        "not started", "in progress", "complete", "overdue", "dropped", "planned",
    )

    def key(self) -> tuple:
        return (self.partnership, self.ref)

    def validate(self) -> None:
        for name in ("partnership", "ref", "action"):
            _req(self, name)
        _period(self, "due", required=False)
        _one_of(self, "status", self.STATUSES)
        for name in ("targets", "milestones", "dependencies"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class TemplateSpec(_Spec):
    """A report template: ``path`` is a Jinja2 file inside the plugin's package."""

    kind: ClassVar[str] = "template"
    name: str
    title: str
    package: str  # importable package holding the file, e.g. dat.partnerships.dudley
    path: str  # relative path inside the package, e.g. templates/quarterly.md.j2
    partnership: str | None = None  # None: a generic template any partnership can use
    description: str | None = None

    def key(self) -> tuple:
        return (self.partnership, self.name)

    def validate(self) -> None:
        for name in ("name", "title", "package", "path"):
            _req(self, name)


@dataclass(frozen=True)
class ImporterSpec(_Spec):
    kind: ClassVar[str] = "importer"
    name: str
    suffixes: tuple[str, ...]
    load: Any  # callable(path, **options) -> iterable of ObservationSpec-like dicts (not yet used by dat import)
    description: str | None = None

    def key(self) -> tuple:
        return (self.name,)

    def validate(self) -> None:
        _req(self, "name")
        if not callable(self.load):
            raise SpecError("load: must be callable")


@dataclass(frozen=True)
class ExporterSpec(_Spec):
    kind: ClassVar[str] = "exporter"
    name: str
    suffixes: tuple[str, ...]
    write: Any  # callable(rows, path_or_stream, **options) (not yet used by dat export)
    description: str | None = None

    def key(self) -> tuple:
        return (self.name,)

    def validate(self) -> None:
        _req(self, "name")
        if not callable(self.write):
            raise SpecError("write: must be callable")


@dataclass(frozen=True)
class RendererSpec(_Spec):
    kind: ClassVar[str] = "renderer"
    name: str
    suffixes: tuple[str, ...]
    render: Any  # callable(*, markdown: str, context: dict, path: Path, title: str) -> None
    description: str | None = None

    def key(self) -> tuple:
        return (self.name,)

    def validate(self) -> None:
        _req(self, "name")
        if not callable(self.render):
            raise SpecError("render: must be callable")


def __getattr__(name: str) -> Any:
    # SPEC_KINDS (spec kind -> class) is derived from the one table in dat.core.kinds, which
    # imports this module; it is looked up lazily so that old imports keep working
    if name == "SPEC_KINDS":
        from dat.core.kinds import SPEC_KINDS

        return SPEC_KINDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_spec(cls: type[_Spec], item: Any = None, /, **kwargs: Any) -> _Spec:
    """Turn what a plugin passed to ``register`` into a validated spec of ``cls``."""
    if item is not None and kwargs:
        raise SpecError("register() takes a spec or keyword arguments, not both")
    if isinstance(item, cls):
        spec = item
    elif isinstance(item, _Spec):
        raise SpecError(f"expected a {cls.__name__}, got a {type(item).__name__}")
    else:
        data = dict(item) if item is not None else kwargs
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SpecError(f"{unknown[0]}: unknown field for {cls.__name__} "
                            f"(fields: {', '.join(sorted(names - {'plugin'}))})")
        try:
            spec = cls(**data)
        except TypeError as exc:
            missing = re.findall(r"'(\w+)'", str(exc))
            raise SpecError(f"{missing[0] if missing else cls.__name__}: required") from None
    spec.validate()
    return spec
