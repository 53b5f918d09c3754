"""Reports: templates rendered by the core from a context it builds.

A template is a Jinja2 file a plugin registers (``register_templates``). The core builds
the context — the partnership, its scorecard for the period, its funding for the year, its
action plan, every figure and target it has — and renders. Installed templates render with
a normal environment (autoescape on for ``.html`` templates); a template file given by a
user renders in Jinja2's sandbox with autoescape for HTML. A template error names the
template, the line and the cause.

Context (what a template can use):

``partnership``  dict from :func:`services.get_partnership`
``period``       canonical period string; ``scorecard`` from :func:`services.scorecard`
``funding``      :func:`services.funding` for ``year`` (the period's financial year by default)
``actions``      list from :func:`services.actions`
``figures``      ``{code: {period: row}}`` of every current figure (value, rag, commentary…)
``indicators``   ``{code: indicator dict}``
``targets``      ``{code: [target dict, …]}``
``generated``    today's date (ISO)
``sub_areas``    list of ``{partnership, depth, figures, indicators, funding}`` for every area
                 below the partnership (councils, then their localities), depth 1 first level
``peers``        partnership dicts of the other members of its comparator group

Filters: ``money`` (£1,234), ``num`` (1,234 / 0.6), ``pct`` (57%), ``rag`` (``R`` → ``Red``),
``signed_pct`` (+11.6%).
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dat.core import services
from dat.core.errors import DataError, DatError
from dat.core.formatting import money as _money
from dat.core.formatting import rag_word as _rag
from dat.core.periods import PeriodError
from dat.core.services import PartnershipInfo, PartnershipRow, Store, UnknownName

if TYPE_CHECKING:
    from dat.core.plugins import Registry
    from dat.core.specs import RendererSpec, TemplateSpec


class ReportError(DataError, RuntimeError):
    """A template that cannot be rendered: the message names the template, line and cause."""




def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.6g}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{_num(value)}%"


def _signed_pct(value: Any, places: int = 1) -> str:
    return "–" if value is None else f"{value:+.{places}f}%"




FILTERS = {"money": _money, "num": _num, "pct": _pct, "rag": _rag, "signed_pct": _signed_pct}


def _registry(store: Store) -> Registry:
    assert store.host is not None  # Store.__post_init__ always sets the plugin host
    return store.host.registry


def list_templates(store: Store, partnership: str | None = None) -> list[dict[str, Any]]:
    """Templates a partnership can use: its own and the generic ones."""
    reg = _registry(store)
    out = []
    for (owner, name), spec in sorted(reg.templates.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if partnership is None or owner in (None, partnership):
            out.append({"name": name, "title": spec.title, "partnership": owner,
                        "description": spec.description, "plugin": spec.plugin,
                        "path": f"{spec.package}/{spec.path}"})
    return out


def find_template(store: Store, partnership: str, name: str) -> TemplateSpec:
    reg = _registry(store)
    spec = reg.templates.get((partnership, name)) or reg.templates.get((None, name))
    if spec is None:
        raise UnknownName("template", name, (t["name"] for t in list_templates(store, partnership)))
    return spec


def build_context(store: Store, partnership: str, period: str | None = None,
                  year: str | None = None) -> dict[str, Any]:
    part = services.get_partnership(store, partnership)
    card = services.scorecard(store, partnership, period)
    if year is None and card["period"]:
        from dat.core.periods import parse_period

        year = str(parse_period(card["period"]).fy)
    fund = services.funding(store, partnership, year)
    if not fund["lines"] and year is not None:
        fund = services.funding(store, partnership, None)
    everything = services.figures(store, partnership)
    every_part = services.list_partnerships(store)
    return {
        "partnership": part, "period": card["period"], "scorecard": card, "funding": fund,
        "actions": services.actions(store, partnership)["actions"],
        "figures": everything["figures"], "indicators": everything["indicators"],
        "targets": everything["targets"], "generated": date.today().isoformat(),
        "sub_areas": _sub_areas(store, part, every_part, year),
        "peers": [p for p in every_part if part["comparator_group"] and p["slug"] != partnership
                  and p["comparator_group"] == part["comparator_group"]],
    }


def _sub_areas(store: Store, part: PartnershipInfo, every_part: list[PartnershipRow],
               year: str | None) -> list[dict[str, Any]]:
    """Each sub-area below the partnership (children, then theirs), with its figures and its
    funding for the report's year."""
    children: dict[str | None, list[PartnershipRow]] = {}
    for p in every_part:
        children.setdefault(p["parent"], []).append(p)
    out: list[dict[str, Any]] = []

    def walk(slug: str, depth: int) -> None:
        for child in children.get(slug, []):
            figs = services.figures(store, child["slug"])
            try:
                fund = services.funding(store, child["slug"], year)
            except PeriodError:
                fund = services.funding(store, child["slug"], None)
            out.append({"partnership": child, "depth": depth, "figures": figs["figures"],
                        "indicators": figs["indicators"], "funding": fund})
            walk(child["slug"], depth + 1)

    walk(part["slug"], 1)
    return out


#: the largest string, list or number a user's template may build with * or ** (the sandbox
#: blocks unsafe attributes, not `{{ 'a' * 10**10 }}`, which would exhaust memory)
SANDBOX_MAX_SIZE = 1_000_000


def _limited_binop(op: str, left: Any, right: Any) -> Any:
    from jinja2.exceptions import SecurityError

    if op == "**":
        if isinstance(right, (int, float)) and abs(right) > 100:
            raise SecurityError(f"exponent {right} is too large for a template (limit 100)")
        result = left ** right
    else:
        size = (len(left) * right if isinstance(left, (str, list, tuple)) and isinstance(right, int)
                else len(right) * left if isinstance(right, (str, list, tuple)) and isinstance(left, int)
                else 0)
        if size > SANDBOX_MAX_SIZE:
            raise SecurityError(f"a template may not build a value of {size:,} items "
                                f"(limit {SANDBOX_MAX_SIZE:,})")
        result = left * right
    if isinstance(result, int) and result.bit_length() > 4096:
        raise SecurityError("a number too large for a template")
    return result


def _environment(sandboxed: bool, autoescape: bool, loader: Any):
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedSandbox(SandboxedEnvironment):
        """Jinja2's sandbox, plus limits on * and ** so a template cannot exhaust memory."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            return _limited_binop(operator, left, right)

    cls = LimitedSandbox if sandboxed else jinja2.Environment
    env = cls(loader=loader, autoescape=autoescape, undefined=jinja2.StrictUndefined,
              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    return env


def render_source(source: str, context: dict[str, Any], *, name: str, html: bool,
                  sandboxed: bool) -> str:
    import jinja2

    env = _environment(sandboxed, html, jinja2.DictLoader({name: source}))
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"template {name}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise ReportError(f"template {name}, line {_error_line(exc, name)}: "
                          f"{type(exc).__name__}: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
        raise ReportError(f"template {name}, line {_error_line(exc, name)}: "
                          f"{type(exc).__name__}: {exc}") from None
    except RecursionError:  # a macro that calls itself without end
        raise ReportError(f"template {name}: recursion too deep (a macro or include that "
                          "calls itself without end)") from None


def _error_line(exc: BaseException, name: str) -> str:
    tb = exc.__traceback__
    line = "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in (name, "<template>"):
            line = str(tb.tb_lineno)
        tb = tb.tb_next
    return line


def render_report(store: Store, partnership: str, template: str | None = None, *,
                  period: str | None = None, year: str | None = None,
                  template_file: str | Path | None = None) -> str:
    """Render a registered template (``template``) or a user's file (``template_file``,
    sandboxed) for a partnership."""
    if template_file is not None:
        path = Path(template_file)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportError(f"cannot read template {path}: {exc}") from None
        context = build_context(store, partnership, period, year)
        return render_source(source, context, name=str(path), html=_is_html(path.name),
                             sandboxed=True)
    spec = find_template(store, partnership, template or "scorecard")
    try:
        source = resources.files(spec.package).joinpath(spec.path).read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError) as exc:
        raise ReportError(f"template {spec.package}/{spec.path} cannot be read: {exc}") from None
    context = build_context(store, partnership, period, year)
    return render_source(source, context, name=f"{spec.package}/{spec.path}",
                         html=_is_html(spec.path), sandboxed=False)


def write_report(store: Store, partnership: str, path: str | Path, template: str | None = None, *,
                 period: str | None = None, year: str | None = None,
                 template_file: str | Path | None = None, force: bool = False) -> dict[str, Any]:
    """Render a report and write it to ``path`` with the renderer registered for its suffix
    (``.md``, ``.html``, ``.docx``, ``.xlsx`` built in; plugins may add more). The file is
    written through :mod:`dat.core.files`: never through a symlink, an existing file only
    with ``force``, atomically (the renderer writes a temporary file in the same folder)."""
    from dat.core.files import atomic_path, check_output, write_text

    path = Path(path)
    check_output(path, force=force)
    renderer = find_renderer(store, path.suffix)
    if template_file is not None:
        tpath = Path(template_file)
        try:
            source = tpath.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportError(f"cannot read template {tpath}: {exc}") from None
        name, sandboxed, title = str(tpath), True, tpath.name
    else:
        spec = find_template(store, partnership, template or "scorecard")
        try:
            source = resources.files(spec.package).joinpath(spec.path).read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError) as exc:
            raise ReportError(f"template {spec.package}/{spec.path} cannot be read: {exc}") from None
        name, sandboxed, title = f"{spec.package}/{spec.path}", False, spec.title
    context = build_context(store, partnership, period, year)
    if _is_html(name):  # an HTML template renders with autoescape and is written as it is
        if path.suffix.lower() not in (".html", ".htm"):
            raise ReportError(f"template {name} is HTML: write it to a .html file")
        html = render_source(source, context, name=name, html=True, sandboxed=sandboxed)
        write_text(path, html, force=force)
        return {"path": str(path), "renderer": "html-template", "title": title}
    markdown = render_source(source, context, name=name, html=False, sandboxed=sandboxed)
    doc_title = f"{context['partnership']['name']}: {title}" + (f", {context['period']}" if context["period"] else "")
    try:
        with atomic_path(path, force=force) as tmp:
            renderer.render(markdown=markdown, context=context, path=tmp, title=doc_title)
    except DatError:
        raise
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # a renderer is plugin code: its failure is its plugin's
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise ReportError(f"the {renderer.name} renderer (plugin {renderer.plugin}) failed writing {path}: "
                          f"{type(exc).__name__}: {first}") from None
    return {"path": str(path), "renderer": renderer.name, "title": doc_title}


def find_renderer(store: Store, suffix: str) -> RendererSpec:
    suffix = suffix.lower()
    for spec in _registry(store).renderers.values():
        if suffix in spec.suffixes:
            return spec
    known = sorted({s for spec in _registry(store).renderers.values() for s in spec.suffixes})
    raise UnknownName("output format", suffix or "(no suffix)", known)


def _is_html(name: str) -> bool:
    return name.endswith((".html", ".html.j2", ".htm", ".htm.j2"))
