"""Fixture plugin: a small dataset with known answers for dat compare and dat funding."""
from dat.core import hookimpl


@hookimpl
def register_partnerships(register):
    register(slug="england", name="England", area_type="nation")
    register(slug="alpha", name="Alpha", region="North", comparator_group="G1")
    register(slug="beta", name="Beta", region="North", comparator_group="G1")
    register(slug="gamma", name="Gamma", region="South", comparator_group="G1")
    register(slug="delta", name="Delta", region="South", comparator_group="G2")
    register(slug="alpha_east", name="Alpha East", parent="alpha", area_type="local authority")
    register(slug="alpha_west", name="Alpha West", parent="alpha", area_type="local authority")


@hookimpl
def register_indicators(register):
    register(code="FIX.RET", name="Fixture retention", unit="percent", polarity="higher",
             framework="NTA")


@hookimpl
def register_observations(register):
    obs = [("england", "2009/10", 70, None, None),
           ("alpha", "2009/10", 81, 81, 100), ("alpha", "2008/09", 75, 75, 100),
           ("beta", "2009/10", 50, 50, 100), ("gamma", "2009/10", 70, 70, 100),
           ("delta", "2008/09", 60, 60, 100),
           ("alpha_east", "2009/10", 90, 45, 50), ("alpha_west", "2009/10", 72, 36, 50)]
    for slug, period, value, num, den in obs:
        register(partnership=slug, indicator="FIX.RET", period=period, value=value,
                 numerator=num, denominator=den)
    register(partnership="alpha", indicator="NTA.EFFECTIVE", period="2009/10", value=400)
    register(partnership="alpha_east", indicator="NTA.EFFECTIVE", period="2009/10", value=300)
    register(partnership="alpha_west", indicator="NTA.EFFECTIVE", period="2009/10", value=100)


@hookimpl
def register_targets(register):
    register(partnership="alpha", indicator="FIX.RET", period="2009/10", value=85)


@hookimpl
def register_allocations(register):
    register(partnership="alpha", stream="PTB", year="2009/10", amount="1000000.00", banked_by="PCT")
    register(partnership="alpha", stream="DIP", year="2009/10", amount="200000", banked_by="Council")
    register(partnership="alpha", stream="LOCAL", year="2009/10", line="management", amount="60000",
             management_admin=True)
    register(partnership="alpha", stream="PTB", year="2008/09", amount="1100000")
    register(partnership="beta", stream="PTB", year="2009/10", amount="500000.01")
