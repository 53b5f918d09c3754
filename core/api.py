"""The public plugin API of dat: everything a plugin author needs, from one module.

::

    from dat.core.api import DataPlugin, hookimpl

    plugin = DataPlugin(__name__, "data/my_area.toml")

What is public
    Exactly the names in ``__all__`` below, with the signatures and fields they have in the
    release that added them. Everything else under ``dat.core`` (and ``dat.cli``) is
    internal: it may change in any release. The hook specifications (their names, their
    arguments and what a ``firstresult`` answer means) and the spec classes' fields are public
    too; they are documented in docs/plugins.md.

The compatibility promise (see docs/plugins.md, "Compatibility")
    Within one major version (``API_VERSION`` ``1.x``) a public name is not removed or
    renamed, a hook keeps its arguments, and a spec class keeps its fields and their meaning.
    New hooks, new optional spec fields and new names may be added in a minor release; a
    plugin written for ``1.0`` keeps loading and giving the same results. A hook argument is
    only ever added with a default, so an implementation that does not ask for it still
    works (pluggy passes only the arguments an implementation names).

Deprecation
    A public name, hook or field to be removed is first announced: it is marked in
    CHANGELOG.md under "Deprecated", named in docs/plugins.md, and using it emits a
    :class:`DeprecationWarning` for at least one minor release before the next major version
    removes it.

The old import paths (``dat.core.hookimpl``, ``dat.core.datafile.DataPlugin``,
``dat.core.specs.*``, ``dat.core.periods.parse_period``, ``dat.core.testing.check_plugin``)
keep working; new code should import from here.
"""

from __future__ import annotations

from dat.core import hookimpl
from dat.core.datafile import DataFileError, DataPlugin
from dat.core.errors import DataError, DatError, PluginError, UsageError
from dat.core.files import safe_cell
from dat.core.hookspecs import HOOK_NAMES, Register, hookspec
from dat.core.kinds import KINDS, Kind
from dat.core.periods import Period, PeriodError, financial_year, parse_period, quarter, quarter_of, year, ytd
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
    SpecError,
    TargetSpec,
    TemplateSpec,
)
from dat.core.testing import PluginCheck, check_plugin

#: the version of this API (not of dat): the major number changes only when something
#: public is removed or changes meaning, after a deprecation (see above)
API_VERSION = "1.0"

__all__ = [
    "API_VERSION",
    # hooks
    "hookimpl", "hookspec", "HOOK_NAMES", "Register", "KINDS", "Kind",
    # contributions
    "DataPlugin", "PartnershipSpec", "IndicatorSpec", "TargetSpec", "ObservationSpec",
    "FundingStreamSpec", "AllocationSpec", "ActionSpec", "TemplateSpec", "ImporterSpec",
    "ExporterSpec", "RendererSpec",
    # periods
    "Period", "parse_period", "year", "quarter", "ytd", "financial_year", "quarter_of",
    # errors
    "DatError", "UsageError", "DataError", "PluginError", "SpecError", "PeriodError",
    "DataFileError",
    # testing a plugin
    "check_plugin", "PluginCheck",
    # writing spreadsheet cells (CSV injection)
    "safe_cell",
]
