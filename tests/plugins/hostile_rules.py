"""Fixture plugins whose rag_rule misbehaves in ways a careless or hostile author might:
each must end as one warning and the core's rule, never a crash, an exit 0 with no output,
or a changed scorecard."""
from dat.core.api import hookimpl


class _Rule:
    def __init__(self, name, fn):
        self.__name__ = f"hostile_rules.{name}"
        self._fn = fn

    @hookimpl
    def rag_rule(self, partnership, indicator, target, observation, period):
        return self._fn(partnership=partnership, indicator=indicator, target=target,
                        observation=observation, period=period)


class _BadStr:
    def __str__(self):
        raise RuntimeError("str boom")

    __repr__ = __str__


class _StrSub(str):
    def strip(self, *a):
        raise RuntimeError("strip boom")


class _BadExc(Exception):
    def __str__(self):
        raise RuntimeError("exception str boom")


def _raise(exc):
    raise exc


def _mutate(*, partnership, indicator, target, observation, period):
    observation["value"] = -999999
    if target:
        target["value"] = None
    indicator.clear()


RULES = {
    "bad_str": lambda **k: _BadStr(),
    "str_subclass": lambda **k: _StrSub("G"),
    "bad_exception": lambda **k: _raise(_BadExc()),
    "system_exit_0": lambda **k: _raise(SystemExit(0)),
    "system_exit_msg": lambda **k: _raise(SystemExit("plugin says bye")),
    "generator_exit": lambda **k: _raise(GeneratorExit()),
    "per_code": lambda indicator, **k: _raise(KeyError(indicator["code"])),
    "long_multiline": lambda **k: _raise(ValueError("first line\n" + "x" * 5000)),
    "an_object": lambda **k: object(),
    "a_generator": lambda **k: (x for x in "RAG"),
    "nan": lambda **k: float("nan"),
    "mutate": _mutate,
}

plugins = {name: _Rule(name, fn) for name, fn in RULES.items()}
