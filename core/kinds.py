"""The one table of contribution kinds: everything a plugin can contribute through a
``register_*`` hook. The hook specs (:mod:`dat.core.hookspecs`), the plugin host and its
:class:`~dat.core.plugins.Registry`, :class:`~dat.core.datafile.DataPlugin` (its TOML
sections and hook implementations), the plugin checker and the sync's change detection all
derive from :data:`KINDS`.

Adding a kind of contribution is one :class:`Kind` entry here plus its spec class in
:mod:`dat.core.specs`. A kind with ``synced=True`` is also stored in the database, which
needs its table (``core/models.py`` and a migration) and its step in ``core/sync.py``;
``tests/test_kinds.py`` fails until those exist.

Stdlib and :mod:`dat.core.specs` only: this module is on the start-up path of every command.
"""

from __future__ import annotations

from dataclasses import dataclass

from dat.core.specs import (
    ActionSpec,
    AllocationSpec,
    ExporterSpec,
    FundingStreamSpec,
    ImporterSpec,
    IndicatorSpec,
    ObservationSpec,
    PartnershipSpec,
    RendererSpec,
    TargetSpec,
    TemplateSpec,
    _Spec,
)

#: which kind's items a reference field names
REFERENCE_POOLS = {"partnership": "partnerships", "parent": "partnerships", "indicator": "indicators",
                   "stream": "streams"}


@dataclass(frozen=True)
class Kind:
    """One kind of contribution."""

    #: the hook a plugin implements, e.g. ``register_indicators``
    hook: str
    #: the attribute of :class:`~dat.core.plugins.Registry` holding the items
    registry: str
    #: the spec class each item becomes
    spec: type[_Spec]
    #: the array-of-tables section of a data plugin's TOML file, or ``None`` (code only)
    section: str | None
    #: stored in the database by the sync (else only held in memory by the registry)
    synced: bool
    #: fields that name an item of another kind (see :data:`REFERENCE_POOLS`), checked by
    #: the host after every plugin has contributed; an item naming nothing known is dropped
    refs: tuple[str, ...] = ()
    #: reference fields that may be left empty
    optional_refs: tuple[str, ...] = ()
    #: the hook's documentation: what to register and an example
    doc: str = ""

    @property
    def label(self) -> str:
        """The singular word used in messages ("target", "allocation")."""
        return self.spec.kind


#: every kind, in the order the registry collects them (partnerships and what others
#: reference first)
KINDS: tuple[Kind, ...] = (
    Kind('register_partnerships', 'partnerships', PartnershipSpec, 'partnerships', synced=True,
         refs=('parent',), optional_refs=('parent',),
         doc="""Contribute partnerships (:class:`~dat.core.specs.PartnershipSpec`).

    Sub-areas name their ``parent``; the parent may come from any plugin.

    Example::

        @hookimpl
        def register_partnerships(register):
            register(slug="cheshire", name="Cheshire DAAT", region="North West")
            register(slug="cheshire_east", name="Cheshire East", parent="cheshire",
                     area_type="local authority")
    """),
    Kind('register_indicators', 'indicators', IndicatorSpec, 'indicators', synced=True,
         doc="""Contribute indicators (:class:`~dat.core.specs.IndicatorSpec`).

    National codes (``NI40``, ``NTA.RET12``) belong to the built-in framework plugins; a
    partnership's own indicators are coded ``<slug>.<name>``.

    Example::

        @hookimpl
        def register_indicators(register):
            register(code="dudley.healthy_schools", name="Schools with Healthy Schools status",
                     unit="percent", polarity="higher", framework="YP")
    """),
    Kind('register_funding_streams', 'streams', FundingStreamSpec, 'funding_streams', synced=True,
         doc="""Contribute funding streams (:class:`~dat.core.specs.FundingStreamSpec`).

    Example::

        @hookimpl
        def register_funding_streams(register):
            register(code="PTB", name="Pooled Treatment Budget",
                     funders=("Department of Health", "Home Office"), ring_fenced=True)
    """),
    Kind('register_allocations', 'allocations', AllocationSpec, 'allocations', synced=True,
         refs=('partnership', 'stream'),
         doc="""Contribute funding allocations (:class:`~dat.core.specs.AllocationSpec`): amount of a
    stream for a partnership and financial year, exact to the penny (int or decimal string).

    Example::

        @hookimpl
        def register_allocations(register):
            register(partnership="bromley", stream="PTB", year="2009/10",
                     amount="1347255", banked_by="PCT", used_for="Drug treatment")
    """),
    Kind('register_targets', 'targets', TargetSpec, 'targets', synced=True,
         refs=('partnership', 'indicator'),
         doc="""Contribute targets (:class:`~dat.core.specs.TargetSpec`): absolute, change from a
    baseline, yearly growth, multiple of a baseline or unquantified text, with an optional
    quarterly profile for pro-rata rating and an amber tolerance.

    Example::

        @hookimpl
        def register_targets(register):
            register(partnership="dudley", indicator="NTA.RET12", period="2007/08",
                     target_kind="local", value=85)
    """),
    Kind('register_observations', 'observations', ObservationSpec, 'observations', synced=True,
         refs=('partnership', 'indicator'),
         doc="""Contribute observed figures (:class:`~dat.core.specs.ObservationSpec`). A figure that
    differs from the stored one becomes a new revision; the old one stays in history.

    Example::

        @hookimpl
        def register_observations(register):
            register(partnership="dudley", indicator="NTA.RET12", period="2007/08 Q1",
                     value=70, source="Q1 2007/08 report, section 4")
    """),
    Kind('register_actions', 'actions', ActionSpec, 'actions', synced=True,
         refs=('partnership',),
         doc="""Contribute action-plan lines (:class:`~dat.core.specs.ActionSpec`).

    Example::

        @hookimpl
        def register_actions(register):
            register(partnership="bromley", ref="2010-11.1", theme="Treatment",
                     action="Re-tender the treatment system", status="in progress")
    """),
    Kind('register_templates', 'templates', TemplateSpec, 'templates', synced=False,
         refs=('partnership',), optional_refs=('partnership',),
         doc="""Contribute report templates (:class:`~dat.core.specs.TemplateSpec`): Jinja2 files
    shipped as package data, rendered by the core from a context it builds.

    Example::

        @hookimpl
        def register_templates(register):
            register(name="quarterly", title="Quarterly performance report",
                     package=__name__, path="templates/quarterly.md.j2", partnership="dudley")
    """),
    Kind('register_importers', 'importers', ImporterSpec, None, synced=False,
         doc="""Contribute importers (:class:`~dat.core.specs.ImporterSpec`) that read a file format
    into observation rows.

    Example::

        @hookimpl
        def register_importers(register):
            register(name="my-csv", suffixes=(".csv",), load=read_my_csv)
    """),
    Kind('register_exporters', 'exporters', ExporterSpec, None, synced=False,
         doc="""Contribute exporters (:class:`~dat.core.specs.ExporterSpec`) that write rows out.

    Example::

        @hookimpl
        def register_exporters(register):
            register(name="tsv", suffixes=(".tsv",), write=write_tsv)
    """),
    Kind('register_renderers', 'renderers', RendererSpec, None, synced=False,
         doc="""Contribute report renderers (:class:`~dat.core.specs.RendererSpec`) chosen by the
    output file's suffix. ``render`` is called with keyword arguments only:
    ``render(markdown=str, context=dict, path=pathlib.Path, title=str)``, and writes the file.

    Example::

        @hookimpl
        def register_renderers(register):
            register(name="text", suffixes=(".txt",), render=render_text)
    """),
)

BY_HOOK: dict[str, Kind] = {k.hook: k for k in KINDS}
BY_REGISTRY: dict[str, Kind] = {k.registry: k for k in KINDS}
#: the kinds stored in the database, in the table order
SYNCED: tuple[Kind, ...] = tuple(k for k in KINDS if k.synced)
#: the kinds a data plugin's TOML file may hold, by section name
SECTIONS: dict[str, Kind] = {k.section: k for k in KINDS if k.section}
#: spec kind ("indicator") -> spec class
SPEC_KINDS: dict[str, type[_Spec]] = {k.spec.kind: k.spec for k in KINDS}

__all__ = ["Kind", "KINDS", "BY_HOOK", "BY_REGISTRY", "SYNCED", "SECTIONS", "SPEC_KINDS", "REFERENCE_POOLS"]
