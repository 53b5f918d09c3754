"""Every hook a ``dat`` plugin can implement. The docstrings are the documentation.

A plugin is a module (or object) with functions decorated with ``hookimpl`` (from
:mod:`dat.core.api`), registered through the ``dat`` entry-point group::

    [project.entry-points.dat]
    my_area = "my_area_dat"

The contribution hooks (``register_*``) are made from the table in :mod:`dat.core.kinds`,
which holds their documentation too. They receive a ``register`` callback. Call it once per item
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

from dat.core.kinds import KINDS, Kind

hookspec = pluggy.HookspecMarker("dat")

Register = Callable[..., None]


def _contribution_spec(kind: Kind) -> Callable[..., None]:
    def spec(register: Register) -> None:
        pass

    spec.__name__ = spec.__qualname__ = kind.hook
    spec.__doc__ = kind.doc
    spec.__module__ = __name__
    return hookspec(spec)


# one spec per contribution kind, made from the table in dat.core.kinds
for _kind in KINDS:
    globals()[_kind.hook] = _contribution_spec(_kind)
del _kind

#: the names of every hook a plugin may implement
HOOK_NAMES: tuple[str, ...] = (*(k.hook for k in KINDS), "register_commands", "rag_rule")


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
