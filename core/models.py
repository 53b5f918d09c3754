"""SQLModel tables. The core owns the schema; plugins contribute rows through hooks.

Conventions: integer surrogate keys, natural keys unique; periods stored in their canonical
string form (``2009/10``, ``2009/10 Q1``, ``2009/10 Q1-Q3``, ``2010-03-31``); money stored as
whole pence in a BIGINT (exact on every engine); lists stored as JSON text. Every change to
this file needs an Alembic revision (``tests/test_migrations.py`` compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Text, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Partnership(SQLModel, table=True):
    __tablename__ = "partnership"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    region: str | None = Field(default=None, max_length=100)
    parent_id: int | None = Field(default=None, foreign_key="partnership.id", index=True)
    area_type: str = Field(default="partnership", max_length=40)
    comparator_group: str | None = Field(default=None, max_length=100)
    accountable_bodies: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    # the owning plugin (the first to register the partnership here; changed only by
    # `dat partnerships transfer`), or, with ``reference``, the plugin that only names it
    plugin: str | None = Field(default=None, max_length=100)
    # named by a plugin as a comparator or neighbour, not owned: a real owner takes it over
    reference: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                            server_default=sa_false()))


class Indicator(SQLModel, table=True):
    __tablename__ = "indicator"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(sa_column=Column(Text, nullable=False))
    unit: str = Field(max_length=20)
    polarity: str = Field(max_length=10)
    framework: str = Field(max_length=10)
    source: str | None = Field(default=None, max_length=100)
    numerator: str | None = Field(default=None, sa_column=Column(Text))
    denominator: str | None = Field(default=None, sa_column=Column(Text))
    per: int | None = None
    tolerance: float | None = None
    description: str | None = Field(default=None, sa_column=Column(Text))
    plugin: str | None = Field(default=None, max_length=100)


class Target(SQLModel, table=True):
    __tablename__ = "target"
    __table_args__ = (
        UniqueConstraint("partnership_id", "indicator_id", "period", "target_kind", "label",
                         name="uq_target_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    period: str = Field(max_length=32)
    target_kind: str = Field(max_length=20)
    label: str = Field(default="", max_length=60)
    value_kind: str = Field(max_length=20)
    value: float | None = None
    baseline: float | None = None
    baseline_period: str | None = Field(default=None, max_length=32)
    years: float | None = None
    text: str | None = Field(default=None, sa_column=Column(Text))
    profile: str | None = Field(default=None, max_length=200)  # JSON list of 4 weights
    tolerance: float | None = None
    source: str | None = Field(default=None, sa_column=Column(Text))
    plugin: str | None = Field(default=None, max_length=100)


class Observation(SQLModel, table=True):
    """One revision of a figure. The current revision has ``is_current``; corrections add a
    revision and keep the old ones."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("partnership_id", "indicator_id", "period", "revision",
                         name="uq_observation_revision"),
        Index("ix_observation_current", "indicator_id", "period", "is_current"),
        # covers "which periods / figures does this partnership have" (scorecards, the TUI's
        # first screen) without reading the table (revision 0002)
        Index("ix_observation_partnership_current", "partnership_id", "period", "is_current"),
        # one current revision per figure (revision 0005)
        Index("uq_observation_current", "partnership_id", "indicator_id", "period", unique=True,
              postgresql_where=text("is_current"), sqlite_where=text("is_current = 1")),
    )
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id")
    indicator_id: int = Field(foreign_key="indicator.id")
    period: str = Field(max_length=32)
    revision: int = Field(default=1)
    is_current: bool = Field(default=True)
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    rag: str | None = Field(default=None, max_length=1)
    status: str = Field(default="final", max_length=20)
    text: str | None = Field(default=None, sa_column=Column(Text))
    commentary: str | None = Field(default=None, sa_column=Column(Text))
    source: str | None = Field(default=None, sa_column=Column(Text))
    origin: str | None = Field(default=None, max_length=200)  # plugin:<name> | import:<file> | purge:<name>
    recorded_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime, nullable=False))
    # who wrote the revision: the PostgreSQL session user, the OS user on SQLite
    recorded_by: str | None = Field(default=None, max_length=100)


class FundingStream(SQLModel, table=True):
    __tablename__ = "funding_stream"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    funders: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    ring_fenced: bool = False
    description: str | None = Field(default=None, sa_column=Column(Text))
    plugin: str | None = Field(default=None, max_length=100)


class Allocation(SQLModel, table=True):
    __tablename__ = "allocation"
    __table_args__ = (
        UniqueConstraint("partnership_id", "stream_id", "year", "line", name="uq_allocation_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    stream_id: int = Field(foreign_key="funding_stream.id", index=True)
    year: str = Field(max_length=16)
    line: str = Field(default="", max_length=60)
    amount_pence: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    banked_by: str | None = Field(default=None, max_length=100)
    used_for: str | None = Field(default=None, sa_column=Column(Text))
    approximate: bool = False
    management_admin: bool = False
    # the document's own total of all the year's funding: the other lines are parts of it
    is_total: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                          server_default=sa_false()))
    source: str | None = Field(default=None, sa_column=Column(Text))
    plugin: str | None = Field(default=None, max_length=100)


class Action(SQLModel, table=True):
    __tablename__ = "action"
    __table_args__ = (UniqueConstraint("partnership_id", "ref", name="uq_action_key"),)
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    ref: str = Field(max_length=40)
    theme: str | None = Field(default=None, sa_column=Column(Text))
    action: str = Field(sa_column=Column(Text, nullable=False))
    lead: str | None = Field(default=None, sa_column=Column(Text))
    target_text: str | None = Field(default=None, sa_column=Column(Text))
    targets: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(Text))
    due: str | None = Field(default=None, max_length=32)
    milestones: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    dependencies: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    status: str = Field(default="not started", max_length=20)
    source: str | None = Field(default=None, sa_column=Column(Text))
    plugin: str | None = Field(default=None, max_length=100)


class AuditEvent(SQLModel, table=True):
    """One write to the database: who, when, what, and from where. Rows are only ever added
    (on PostgreSQL the database refuses UPDATE and DELETE to everyone but an admin)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_partnership_at", "partnership", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_column=Column(DateTime, nullable=False, index=True))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)  # import | sync | correction | purge | grant | transfer | ...
    partnership: str | None = Field(default=None, max_length=40)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    source: str | None = Field(default=None, sa_column=Column(Text))  # file, plugin or command


class Grant(SQLModel, table=True):
    """Who may do what on a shared PostgreSQL server: ``role`` is viewer, editor or approver
    of one partnership, or admin (``partnership_id`` empty). The database's own row-level
    security reads this table (``dat db grant`` writes it); SQLite has one user and ignores it."""

    __tablename__ = "dat_grant"
    __table_args__ = (UniqueConstraint("login", "partnership_id", "role", name="uq_grant"),)
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=100, index=True)
    partnership_id: int | None = Field(default=None, foreign_key="partnership.id")
    role: str = Field(max_length=20)  # viewer | editor | approver | admin
    granted_by: str = Field(max_length=100)
    granted_at: datetime = Field(default_factory=_now, sa_column=Column(DateTime, nullable=False))


metadata = SQLModel.metadata
