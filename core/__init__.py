"""dat core: the domain and the engine. Imports nothing from cli/, plugins/ or partnerships/.

:data:`hookimpl` is defined here. Plugins import it, like everything else they need, from the
public API::

    from dat.core.api import hookimpl

The older ``from dat.core import hookimpl`` keeps working.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("dat")

__all__ = ["hookimpl"]
