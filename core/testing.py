"""Checks a plugin author runs on their own plugin, from their own tests.

::

    from dat.core.api import check_plugin   # the public name of this module's function

    def test_my_area_plugin(tmp_path):
        result = check_plugin("my_area", tmp_path)   # the entry-point name in group ``dat``
        assert result.ok, result.text()

:func:`check_plugin` loads the plugin beside the built-in ones (the national frameworks and
renderers) and the other installed plugins, exactly as ``dat`` does, and reports:

- a plugin that fails to import, misspells a hook or registers nothing;
- every item the host rejects: a missing field, a bad code or slug, a period that does not
  parse, a target whose value does not fit its kind, an unknown partnership, indicator or
  funding stream, a duplicate that differs from the first registration;
- every template that fails to render for its partnership (each of the plugin's partnerships
  for a generic template), on a throwaway SQLite database filled from the plugins.

It never touches the user's own database.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dat.core.plugins import CONTRIBUTION_HOOKS, ENTRY_POINT_GROUP, PluginHost


@dataclass
class PluginCheck:
    """What :func:`check_plugin` found."""

    name: str
    loaded: bool = False
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)  # "partnership/template" that rendered

    @property
    def ok(self) -> bool:
        return self.loaded and not self.problems

    def text(self) -> str:
        head = f"plugin {self.name}: " + ("ok" if self.ok else f"{len(self.problems)} problem(s)")
        given = ", ".join(f"{k.removeprefix('register_')} {v}" for k, v in sorted(self.counts.items()) if v)
        lines = [head, f"  contributed: {given or 'nothing'}"]
        lines += [f"  rendered: {r}" for r in self.rendered]
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)


def _load(host: PluginHost, plugin: str | Any, name: str | None) -> str:
    if not isinstance(plugin, str):
        name = name or getattr(plugin, "__name__", "plugin").rsplit(".", 1)[-1]
        host.add(name, plugin, origin="direct")
        return name
    from importlib.metadata import entry_points

    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == plugin]
    if matches:
        host.load_module(matches[0].value, plugin, "entry point")
        return plugin
    if ":" in plugin or "." in plugin:  # "package.module[:attribute]"
        name = name or plugin.split(":")[0].rsplit(".", 1)[-1]
        host.load_module(plugin, name, "direct")
        return name
    known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    raise LookupError(f"no entry point {plugin!r} in group {ENTRY_POINT_GROUP!r} "
                      f"(installed: {', '.join(known) or 'none'}); is the package installed?")


def check_plugin(plugin: str | Any, workdir: str | Path | None = None, *, name: str | None = None,
                 render: bool = True) -> PluginCheck:
    """Load ``plugin`` (an entry-point name, ``"module:attribute"``, or a plugin object) with
    the built-ins, validate everything it contributes and render its templates."""
    host = PluginHost(strict=False)
    host.load_builtins()
    host.load_entry_points()  # the installed plugins, as dat loads them
    if isinstance(plugin, str) and plugin in host.plugins and host.plugins[plugin].origin == "entry point":
        name = plugin
    else:
        name = _load(host, plugin, name)
    info = host.plugins[name]
    result = PluginCheck(name=name)
    if info.error:
        result.problems.append(info.error)
        return result
    result.loaded = True
    registry = host.registry
    for other in host.plugins.values():
        if other.name == name:
            continue
        # the built-ins must be clean too, or dat is broken; another installed plugin's
        # problems count only where they name this plugin (a conflict it causes)
        found = ([other.error] if other.error else []) + other.problems
        if other.origin != "builtin":
            found = [p for p in found if name in p]
        result.problems.extend(f"({other.origin} {other.name}) {p}" for p in found)
    result.problems.extend(info.problems)
    result.counts = dict(info.counts)
    hooks = {c.name for c in host.pm.get_hookcallers(host.pm.get_plugin(name)) or []}
    if not any(result.counts.get(h) for h in CONTRIBUTION_HOOKS) and "register_commands" not in hooks:
        result.problems.append("the plugin contributes nothing through any hook")
    if render and not result.problems:
        _render_templates(host, registry, name, result, workdir)
    return result


def _render_templates(host: PluginHost, registry: Any, name: str, result: PluginCheck,
                      workdir: str | Path | None) -> None:
    from dat.core.db import dispose_engines
    from dat.core.reports import ReportError, render_report
    from dat.core.services import Store

    own_parts = sorted(slug for slug, p in registry.partnerships.items() if p.plugin == name)
    templates = [(owner, tname) for (owner, tname), spec in registry.templates.items()
                 if spec.plugin == name]
    if not templates:
        return
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'check.sqlite3'}", host=host)
        try:
            for owner, tname in sorted(templates, key=lambda t: (t[0] or "", t[1])):
                for slug in ([owner] if owner else own_parts):
                    try:
                        text = render_report(store, slug, tname)
                    except (ReportError, LookupError, ValueError) as exc:
                        result.problems.append(f"template {tname} for {slug}: {exc}")
                        continue
                    if not text.strip():
                        result.problems.append(f"template {tname} for {slug}: renders empty")
                    else:
                        result.rendered.append(f"{slug}/{tname}")
        finally:
            dispose_engines()
