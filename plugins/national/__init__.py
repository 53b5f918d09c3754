"""Built-in national frameworks: the NTA treatment measures, DIP KPIs, the young people's
(Annex H) measures, the National Indicator Set, the PSAs and the national funding streams.
Pure data, in data/*.toml."""

from dat.core.api import DataPlugin

plugin = DataPlugin(
    __name__,
    "data/nta.toml",
    "data/nta_waiting.toml",
    "data/young_people.toml",
    "data/ni.toml",
    "data/psa.toml",
    "data/funding.toml",
)
