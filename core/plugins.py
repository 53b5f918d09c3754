"""Plugin loading and the registry of everything plugins contribute.

``get_plugin_manager()`` builds, once per process: hook specs → built-in plugins → entry
points of the ``dat`` group (each loaded in its own guard) → ``check_pending()``. A plugin
that fails to import, misspells a hook or registers bad data is recorded in
:attr:`PluginHost.plugins` (``dat plugins`` shows it) and its bad parts are skipped, unless
``strict`` is on, in which case :class:`PluginError` is raised.

Environment:

- ``DAT_LOAD_PLUGINS`` — comma-separated allow-list of entry-point names to load (built-ins
  always load); empty means "no entry-point plugins".
- ``DAT_TRACE_PLUGINS`` — when set (non-empty, not ``0``), every hook call is written to
  stderr with the plugin and the number of items it registered.
- ``DAT_STRICT_PLUGINS`` — same as ``--strict-plugins``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pluggy

from dat.core import hookspecs
from dat.core.errors import PluginError  # noqa: F401 - re-exported: PluginError was defined here
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
    build_spec,
)

ENTRY_POINT_GROUP = "dat"

#: Built-in plugins, always loaded (in this order) before entry points.
BUILTIN_PLUGINS: tuple[str, ...] = ("dat.plugins.national:plugin", "dat.plugins.renderers")

#: contribution hook name -> spec class
CONTRIBUTION_HOOKS: dict[str, type] = {
    "register_partnerships": PartnershipSpec,
    "register_indicators": IndicatorSpec,
    "register_funding_streams": FundingStreamSpec,
    "register_allocations": AllocationSpec,
    "register_targets": TargetSpec,
    "register_observations": ObservationSpec,
    "register_actions": ActionSpec,
    "register_templates": TemplateSpec,
    "register_importers": ImporterSpec,
    "register_exporters": ExporterSpec,
    "register_renderers": RendererSpec,
}




@dataclass
class PluginInfo:
    name: str
    module: str
    origin: str  # "builtin" | "entry point" | "direct"
    distribution: str | None = None
    version: str | None = None
    loaded: bool = False
    error: str | None = None  # why the plugin was skipped whole
    problems: list[str] = field(default_factory=list)  # items skipped
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        return "problems" if self.problems else "ok"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


@dataclass
class Registry:
    """Everything the loaded plugins contributed, validated and de-duplicated."""

    partnerships: dict[str, PartnershipSpec] = field(default_factory=dict)
    indicators: dict[str, IndicatorSpec] = field(default_factory=dict)
    streams: dict[str, FundingStreamSpec] = field(default_factory=dict)
    allocations: dict[tuple, AllocationSpec] = field(default_factory=dict)
    targets: dict[tuple, TargetSpec] = field(default_factory=dict)
    observations: dict[tuple, ObservationSpec] = field(default_factory=dict)
    actions: dict[tuple, ActionSpec] = field(default_factory=dict)
    templates: dict[tuple, TemplateSpec] = field(default_factory=dict)
    importers: dict[tuple, ImporterSpec] = field(default_factory=dict)
    exporters: dict[tuple, ExporterSpec] = field(default_factory=dict)
    renderers: dict[tuple, RendererSpec] = field(default_factory=dict)

    #: the data kinds that are synced into the database, in dependency order
    DATA_KINDS = ("partnerships", "indicators", "streams", "targets", "observations",
                  "allocations", "actions")

    def fingerprint(self) -> str:
        """A hash of every data contribution: when it is unchanged, syncing is skipped."""
        digest = hashlib.sha256()
        for kind in self.DATA_KINDS:
            items = getattr(self, kind)
            for key in sorted(items, key=repr):
                spec = items[key]
                digest.update(json.dumps([kind, spec.plugin, spec.as_dict()], default=str,
                                         sort_keys=True).encode())
        return digest.hexdigest()


_ATTR_FOR_HOOK = {
    "register_partnerships": "partnerships", "register_indicators": "indicators",
    "register_funding_streams": "streams", "register_allocations": "allocations",
    "register_targets": "targets", "register_observations": "observations",
    "register_actions": "actions", "register_templates": "templates",
    "register_importers": "importers", "register_exporters": "exporters",
    "register_renderers": "renderers",
}


class PluginHost:
    """The plugin manager plus what each plugin contributed and what went wrong."""

    def __init__(self, strict: bool = False, trace: bool = False) -> None:
        self.pm = pluggy.PluginManager("dat")
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict
        self.trace = trace
        self.plugins: dict[str, PluginInfo] = {}
        self._registry: Registry | None = None
        self.installed: list[str] = []  # entry-point names in group ``dat``
        self.unknown_allowed: list[str] = []  # DAT_LOAD_PLUGINS names no entry point has
        self._warnings: dict[str, None] = {}  # one line per failure, in order, once each
        if trace:
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(f"dat trace: {msg}"))
            self.pm.enable_tracing()

    def warn(self, message: str) -> None:
        """Note a one-line warning for the person running the command (printed once, when
        the command ends, by the CLI; shown as a notification by the TUI)."""
        self._warnings.setdefault(message, None)

    def take_warnings(self) -> list[str]:
        """The warnings noted since the last call, each once."""
        out = list(self._warnings)
        self._warnings.clear()
        return out

    # -- loading ---------------------------------------------------------------------------
    def _fail(self, info: PluginInfo, message: str) -> None:
        info.error = message
        if self.strict:
            raise PluginError(f"plugin {info.name}: {message}")

    def add(self, name: str, obj: Any, origin: str = "direct", module: str | None = None,
            distribution: str | None = None, version: str | None = None) -> PluginInfo:
        """Register an already imported plugin object, guarded."""
        info = PluginInfo(name=name, module=module or getattr(obj, "__name__", repr(obj)),
                          origin=origin, distribution=distribution, version=version)
        self.plugins[name] = info
        if self.pm.has_plugin(name):
            self._fail(info, f"a plugin named {name!r} is already registered")
            return info
        try:
            self.pm.register(obj, name=name)
        except Exception as exc:  # PluginValidationError and anything a plugin raises
            self._fail(info, f"invalid hook implementation: {exc}")
            return info
        unknown = self._unknown_hooks(obj, name)
        if unknown:
            self.pm.unregister(name=name)
            self._fail(info, f"unknown hook {unknown[0]!r} (misspelt?); known hooks: "
                             + ", ".join(sorted(self._spec_names())))
            return info
        info.loaded = True
        self._registry = None
        return info

    def _spec_names(self) -> set[str]:
        return {n for n in dir(hookspecs) if n.startswith(("register_", "rag_rule"))}

    def _unknown_hooks(self, obj: Any, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        bad = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                bad.append(caller.name)
        return sorted(bad)

    def load_module(self, target: str, name: str, origin: str, **meta: Any) -> PluginInfo:
        """Import ``module`` or ``module:attribute`` and register it, guarded."""
        modname, _, attr = target.partition(":")
        try:
            obj = importlib.import_module(modname)
            if attr:
                obj = getattr(obj, attr)
        except Exception as exc:
            info = PluginInfo(name=name, module=modname, origin=origin, **meta)
            self.plugins[name] = info
            self._fail(info, f"failed to import {modname}: {type(exc).__name__}: {exc}")
            return info
        return self.add(name, obj, origin=origin, module=target, **meta)

    def load_builtins(self) -> None:
        for target in BUILTIN_PLUGINS:
            self.load_module(target, target.split(":")[0].rsplit(".", 1)[-1], "builtin")

    def load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        allow_raw = os.environ.get("DAT_LOAD_PLUGINS")
        allow = None if allow_raw is None else {a.strip() for a in allow_raw.split(",") if a.strip()}
        found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
        self.installed = [ep.name for ep in found]
        self.unknown_allowed = sorted((allow or set()) - set(self.installed))
        for ep in found:
            if allow is not None and ep.name not in allow:
                continue
            dist = getattr(ep, "dist", None)
            meta = {"distribution": dist.name if dist else None,
                    "version": dist.version if dist else None}
            if ep.name in self.plugins:
                info = PluginInfo(name=ep.name, module=ep.value, origin="entry point", **meta)
                self._fail(info, f"name clashes with an already loaded plugin {ep.name!r}")
                self.plugins[f"{ep.name} ({ep.value})"] = info
                continue
            try:
                obj = ep.load()
            except Exception as exc:
                info = PluginInfo(name=ep.name, module=ep.value, origin="entry point", **meta)
                self.plugins[ep.name] = info
                self._fail(info, f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
                continue
            self.add(ep.name, obj, origin="entry point", module=ep.value, **meta)

    # -- contributions -----------------------------------------------------------------------
    def _problem(self, plugin: str, message: str) -> None:
        info = self.plugins.get(plugin)
        if info is None:  # pragma: no cover - defensive
            info = self.plugins[plugin] = PluginInfo(name=plugin, module="?", origin="direct")
        info.problems.append(message)
        if self.strict:
            raise PluginError(f"plugin {plugin}: {message}")

    def _collect(self, hook_name: str) -> list[Any]:
        """Call every implementation of a contribution hook, one plugin at a time, with a
        ``register`` callback bound to that plugin."""
        cls = CONTRIBUTION_HOOKS[hook_name]
        out: list[Any] = []
        caller = getattr(self.pm.hook, hook_name)
        # get_hookimpls() is in registration order (built-ins first), which is the order in
        # which "first registration wins" should apply
        for impl in caller.get_hookimpls():
            plugin = impl.plugin_name
            items: list[Any] = []
            count = 0

            def register(item: Any = None, /, **kwargs: Any) -> None:
                nonlocal count
                count += 1
                where = kwargs.pop("_where", None)
                try:
                    spec = build_spec(cls, item, **kwargs)
                except SpecError as exc:
                    place = where or f"{hook_name} item {count}{_ident(item, kwargs)}"
                    self._problem(plugin, f"{place}: {exc}")
                    return
                object.__setattr__(spec, "plugin", plugin)
                items.append(spec)

            started = time.perf_counter()
            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as exc:
                self._problem(plugin, f"{hook_name} raised {type(exc).__name__}: {exc}")
                continue
            if self.trace:
                sys.stderr.write(f"dat trace: {plugin}.{hook_name}: {len(items)} items in "
                                 f"{(time.perf_counter() - started) * 1000:.1f} ms\n")
            info = self.plugins.get(plugin)
            if info is not None:
                info.counts[hook_name] = info.counts.get(hook_name, 0) + len(items)
            out.extend(items)
        return out

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = self._build_registry()
        return self._registry

    def _build_registry(self) -> Registry:
        reg = Registry()
        for info in self.plugins.values():
            info.counts.clear()
        for hook_name, attr in _ATTR_FOR_HOOK.items():
            target: dict = getattr(reg, attr)
            for spec in self._collect(hook_name):
                key = spec.key()
                if len(key) == 1:
                    key = key[0]
                if key in target:
                    first = target[key]
                    if first.as_dict() != spec.as_dict():
                        self._problem(spec.plugin, f"{hook_name}: {key!r} is already registered "
                                                   f"by {first.plugin} with other content; skipped")
                    continue
                target[key] = spec
        self._check_references(reg)
        return reg

    def _check_references(self, reg: Registry) -> None:
        """Drop items that name a partnership, indicator or stream nobody registered."""
        for slug, p in list(reg.partnerships.items()):
            if p.parent and p.parent not in reg.partnerships:
                self._problem(p.plugin, f"partnership {slug!r}: unknown parent {p.parent!r}")
                del reg.partnerships[slug]
        checks = (("targets", ("partnership", "indicator")),
                  ("observations", ("partnership", "indicator")),
                  ("allocations", ("partnership", "stream")),
                  ("actions", ("partnership",)),
                  ("templates", ("partnership",)))
        pools = {"partnership": reg.partnerships, "indicator": reg.indicators, "stream": reg.streams}
        for attr, fields_ in checks:
            items: dict = getattr(reg, attr)
            for key, spec in list(items.items()):
                for f in fields_:
                    value = getattr(spec, f)
                    if value is None and attr == "templates":
                        continue
                    if value not in pools[f]:
                        choices = ", ".join(sorted(pools[f])[:12])
                        self._problem(spec.plugin, f"{attr[:-1]} {key!r}: unknown {f} {value!r}"
                                                   f" (known: {choices})")
                        del items[key]
                        break


def _ident(item: Any, kwargs: dict) -> str:
    data = kwargs or (item if isinstance(item, dict) else getattr(item, "__dict__", {}))
    for name in ("code", "slug", "name", "ref", "indicator"):
        if isinstance(data, dict) and data.get(name):
            return f" ({data[name]})"
    return ""


_HOST: PluginHost | None = None


def get_plugin_manager(strict: bool | None = None, *, reload: bool = False) -> PluginHost:
    """The process-wide plugin host: specs, built-ins, entry points, ``check_pending()``."""
    global _HOST
    if strict is None:
        strict = _env_flag("DAT_STRICT_PLUGINS")
    if _HOST is not None and not reload and _HOST.strict == strict:
        return _HOST
    host = PluginHost(strict=strict, trace=_env_flag("DAT_TRACE_PLUGINS"))
    host.load_builtins()
    host.load_entry_points()
    host.pm.check_pending()
    _HOST = host
    return host


def current_host() -> PluginHost | None:
    """The process-wide host if one was built (``None`` before any command loaded plugins)."""
    return _HOST


def reset_plugin_manager() -> None:
    """Forget the cached host (tests; after installing a plugin)."""
    global _HOST
    _HOST = None


def iter_plugins(host: PluginHost | None = None) -> Iterable[PluginInfo]:
    host = host or get_plugin_manager()
    host.registry  # noqa: B018 - collecting counts problems too
    return host.plugins.values()
