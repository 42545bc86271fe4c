"""Keras layers on pydl (see pydl.keras.layers.core for the layout inside models)."""
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .core import Input, InputLayer, Layer  # noqa: F401

from .rnn import *  # noqa: F401,F403
from .rnn import __all__ as _rnn_all
from .conv import *  # noqa: F401,F403
from .conv import __all__ as _conv_all
from .merge import *  # noqa: F401,F403
from .merge import __all__ as _merge_all
from .attention import *  # noqa: F401,F403
from .attention import __all__ as _attn_all
from .preprocessing import RandomFlip, RandomRotation, RandomTranslation, RandomZoom  # noqa: F401

__all__ = list(_core_all) + list(_rnn_all) + list(_conv_all) + list(_merge_all) + list(_attn_all) + [
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom"]
