"""Keras layers on pydl (see pydl.keras.layers.core for the layout inside models)."""
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .core import Input, InputLayer, Layer  # noqa: F401

__all__ = list(_core_all)
