"""``dat new-partnership NAME``: write an installable partnership plugin package."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import click

from dat.cli.common import fail
from dat.core.errors import printable, shorten


def slugify(name: str) -> str:
    """``"St Helens & Knowsley"`` -> ``"st_helens_knowsley"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:40].rstrip("_")


def _files(name: str, slug: str, region: str | None, dat_version: str) -> dict[str, str]:
    pkg = f"dat_{slug}"
    region_line = f'region = "{region}"\n' if region else '# region = "North West"\n'
    toml_name = name.replace("\\", "\\\\").replace('"', '\\"')
    py_name = toml_name  # the same escapes keep the module docstring valid Python
    return {
        "pyproject.toml": f'''\
[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "dat-{slug.replace("_", "-")}"
version = "0.1.0"
description = "dat plugin: {toml_name} Drug Action Team's indicators, targets, funding and reports"
requires-python = ">=3.11"
dependencies = ["dat>={dat_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# This line is what makes dat find the plugin once the package is installed.
[project.entry-points.dat]
{slug} = "{pkg}:plugin"

[tool.setuptools]
packages = ["{pkg}"]

[tool.setuptools.package-data]
{pkg} = ["data/*.toml", "templates/*.j2"]
''',
        f"{pkg}/__init__.py": f'''\
"""{py_name}: a dat partnership plugin. Its figures live in data/{slug}.toml; add hook
functions here only for what data files cannot say (a RAG rule of your own, a command)."""

from dat.core.api import DataPlugin

plugin = DataPlugin(__name__, "data/{slug}.toml")
''',
        f"{pkg}/data/{slug}.toml": f'''\
# {name}: the partnership's figures. Each [[section]] is one item handed to the matching
# hook (register_partnerships, register_indicators, ...); the fields are documented in
# docs/plugins.md of dat. Give every figure a `source` so readers can trace it.

[defaults]
partnership = "{slug}"
period = "2009/10"
source = "replace with the document and section each figure comes from"

[[partnerships]]
slug = "{slug}"
name = "{toml_name}"
{region_line}area_type = "partnership"
accountable_bodies = []

# An indicator of the partnership's own: codes are "<slug>.<name>". National indicators
# (NI40, NTA.RET12, ...) come with dat and need no declaring.
[[indicators]]
code = "{slug}.example_in_treatment"
name = "Example: adults in structured treatment"
unit = "count"          # count, percent, pct_change, rate, gbp, weeks, days, ratio, rag, text
polarity = "higher"     # higher, lower, none
framework = "local"

[[observations]]
indicator = "{slug}.example_in_treatment"
value = 100

[[targets]]
indicator = "{slug}.example_in_treatment"
target_kind = "local"   # national, local, stretch, compact
value = 110

[[allocations]]
stream = "PTB"          # national streams: PTB, DIP, YPSMPG, PCT, ACS, ABG, IDTS, LOCAL
year = "2009/10"
amount = "100000.00"    # exact: a string or an integer, never a float
banked_by = "the council"
used_for = "adult treatment"

[[actions]]
ref = "1"
theme = "Treatment"
action = "Example: open an evening clinic"
lead = "Commissioning manager"
due = "2010-03-31"
status = "in progress"  # not started, planned, in progress, complete, overdue, dropped

[[templates]]
name = "summary"
title = "Summary report"
path = "templates/summary.md.j2"
''',
        f"{pkg}/templates/summary.md.j2": '''\
# {{ partnership.name }}: summary{% if period %}, {{ period }}{% endif %}

## Scorecard

| Indicator | Value | Target | RAG |
|---|---|---|---|
{% for row in scorecard.rows %}
| {{ row.name }} | {{ row.value | num }} | {{ row.target | num }} | {{ row.rag | rag }} |
{% endfor %}

## Funding {{ funding.year or "" }}

{% for line in funding.lines %}
- {{ line.stream_name }}: {{ line.amount | money }}
{% endfor %}
- Total: {{ funding.total | money }}

## Action plan

{% for a in actions %}
- {{ a.ref }}. {{ a.action }} ({{ a.lead or "no lead" }}; {{ a.status }})
{% endfor %}
''',
        f"tests/test_{slug}.py": f'''\
"""The plugin's own check: every item valid, every template renders."""

from dat.core.api import check_plugin


def test_plugin_is_valid_and_templates_render(tmp_path):
    result = check_plugin("{slug}", tmp_path)
    assert result.ok, result.text()
    assert "{slug}/summary" in result.rendered
''',
        "README.md": f'''\
# dat-{slug.replace("_", "-")}

A [dat](https://example.invalid/dat) plugin for {name} Drug Action Team.

```sh
python3 -m pip install -e '.[test]'   # dat then lists it: dat plugins
python3 -m pytest                     # checks the data and renders the templates
dat status {slug}                     # its scorecard
dat report {slug} --template summary -o summary.md
```

Edit `{pkg}/data/{slug}.toml` to add the partnership's indicators, targets, figures, funding
and actions, and `{pkg}/templates/` for its reports.
''',
    }


def _refuse_registered_slug(slug: str) -> None:
    """Exit 2 when an installed plugin (loaded or not) already registers partnership ``slug``
    (as its own or as a reference): the new plugin's partnership would be refused or would
    silently take over another plugin's comparator."""
    from dat.core.plugins import PluginHost

    host = PluginHost()  # every installed plugin, disabled or left out of DAT_LOAD_PLUGINS too
    host.load_builtins()
    host.load_entry_points(every=True)
    spec = host.registry.partnerships.get(slug)
    if spec is not None:
        how = " as a comparator it names" if spec.reference else ""
        fail(f"slug {slug!r} is taken: plugin {spec.plugin} registers partnership {slug!r}{how} "
             "(see dat partnerships); give another with --slug", 2)


@click.command("new-partnership")
@click.argument("name")
@click.option("--slug", help="Machine name (default: from NAME, e.g. 'St Helens' -> st_helens).")
@click.option("--region", help="Region of England, written into the partnership.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the package folder.")
@click.option("--force", is_flag=True, help="Write into the folder even if it exists.")
def new_partnership_cmd(name: str, slug: str | None, region: str | None, directory: Path,
                        force: bool) -> None:
    """Write a new partnership plugin: an installable package that dat finds by its entry point.

    NAME is the partnership's display name. The package (dat-<slug>/) holds a pyproject.toml
    with the entry point, the hook module, data/<slug>.toml with one example of every kind of
    item, a report template and a test that checks the data and renders the template. It
    installs and shows in `dat plugins` with no edits.

    \b
    Examples:
      dat new-partnership "Sefton"
      dat new-partnership "St Helens & Knowsley" --slug st_helens --region "North West"
      cd dat-sefton && python3 -m pip install -e '.[test]' && python3 -m pytest && dat plugins
    """
    name = name.strip()
    if not name:
        fail("NAME must not be empty", 2)
    if any(unicodedata.category(c) == "Cc" for c in name):
        fail("NAME must not contain new lines, tabs or other control characters", 2)
    from dat.core.specs import SLUG_RE  # the rule every partnership slug is checked against

    slug = slug or slugify(name)
    if not SLUG_RE.match(slug):
        fail(f"slug {slug!r} is not valid: 2-40 characters, lower-case letters, digits and _, "
             f"starting with a letter (give one with --slug)", 2)
    from importlib.metadata import entry_points

    if slug in {ep.name for ep in entry_points(group="dat")}:
        fail(f"slug {slug!r} is taken: a dat plugin of that name is already installed "
             f"(see dat plugins); give another with --slug", 2)
    _refuse_registered_slug(slug)
    if region is not None and ('"' in region or "\\" in region
                               or any(unicodedata.category(c) == "Cc" for c in region)):
        fail("--region must not contain quotes, backslashes, new lines or other control "
             "characters", 2)
    if not directory.is_dir():  # the package goes into a folder that exists: none is created
        fail(f"--dir {printable(directory)} is not an existing folder; create it first or check the path", 2)
    target = directory / f"dat-{slug.replace('_', '-')}"
    from dat.cli.main import _version
    from dat.core.files import atomic_folder, flush_stdout

    version = _version()
    files = _files(name, slug, region, version if version[0].isdigit() else "0.1")
    # written beside the target and moved into place at the end, like every output of dat:
    # never through a symlink, each file atomically, nothing half written on a failure
    with atomic_folder(target, force=force) as write:
        for rel, text in files.items():
            write(rel, text)
        # a full or closed stdout stops it before the package appears
        flush_stdout("".join(f"{target / rel}\n" for rel in files))
    click.echo(f"dat: created plugin {slug!r} in {shorten(target)}. Next:\n"
               f"  cd {printable(target)} && python3 -m pip install -e '.[test]' && python3 -m pytest\n"
               f"  dat plugins    # lists {slug}", err=True)
