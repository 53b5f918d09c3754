"""Every hook a ``dat`` plugin can implement. The docstrings are the documentation.

A plugin is a module (or object) with functions decorated ``@dat.core.hookimpl``, registered
through the ``dat`` entry-point group::

    [project.entry-points.dat]
    my_area = "my_area_dat"

Contribution hooks (``register_*``) receive a ``register`` callback. Call it once per item
with a spec from :mod:`dat.core.specs` or with the spec's fields as keyword arguments. The
host validates each item, tags it with your plugin's name and de-duplicates by natural key
(the first plugin to register a key wins; a second registration with different content is
reported as a conflict). An invalid item is reported by ``dat plugins`` and skipped; the
rest of your plugin and of ``dat`` keep working.

Decision hooks are ``firstresult``: the first non-``None`` answer wins, and ``None`` means
"no opinion, use the core's rule".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("dat")

Register = Callable[..., None]


@hookspec
def register_partnerships(register: Register) -> None:
    """Contribute partnerships (:class:`~dat.core.specs.PartnershipSpec`).

    Sub-areas name their ``parent``; the parent may come from any plugin.

    Example::

        @hookimpl
        def register_partnerships(register):
            register(slug="cheshire", name="Cheshire DAAT", region="North West")
            register(slug="cheshire_east", name="Cheshire East", parent="cheshire",
                     area_type="local authority")
    """


@hookspec
def register_indicators(register: Register) -> None:
    """Contribute indicators (:class:`~dat.core.specs.IndicatorSpec`).

    National codes (``NI40``, ``NTA.RET12``) belong to the built-in framework plugins; a
    partnership's own indicators are coded ``<slug>.<name>``.

    Example::

        @hookimpl
        def register_indicators(register):
            register(code="dudley.healthy_schools", name="Schools with Healthy Schools status",
                     unit="percent", polarity="higher", framework="YP")
    """


@hookspec
def register_funding_streams(register: Register) -> None:
    """Contribute funding streams (:class:`~dat.core.specs.FundingStreamSpec`).

    Example::

        @hookimpl
        def register_funding_streams(register):
            register(code="PTB", name="Pooled Treatment Budget",
                     funders=("Department of Health", "Home Office"), ring_fenced=True)
    """


@hookspec
def register_allocations(register: Register) -> None:
    """Contribute funding allocations (:class:`~dat.core.specs.AllocationSpec`): amount of a
    stream for a partnership and financial year, exact to the penny (int or decimal string).

    Example::

        @hookimpl
        def register_allocations(register):
            register(partnership="bromley", stream="PTB", year="2009/10",
                     amount="1347255", banked_by="PCT", used_for="Drug treatment")
    """


@hookspec
def register_targets(register: Register) -> None:
    """Contribute targets (:class:`~dat.core.specs.TargetSpec`): absolute, change from a
    baseline, yearly growth, multiple of a baseline or unquantified text, with an optional
    quarterly profile for pro-rata rating and an amber tolerance.

    Example::

        @hookimpl
        def register_targets(register):
            register(partnership="dudley", indicator="NTA.RET12", period="2007/08",
                     target_kind="local", value=85)
    """


@hookspec
def register_observations(register: Register) -> None:
    """Contribute observed figures (:class:`~dat.core.specs.ObservationSpec`). A figure that
    differs from the stored one becomes a new revision; the old one stays in history.

    Example::

        @hookimpl
        def register_observations(register):
            register(partnership="dudley", indicator="NTA.RET12", period="2007/08 Q1",
                     value=70, source="Q1 2007/08 report, section 4")
    """


@hookspec
def register_actions(register: Register) -> None:
    """Contribute action-plan lines (:class:`~dat.core.specs.ActionSpec`).

    Example::

        @hookimpl
        def register_actions(register):
            register(partnership="bromley", ref="2010-11.1", theme="Treatment",
                     action="Re-tender the treatment system", status="in progress")
    """


@hookspec
def register_templates(register: Register) -> None:
    """Contribute report templates (:class:`~dat.core.specs.TemplateSpec`): Jinja2 files
    shipped as package data, rendered by the core from a context it builds.

    Example::

        @hookimpl
        def register_templates(register):
            register(name="quarterly", title="Quarterly performance report",
                     package=__name__, path="templates/quarterly.md.j2", partnership="dudley")
    """


@hookspec
def register_importers(register: Register) -> None:
    """Contribute importers (:class:`~dat.core.specs.ImporterSpec`) that read a file format
    into observation rows.

    Example::

        @hookimpl
        def register_importers(register):
            register(name="my-csv", suffixes=(".csv",), load=read_my_csv)
    """


@hookspec
def register_exporters(register: Register) -> None:
    """Contribute exporters (:class:`~dat.core.specs.ExporterSpec`) that write rows out.

    Example::

        @hookimpl
        def register_exporters(register):
            register(name="tsv", suffixes=(".tsv",), write=write_tsv)
    """


@hookspec
def register_renderers(register: Register) -> None:
    """Contribute report renderers (:class:`~dat.core.specs.RendererSpec`) chosen by the
    output file's suffix.

    Example::

        @hookimpl
        def register_renderers(register):
            register(name="text", suffixes=(".txt",), render=render_text)
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands to the ``dat`` command group ``cli``.

    Example::

        @hookimpl
        def register_commands(cli):
            import click

            @cli.command("hello")
            def hello():
                click.echo("hello from my plugin")
    """


@hookspec(firstresult=True)
def rag_rule(partnership: str, indicator: Any, target: Any, observation: Any, period: str) -> Any:
    """Rate one figure with a partnership's own rule; return a RAG letter (``"R"``, ``"A"``,
    ``"G"``), a :class:`~dat.core.targets.RAG`, or ``None`` to use the core's rule.

    ``indicator``, ``target`` and ``observation`` are the scorecard's plain dicts (the target
    and observation may be ``None``). A recorded judgement always wins over any rule.

    Example::

        @hookimpl
        def rag_rule(partnership, indicator, target, observation, period):
            if partnership == "dudley" and indicator["code"] == "NTA.RET12":
                return "G" if observation and observation["value"] >= 80 else None
    """
