"""North East Lincolnshire: its seed document's figures as data (data/ne_lincs.toml)."""

from dat.core.api import DataPlugin

plugin = DataPlugin(__name__, "data/ne_lincs.toml")
