"""Bromley: its seed document's figures as data (data/bromley.toml)."""

from dat.core.api import DataPlugin

plugin = DataPlugin(__name__, "data/bromley.toml")
