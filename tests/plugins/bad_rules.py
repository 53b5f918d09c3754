"""Fixture plugins with broken decision hooks: one whose rag_rule raises, one that answers
something that is not a RAG rating. Both must leave dat working with the core's rule."""
from dat.core.api import hookimpl


class Raising:
    __name__ = "bad_rules.raising"

    @hookimpl
    def rag_rule(self, partnership, indicator, target, observation, period):
        raise ZeroDivisionError("the rule divides by nothing")


class Purple:
    __name__ = "bad_rules.purple"

    @hookimpl
    def rag_rule(self, partnership, indicator, target, observation, period):
        return "purple"


raising = Raising()
purple = Purple()
