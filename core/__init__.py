"""dat core: the domain and the engine. Imports nothing from cli/, plugins/ or partnerships/.

Plugins import :data:`hookimpl` from here::

    from dat.core import hookimpl
"""

import pluggy

hookimpl = pluggy.HookimplMarker("dat")

__all__ = ["hookimpl"]
