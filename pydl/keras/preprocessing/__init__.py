"""keras.preprocessing (Keras 2 paths still used by published programs)."""
from . import sequence  # noqa: F401
