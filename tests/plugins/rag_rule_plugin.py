"""Fixture plugin: a partnership's own RAG rule (firstresult) and a CLI command."""
from dat.core import hookimpl


@hookimpl
def rag_rule(partnership, indicator, target, observation, period):
    if partnership == "dudley" and indicator["code"] == "NTA.RET12":
        return "A" if observation["value"] >= 70 else None
    return None


@hookimpl
def register_commands(cli):
    import click

    @cli.command("fixture-hello")
    def hello():
        """Say hello from a fixture plugin."""
        click.echo("hello from a plugin")
