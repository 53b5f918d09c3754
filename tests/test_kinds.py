"""One table of contribution kinds (dat.core.kinds.KINDS): the hook specs, the registry,
DataPlugin, the reference checks and the sync all follow it, so adding a kind is one entry."""

from __future__ import annotations

import inspect

from dat.core import hookspecs, kinds
from dat.core.datafile import KINDS as SECTIONS_TO_SPEC
from dat.core.datafile import DataPlugin
from dat.core.plugins import _ATTR_FOR_HOOK, CONTRIBUTION_HOOKS, PluginHost, Registry


def test_every_kind_has_a_hook_spec_with_its_documentation():
    specs = {n for n in dir(hookspecs) if n.startswith("register_") and n != "register_commands"}
    assert specs == {k.hook for k in kinds.KINDS}
    for k in kinds.KINDS:
        fn = getattr(hookspecs, k.hook)
        assert list(inspect.signature(fn).parameters) == ["register"]
        assert fn.__doc__ == k.doc and k.spec.__name__ in k.doc  # the doc names its spec class
    assert set(hookspecs.HOOK_NAMES) == specs | {"register_commands", "rag_rule"}


def test_host_registry_and_datafile_derive_from_the_table():
    assert CONTRIBUTION_HOOKS == {k.hook: k.spec for k in kinds.KINDS}
    assert _ATTR_FOR_HOOK == {k.hook: k.registry for k in kinds.KINDS}
    reg = Registry()
    for k in kinds.KINDS:
        assert reg.of(k) == {} and getattr(reg, k.registry) is reg.of(k)
    assert Registry.DATA_KINDS == tuple(k.registry for k in kinds.KINDS if k.synced)
    assert SECTIONS_TO_SPEC == {k.section: k.spec.kind for k in kinds.KINDS if k.section}
    for k in kinds.KINDS:
        assert hasattr(DataPlugin, k.hook) == (k.section is not None)


def test_a_data_plugin_implements_one_hook_per_section():
    host = PluginHost()
    host.load_builtins()
    host.add("d", DataPlugin("dat.partnerships.dudley", "data/dudley.toml"))
    hooks = {c.name for c in host.pm.get_hookcallers(host.pm.get_plugin("d"))}
    assert hooks == {k.hook for k in kinds.KINDS if k.section}
    assert host.registry.observations and not host.plugins["d"].problems


def test_every_synced_kind_has_a_table_and_a_sync_step():
    import dat.core.sync as sync
    from dat.core import models

    source = inspect.getsource(sync)
    for k in kinds.SYNCED:
        assert f"registry.{k.registry}" in source, f"core/sync.py does not sync {k.registry}"
    tables = {t.name for t in models.SQLModel.metadata.sorted_tables}
    assert len(tables) >= len(kinds.SYNCED)


def test_references_follow_the_table():
    for k in kinds.KINDS:
        fields = set(k.spec.__dataclass_fields__)
        for f in k.refs:
            assert f in fields and f in kinds.REFERENCE_POOLS, (k.hook, f)
        assert set(k.optional_refs) <= set(k.refs)


def test_an_item_with_a_field_of_the_wrong_type_is_one_problem_not_the_whole_hook():
    from dat.core.api import hookimpl

    class Plugin:
        __name__ = "wrong_types"

        @hookimpl
        def register_partnerships(self, register):
            register(slug=["not", "a", "string"], name="Bad")
            register(slug="wt_ok", name="Still here")

        @hookimpl
        def register_targets(self, register):
            register(partnership="wt_ok", indicator="NTA.RET12", period="2009/10", value=float("inf"))

    host = PluginHost()
    host.load_builtins()
    host.add("wrong_types", Plugin())
    reg = host.registry
    assert "wt_ok" in reg.partnerships  # the good item in the same hook call survives
    problems = host.plugins["wrong_types"].problems
    assert any("invalid item" in p for p in problems), problems
    assert any("not a finite number" in p for p in problems), problems
    assert not any(t.partnership == "wt_ok" for t in reg.targets.values())
