"""Plugin loading and the registry of everything plugins contribute.

``get_plugin_manager()`` builds, once per process: hook specs → built-in plugins → entry
points of the ``dat`` group (each loaded in its own guard) → ``check_pending()``. A plugin
that fails to import, misspells a hook or registers bad data is recorded in
:attr:`PluginHost.plugins` (``dat plugins`` shows it) and its bad parts are skipped, unless
``strict`` is on, in which case :class:`PluginError` is raised.

Environment:

- ``DAT_LOAD_PLUGINS`` — comma-separated allow-list of entry-point names to load (built-ins
  always load); empty means "no entry-point plugins".
- ``DAT_TRACE_PLUGINS`` — when set (to anything but empty, ``0``, ``false`` or ``no``),
  every hook call is written to stderr with the plugin, the number of items kept (for a
  ``register_*`` hook) and the time it took.
- ``DAT_STRICT_PLUGINS`` — same as ``--strict-plugins``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pluggy import HookImpl, Result

from dat.core import hookspecs
from dat.core.errors import PluginError
from dat.core.kinds import KINDS, REFERENCE_POOLS, SYNCED, Kind
from dat.core.specs import SpecError, build_spec

ENTRY_POINT_GROUP = "dat"

#: Built-in plugins, always loaded (in this order) before entry points.
BUILTIN_PLUGINS: tuple[str, ...] = ("dat.plugins.national:plugin", "dat.plugins.renderers")

#: kinds only a partnership's owner registers for it (other plugins may add figures only)
OWNER_ONLY = ("targets", "allocations", "actions")

#: a hook call longer than this (seconds) is flagged: every command that reads the plugins waits for it
SLOW_HOOK = 1.0

#: contribution hook name -> spec class (derived from :data:`dat.core.kinds.KINDS`)
CONTRIBUTION_HOOKS: dict[str, type] = {k.hook: k.spec for k in KINDS}

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
    #: hook name -> seconds its last call took (contribution hooks)
    timings: dict[str, float] = field(default_factory=dict)
    #: why it was not loaded on purpose: "disabled" (DAT_DISABLE_PLUGINS or `dat plugins
    #: disable`) or "skipped" (not in DAT_LOAD_PLUGINS); None when it was asked to load
    off: str | None = None

    @property
    def slow(self) -> list[str]:
        """The hooks that took longer than :data:`SLOW_HOOK` seconds."""
        return [h for h, t in self.timings.items() if t > SLOW_HOOK]

    @property
    def status(self) -> str:
        if self.off:
            return self.off
        if self.error:
            return "failed"
        if self.problems:
            return "problems"
        return "slow" if self.slow else "ok"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class DatabaseState:
    """What a database records about who owns what, read before the registry is built so
    that ownership decides between plugins (not the order they happen to load in).

    ``owners``: every partnership slug in the database -> its owning plugin, or ``None``
    when nobody owns it (only named as a reference, or released by a purge).
    ``indicators``/``streams``: the codes already in the database, which other plugins'
    items may name even when the plugin that registered them is not loaded."""

    owners: Mapping[str, str | None] = field(default_factory=dict)
    #: indicator code -> the plugin recorded for it (None: imported or released)
    indicators: Mapping[str, str | None] = field(default_factory=dict)
    #: funding stream code -> the plugin recorded for it
    streams: Mapping[str, str | None] = field(default_factory=dict)

    def known(self, pool: str) -> Mapping[str, str | None]:
        """The keys of ``pool`` ("partnerships", "indicators", "streams") in the database,
        each with the plugin recorded for it."""
        found: Mapping[str, str | None] = {"partnerships": self.owners, "indicators": self.indicators,
                                           "streams": self.streams}.get(pool, {})
        return found


class Registry:
    """Everything the loaded plugins contributed, validated and de-duplicated: one dict per
    kind of :data:`dat.core.kinds.KINDS`, named by its ``registry`` attribute
    (``registry.indicators["NI40"]``), keyed by the spec's natural key."""

    #: the kinds that are synced into the database, in table order
    DATA_KINDS = tuple(k.registry for k in SYNCED)

    def __init__(self) -> None:
        for kind in KINDS:
            setattr(self, kind.registry, {})
        #: partnership slug -> the plugin that owns it (as resolved for this registry)
        self.owners: dict[str, str | None] = {}
        #: plugins loaded without a failure: the sync adds and changes only their items
        self.healthy: frozenset[str] = frozenset()
        #: healthy plugins with no problem either: the sync removes stale items only of these
        self.removable: frozenset[str] = frozenset()
        #: partnership slug -> plugins whose claim to it was refused
        self.refused: dict[str, list[str]] = {}

    def __getattr__(self, name: str) -> dict[Any, Any]:  # typing: every kind is a dict
        raise AttributeError(f"the registry has no kind {name!r}")

    def of(self, kind: Kind) -> dict[Any, Any]:
        """The items of ``kind``."""
        items: dict[Any, Any] = getattr(self, kind.registry)
        return items

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


#: contribution hook name -> registry attribute (derived from the kinds table)
_ATTR_FOR_HOOK = {k.hook: k.registry for k in KINDS}


class _Register:
    """The ``register`` callback a contribution hook receives: bound to one plugin and one
    kind, it builds and validates each item and keeps the good ones."""

    def __init__(self, host: PluginHost, plugin: str, kind: Kind) -> None:
        self.host, self.plugin, self.kind = host, plugin, kind
        self.items: list[Any] = []
        self.count = 0

    def __call__(self, item: Any = None, /, **kwargs: Any) -> None:
        self.count += 1
        where = kwargs.pop("_where", None)
        try:
            spec = build_spec(self.kind.spec, item, **kwargs)
        except Exception as exc:  # a SpecError, or a field of the wrong type that broke a check
            place = where or f"{self.kind.hook} item {self.count}{_ident(item, kwargs)}"
            why = str(exc) if isinstance(exc, SpecError) else f"invalid item ({_describe(exc)})"
            self.host._problem(self.plugin, f"{place}: {why}")
            return
        object.__setattr__(spec, "plugin", self.plugin)
        self.items.append(spec)


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
        self._decision_failures: dict[tuple[str, str], int] = {}  # (plugin, hook) -> failures
        #: ownership as the open database records it (None: no database read yet)
        self.db_state: DatabaseState | None = None
        #: slug -> refused claimants, as the database recorded them at its last sync (used
        #: when this process did not build the registry)
        self.recorded_refusals: dict[str, list[str]] = {}
        self.recorded_owners: dict[str, str] = {}  # slug -> owner, for those refusals
        self._touched: set[str] = set()
        if trace:
            self._trace_hook_calls()

    def _trace_hook_calls(self) -> None:
        """``DAT_TRACE_PLUGINS``: one stderr line per hook call, from pluggy's own hook-call
        monitoring: which plugins answered, how long it took, and for a contribution hook how
        many items were kept."""
        started: list[float] = []

        def before(hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
            started.append(time.perf_counter())

        def after(outcome: Result[Any], hook_name: str, impls: Sequence[HookImpl],
                  kwargs: Mapping[str, Any]) -> None:
            ms = (time.perf_counter() - started.pop()) * 1000 if started else 0.0
            who = ",".join(i.plugin_name for i in impls) or "no plugin"
            register = kwargs.get("register")
            what = f"{len(register.items)} items" if isinstance(register, _Register) else "called"
            failed = f", raised {type(outcome.exception).__name__}" if outcome.exception else ""
            sys.stderr.write(f"dat trace: {who}.{hook_name}: {what} in {ms:.1f} ms{failed}\n")

        self.pm.add_hookcall_monitoring(before, after)

    def warn(self, message: str) -> None:
        """Note a one-line warning for the person running the command (printed once, when
        the command ends, by the CLI; shown as a notification by the TUI)."""
        self._warnings.setdefault(message, None)

    def take_warnings(self) -> list[str]:
        """The warnings noted since the last call, each once."""
        out = list(self._warnings)
        self._warnings.clear()
        return out

    def set_database_state(self, state: DatabaseState) -> None:
        """Tell the host what the open database records about ownership; the registry is
        rebuilt when that changes what it knew."""
        if state != self.db_state:
            self.db_state = state
            self._registry = None

    def healthy(self) -> set[str]:
        """The plugins that loaded without failing."""
        return {n for n, i in self.plugins.items() if i.loaded and not i.error}

    def unwell(self) -> list[PluginInfo]:
        """Plugins that failed, have problems or a slow hook, as far as this process knows
        (problems are found when the registry is built; :meth:`health_line` also reads what
        the last build on this installation found)."""
        return [i for i in self.plugins.values() if i.status in ("failed", "problems", "slow")]

    def health_line(self, already: Sequence[str] = ()) -> str | None:
        """One line for the end of a command when some plugin failed, has problems or a slow
        hook (``None`` when all is well, or when every such plugin is named by a warning in
        ``already``): ``2 plugins have problems (a, b): dat plugins``."""
        if self._registry is not None:
            names = {i.name: i.status for i in self.unwell()}
            save_health(self, names)
        else:
            names = {i.name: "failed" for i in self.plugins.values() if i.error}
            names.update(load_health(self))
        if not names or all(any(f"plugin {n}" in line for line in already) for n in names):
            return None
        slow = [n for n, st in names.items() if st == "slow"]
        shown = ", ".join(sorted(names)[:4]) + (" …" if len(names) > 4 else "")
        what = "is slow" if len(names) == len(slow) == 1 else ("has problems" if len(names) == 1 else "have problems")
        noun = "plugin" if len(names) == 1 else "plugins"
        return f"{len(names)} {noun} {what} ({shown}): dat plugins"

    def claims(self, slug: str) -> list[str]:
        """The loaded plugins that register partnership ``slug`` as their own (not as a
        reference), in load order."""
        out: list[str] = []
        kind = next(k for k in KINDS if k.registry == "partnerships")
        saved = {n: (list(i.problems), dict(i.counts)) for n, i in self.plugins.items()}
        try:
            specs = self._collect(kind)
        finally:  # asking again must not record anything twice
            for n, (problems, counts) in saved.items():
                self.plugins[n].problems, self.plugins[n].counts = problems, counts
        for spec in specs:
            if spec.slug == slug and not spec.reference and spec.plugin not in out:
                out.append(str(spec.plugin))
        return out

    def refusals(self) -> dict[str, list[str]]:
        """Partnership slug -> plugins whose claim to it was refused: this process's registry
        if it was built, else what the database recorded at its last sync."""
        if self._registry is not None:
            return self._registry.refused
        return self.recorded_refusals

    def touching(self, slug: str) -> None:
        """A command is about to show or change partnership ``slug``: warn (once) when a
        plugin's claim to it was refused."""
        if slug in self._touched:
            return
        self._touched.add(slug)
        claimants = self.refusals().get(slug)
        if not claimants:
            return
        owner = self.recorded_owners.get(slug) or (self.db_state.owners.get(slug) if self.db_state else None)
        if owner is None and self._registry is not None:
            owner = self._registry.owners.get(slug)
        self.warn(f"partnership {slug!r} belongs to {owner or 'another plugin'}; the claim of plugin "
                  f"{', '.join(claimants)} was refused (dat plugins)")

    # -- loading ---------------------------------------------------------------------------
    def _fail(self, info: PluginInfo, message: str) -> None:
        message = " ".join(message.split())
        if len(message) > 180:  # a plugin's exception text can be long: the line stays short
            message = message[:179] + "…"
        info.error = message
        if self.strict:
            raise PluginError(f"plugin {info.name}: {message}")

    def add(self, name: str, obj: Any, origin: str = "direct", module: str | None = None,
            distribution: str | None = None, version: str | None = None) -> PluginInfo:
        """Register an already imported plugin object, guarded."""
        info = PluginInfo(name=name, module=module or str(getattr(obj, "__name__", repr(obj))),
                          origin=origin, distribution=distribution, version=version)
        self.plugins[name] = info
        if self.pm.has_plugin(name):
            self._fail(info, f"a plugin named {name!r} is already registered")
            return info
        try:
            self.pm.register(obj, name=name)
        except pluggy.PluginValidationError as exc:
            self._fail(info, _validation_message(exc))
            return info
        except Exception as exc:  # anything a plugin raises while being registered
            self._fail(info, f"invalid hook implementation: {_describe(exc)}")
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

    def load_entry_points(self, *, every: bool = False) -> None:
        """Load the entry points of group ``dat``, minus those DAT_LOAD_PLUGINS leaves out or
        the user disabled (``every``: all of them, whatever the settings)."""
        from importlib.metadata import entry_points

        allow_raw = None if every else os.environ.get("DAT_LOAD_PLUGINS")
        allow = None if allow_raw is None else {a.strip() for a in allow_raw.split(",") if a.strip()}
        found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
        self.installed = [ep.name for ep in found]
        self.unknown_allowed = sorted((allow or set()) - set(self.installed))
        disabled: set[str] = set()
        if not every:
            settings, problem = load_settings()
            if problem:
                self.warn(f"{problem}: ignored; fix or delete it")
            disabled = _disabled_plugins(settings)
        for ep in found:
            dist = getattr(ep, "dist", None)
            distribution: str | None = dist.name if dist else None
            version: str | None = dist.version if dist else None
            off = "disabled" if ep.name in disabled else (
                "skipped" if allow is not None and ep.name not in allow else None)
            if off is not None:
                if ep.name not in self.plugins:
                    self.plugins[ep.name] = PluginInfo(name=ep.name, module=ep.value, origin="entry point",
                                                       distribution=distribution, version=version, off=off)
                continue
            if ep.name in self.plugins:
                info = PluginInfo(name=ep.name, module=ep.value, origin="entry point",
                                  distribution=distribution, version=version)
                self._fail(info, f"name clashes with an already loaded plugin {ep.name!r}")
                self.plugins[f"{ep.name} ({ep.value})"] = info
                continue
            try:
                obj = ep.load()
            except Exception as exc:
                info = PluginInfo(name=ep.name, module=ep.value, origin="entry point",
                                  distribution=distribution, version=version)
                self.plugins[ep.name] = info
                self._fail(info, f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
                continue
            self.add(ep.name, obj, origin="entry point", module=ep.value, distribution=distribution,
                     version=version)

    # -- contributions -----------------------------------------------------------------------
    def _problem(self, plugin: str, message: str) -> None:
        info = self.plugins.get(plugin)
        if info is None:  # pragma: no cover - defensive
            info = self.plugins[plugin] = PluginInfo(name=plugin, module="?", origin="direct")
        info.problems.append(message)
        if self.strict:
            raise PluginError(f"plugin {plugin}: {message}")

    def _collect(self, kind: Kind) -> list[Any]:
        """Call every implementation of a contribution hook, one plugin at a time (through
        pluggy, so its tracing and monitoring see each call), with a ``register`` callback
        bound to that plugin."""
        out: list[Any] = []
        caller = getattr(self.pm.hook, kind.hook)
        impls = caller.get_hookimpls()
        # get_hookimpls() is in registration order (built-ins first), which is the order in
        # which "first registration wins" should apply
        for impl in impls:
            plugin = impl.plugin_name
            others = [i.plugin for i in impls if i.plugin_name != plugin]
            register = _Register(self, plugin, kind)
            info = self.plugins.get(plugin)
            started = time.perf_counter()
            try:
                self.pm.subset_hook_caller(kind.hook, remove_plugins=others)(register=register)
            except PluginError:
                raise
            except Exception as exc:
                self._problem(plugin, f"{kind.hook} raised {_describe(exc)}")
                continue
            finally:
                if info is not None:
                    info.timings[kind.hook] = time.perf_counter() - started
            if info is not None:
                info.counts[kind.hook] = info.counts.get(kind.hook, 0) + len(register.items)
            out.extend(register.items)
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
        collected = {kind: self._collect(kind) for kind in KINDS}
        parts_kind = next(k for k in KINDS if k.registry == "partnerships")
        self._resolve_partnerships(reg, collected[parts_kind])
        refused = {(plugin, slug) for slug, plugins in reg.refused.items() for plugin in plugins}
        for kind in KINDS:
            if kind is parts_kind:
                continue
            hook_name = kind.hook
            target = reg.of(kind)
            by_partnership = "partnership" in kind.refs
            for spec in collected[kind]:
                slug = getattr(spec, "partnership", None) if by_partnership else None
                if slug is not None and (spec.plugin, slug) in refused:
                    continue  # an impostor's data for the partnership it tried to take over
                key = spec.key()
                if len(key) == 1:
                    key = key[0]
                owner = reg.owners.get(slug) if slug is not None else None
                if owner is not None and spec.plugin != owner and kind.registry in OWNER_ONLY:
                    self._problem(spec.plugin, f"{hook_name}: {key!r}: only {owner}, which owns {slug!r}, "
                                               f"registers its {kind.registry}; skipped")
                    continue
                first = target.get(key)
                if first is None:
                    target[key] = spec
                    continue
                if first == spec:  # the same content (the plugin's name is not compared)
                    # credited to the owner, or to the plugin the database records for it
                    keeper = owner if slug is not None else self._recorded_plugin(kind.registry, key)
                    if keeper is not None and spec.plugin == keeper:
                        target[key] = spec
                    continue
                if owner is not None and spec.plugin == owner:
                    target[key] = spec  # the owner's figure stands over one loaded before it
                    self._problem(first.plugin, f"{hook_name}: {key!r} differs from {owner}'s (the "
                                                "partnership's owner), whose item stands; skipped")
                elif owner is not None and first.plugin == owner:
                    self._problem(spec.plugin, f"{hook_name}: {key!r} differs from {owner}'s (the "
                                               "partnership's owner), whose item stands; skipped")
                else:
                    self._problem(spec.plugin, f"{hook_name}: {key!r} is already registered "
                                               f"by {first.plugin} with other content; skipped")
        self._check_references(reg)
        reg.healthy = frozenset(self.healthy())
        reg.removable = frozenset(n for n in reg.healthy if not self.plugins[n].problems)
        return reg

    def _recorded_plugin(self, pool: str, key: Any) -> str | None:
        """The plugin the database records for an indicator or stream, if any."""
        if self.db_state is None or pool not in ("indicators", "streams"):
            return None
        return self.db_state.known(pool).get(key)

    def _resolve_partnerships(self, reg: Registry, specs: list[Any]) -> None:
        """Decide who owns each registered partnership. The owner recorded in the database
        keeps it; for a partnership new to the database, a plugin named after the slug, else
        the first plugin loaded that registers it as its own (not as a reference). Another
        plugin's own registration with different content is refused: the problem is recorded
        against that plugin and its other items for the partnership are dropped. References
        give way without a conflict, and identical registrations are not conflicts."""
        recorded = self.db_state.owners if self.db_state is not None else {}
        claims: dict[str, list[Any]] = {}
        for spec in specs:
            claims.setdefault(spec.slug, []).append(spec)
        for slug, these in claims.items():
            real = [c for c in these if not c.reference]
            owner = recorded.get(slug)
            if owner is not None:
                winner = next((c for c in real if c.plugin == owner), None)
            else:
                winner = next((c for c in real if c.plugin == slug), real[0] if real else None)
                owner = winner.plugin if winner is not None else None
            chosen = winner if winner is not None else (these[0] if owner is None else None)
            if chosen is not None:
                reg.partnerships[slug] = chosen
            reg.owners[slug] = owner
            for claim in real:
                if claim is winner or claim.plugin == owner:
                    continue
                if winner is not None and claim == winner:
                    continue  # the same registration as the owner's: not a conflict
                reg.refused.setdefault(slug, []).append(str(claim.plugin))
                holder = f"{owner} (recorded in the database)" if slug in recorded else str(owner)
                self._problem(str(claim.plugin), f"register_partnerships: {slug!r} belongs to {holder}; "
                                                 f"this plugin's claim and its items for {slug!r} were refused "
                                                 "(`dat partnerships transfer` changes an owner)")
        for slug, owner in recorded.items():
            reg.owners.setdefault(slug, owner)

    def _check_references(self, reg: Registry) -> None:
        """Drop items that name a partnership, indicator or stream nobody registered (the
        reference fields of each kind in :data:`dat.core.kinds.KINDS`)."""
        for kind in KINDS:
            items = reg.of(kind)
            for key, spec in list(items.items()):
                for f in kind.refs:
                    value = getattr(spec, f)
                    if value is None and f in kind.optional_refs:
                        continue
                    pool = getattr(reg, REFERENCE_POOLS[f])
                    known = self.db_state.known(REFERENCE_POOLS[f]) if self.db_state is not None else ()
                    if value not in pool and value not in known:
                        choices = ", ".join(sorted(pool)[:12])
                        shown = key if len(spec.key()) > 1 else spec.key()[0]
                        self._problem(spec.plugin, f"{kind.label} {shown!r}: unknown {f} {value!r}"
                                                   f" (known: {choices})")
                        del items[key]
                        break

    # -- decisions ---------------------------------------------------------------------------
    def rag_rule(self, **kwargs: Any) -> str | None:
        """A partnership's own RAG for one figure from the plugins' ``rag_rule`` hooks (the
        first answer that is not ``None`` wins), else ``None``: use the core's rule.

        Each plugin is asked in turn, guarded: one whose rule raises (anything, even
        ``SystemExit``; only ``KeyboardInterrupt`` goes through) or answers anything but R,
        A, G, their words or a :class:`~dat.core.targets.RAG` (or ``None``) is recorded
        against it (``dat plugins`` lists it), earns a one-line warning for the command, and
        is passed over, so the next plugin's rule or the core's own rule decides. Each rule
        gets its own copies of the figure, indicator and target, so it cannot change what
        the scorecard shows."""
        import copy

        impls = self.pm.hook.rag_rule.get_hookimpls()
        for impl in reversed(impls):  # pluggy's order: the last registered is asked first
            others = [i.plugin for i in impls if i is not impl]
            try:
                call = self.pm.subset_hook_caller("rag_rule", remove_plugins=others)
                answer = call(**copy.deepcopy(kwargs))
                if answer is None:
                    continue
                letter = _rag_letter(answer)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: B036 - a plugin's SystemExit must not end dat
                self._decision_failed(impl.plugin_name, f"rag_rule raised {_describe(exc)}")
                continue
            if letter is not None:
                return letter
            self._decision_failed(impl.plugin_name, f"rag_rule answered {_shown(answer)}, "
                                                    "not R, A, G (Red, Amber, Green) or None")
        return None

    def probe_decisions(self, limit: int = 200, seconds: float = 2.0) -> None:
        """Ask every ``rag_rule`` about up to ``limit`` of the registered figures (each with
        its indicator and first target, shaped as a scorecard passes them), so that a rule
        that raises or answers nonsense is listed by ``dat plugins`` before a scorecard
        meets it (for at most ``seconds``). Failures are recorded as :meth:`rag_rule` records them."""
        if not self.pm.hook.rag_rule.get_hookimpls():
            return
        reg = self.registry
        targets: dict[tuple[str, str], dict[str, Any]] = {}
        for t in reg.targets.values():
            targets.setdefault((t.partnership, t.indicator), t.as_dict())
        deadline = time.perf_counter() + seconds  # a slow rule must not make `dat plugins` slow
        for n, obs in enumerate(reg.observations.values()):
            if n >= limit or time.perf_counter() > deadline:
                break
            ind = reg.indicators.get(obs.indicator)
            if ind is None:
                continue
            self.rag_rule(partnership=obs.partnership, indicator=ind.as_dict(),
                          target=targets.get((obs.partnership, obs.indicator)),
                          observation=obs.as_dict(), period=obs.period)
        self.take_warnings()  # `dat plugins` lists them; no warning lines as well

    def _decision_failed(self, plugin: str, message: str) -> None:
        """Record a failed decision once per plugin and hook: the first message is kept (a
        rule that fails on every figure is one problem and one warning line, not hundreds),
        and later ones are counted."""
        key = (plugin, message.split(" ", 1)[0])
        seen = self._decision_failures.get(key, 0)
        self._decision_failures[key] = seen + 1
        if self.strict:
            raise PluginError(f"plugin {plugin}: {message}")
        if seen:
            return
        info = self.plugins.get(plugin)
        if info is not None:
            info.problems.append(message)
        self.warn(f"plugin {plugin}: {message}; the core's rule was used")


def _validation_message(exc: Exception) -> str:
    """pluggy's several-line "declared in the hookimpl but can not be found in the hookspec"
    as one line naming the hook and the argument."""
    import re

    text = str(exc)
    hook = re.search(r"for hook '([^']+)'", text)
    args = re.search(r"Argument\(s\) \{([^}]*)\}", text)
    if hook and args:
        names = ", ".join(a.strip().strip("'\"") for a in args.group(1).split(","))
        return (f"hook {hook.group(1)} has argument(s) {names} that dat does not pass "
                f"(its arguments are in docs/plugins.md)")
    return "invalid hook implementation: " + " ".join(text.split())[:200]


def settings_file() -> Any:
    """The per-user settings file (``DAT_CONFIG_DIR`` or the user config folder): never the
    database, so one officer's choices do not change anyone else's."""
    from pathlib import Path

    folder = os.environ.get("DAT_CONFIG_DIR")
    if not folder:
        from platformdirs import user_config_dir

        folder = user_config_dir("dat", appauthor=False)
    return Path(folder) / "settings.json"


#: the largest settings file dat reads, in bytes: a larger one is ignored with a warning
MAX_SETTINGS_BYTES = 64 * 1024


def load_settings() -> tuple[dict[str, Any], str | None]:
    """The user's settings and, when the file cannot be used, what is wrong with it (the
    file is then ignored: every command warns, and ``dat plugins disable/enable`` refuse to
    overwrite it). No file is no settings and no problem. Only the first
    :data:`MAX_SETTINGS_BYTES` are read, by the standard library's ``json``."""
    from dat.core.errors import shorten

    path = settings_file()
    shown = shorten(path)
    try:
        raw = read_regular_file(path, MAX_SETTINGS_BYTES + 1)
        if raw is None:
            return {}, f"{shown} is not a regular file"
    except FileNotFoundError:
        return {}, None
    except NotADirectoryError:
        return {}, f"DAT_CONFIG_DIR {shorten(path.parent)} is not a folder"
    except OSError as exc:
        return {}, f"{shown} cannot be read ({exc.strerror or exc})"
    if len(raw) > MAX_SETTINGS_BYTES:
        return {}, f"{shown} is larger than {MAX_SETTINGS_BYTES // 1024} KiB"
    try:
        data = json.loads(raw.decode("utf-8-sig"))  # Windows Notepad writes a BOM
    except UnicodeDecodeError:
        return {}, f"{shown} is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return {}, f"{shown} is not valid JSON (line {exc.lineno})"
    except (ValueError, RecursionError):
        return {}, f"{shown} is not valid JSON (nested too deeply)"
    if not isinstance(data, dict):
        return {}, f"{shown} is not a JSON object ({{...}})"
    saved = data.get("disabled_plugins", [])
    if not isinstance(saved, list) or not all(isinstance(n, str) for n in saved):
        return {}, f"{shown}: disabled_plugins must be a list of plugin names"
    return data, None


def read_regular_file(path: Any, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``path``, or ``None`` when it is not a regular file. Never
    blocks: a FIFO is opened without waiting for a writer, then refused. ``OSError`` (a
    missing file included) is the caller's."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fh.read(limit)


def read_settings() -> dict[str, Any]:
    """The user's settings (``{}`` when the file is missing or cannot be used: see
    :func:`load_settings`)."""
    return load_settings()[0]


def disabled_plugins() -> set[str]:
    """``DAT_DISABLE_PLUGINS`` (comma-separated) and the plugins turned off with ``dat plugins
    disable``."""
    return _disabled_plugins(read_settings())


def _disabled_plugins(settings: dict[str, Any]) -> set[str]:
    names = {n.strip() for n in os.environ.get("DAT_DISABLE_PLUGINS", "").split(",") if n.strip()}
    saved = settings.get("disabled_plugins")
    if isinstance(saved, list):
        names |= {str(n) for n in saved}
    return names


def _health_file() -> Any:
    from dat.core.db import data_folder

    return data_folder() / "plugin-health.json"


def _health_key(host: PluginHost) -> str | None:
    from dat.core.db import plugin_sources

    try:
        return plugin_sources(host)
    except Exception:  # a plugin object that cannot be inspected: no cache
        return None


#: the largest plugin-health.json dat reads: a larger one is ignored (it is only a cache)
MAX_HEALTH_BYTES = 1024 * 1024


def _read_health(path: Any) -> Any:
    """The cached health, or ``None`` for anything dat cannot use (missing, not a regular
    file, too large, not JSON): a cache is never a reason to block, warn or fail."""
    try:
        raw = read_regular_file(path, MAX_HEALTH_BYTES + 1)
        if raw is None or len(raw) > MAX_HEALTH_BYTES:
            return None
        return json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def _is_regular(path: Any) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def save_health(host: PluginHost, names: dict[str, str]) -> None:
    """Remember what the last registry build found, for commands that do not build it."""
    key = _health_key(host)
    if key is None:
        return
    path = _health_file()
    data = {"sources": key, "plugins": names}
    try:
        if path.parent.is_dir():
            old = _read_health(path)
            if old != data and (not os.path.lexists(path) or _is_regular(path)):
                from dat.core.files import write_text

                write_text(path, json.dumps(data, sort_keys=True), force=True)
    except (OSError, ValueError, PluginError):
        pass  # a cache: never a reason for a command to fail
    except Exception:  # noqa: BLE001 - e.g. a refused write of a read-only folder
        pass


def load_health(host: PluginHost) -> dict[str, str]:
    key = _health_key(host)
    if key is None:
        return {}
    data = _read_health(_health_file())
    if not isinstance(data, dict) or data.get("sources") != key or not isinstance(data.get("plugins"), dict):
        return {}
    return {str(k): str(v) for k, v in data["plugins"].items()}


def _rag_letter(answer: Any) -> str | None:
    """``R``/``A``/``G`` for an answer that is a RAG, a letter or a word (any case, spaces
    ignored), else ``None``. Only real strings are read: an object whose ``str`` or ``strip``
    misbehaves is simply not a rating."""
    from dat.core.targets import RAG

    if isinstance(answer, RAG):
        return answer.value
    if type(answer) is not str:
        return None
    words = {"r": "R", "a": "A", "g": "G", "red": "R", "amber": "A", "green": "G"}
    return words.get(answer.strip().lower())


def _shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for a message: one line, at most ``limit`` characters, and never an
    error (a plugin's object may break ``repr``)."""
    try:
        text = repr(value)
    except BaseException:  # noqa: B036 - whatever the object does, a message comes out
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _describe(exc: BaseException, limit: int = 200) -> str:
    """An exception as ``Type: first line of its message``, short and never an error."""
    try:
        lines = str(exc).strip().splitlines()
    except BaseException:  # noqa: B036 - an exception whose __str__ raises
        lines = []
    first = lines[0] if lines else ""
    if len(first) > limit:
        first = first[:limit - 1] + "…"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


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
