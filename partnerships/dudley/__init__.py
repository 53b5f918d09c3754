"""Dudley DAT: its Q1 2007/08 quarterly performance report as data (data/dudley.toml)."""

from dat.core.api import DataPlugin

plugin = DataPlugin(__name__, "data/dudley.toml")
