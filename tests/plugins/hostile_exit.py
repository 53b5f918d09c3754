"""Fixture plugin: a rag_rule that raises SystemExit(0), as an entry point."""
from hostile_rules import plugins

plugin = plugins["system_exit_0"]
