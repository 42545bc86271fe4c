"""pydl.nn: modules, layers and functional ops."""
from . import functional  # noqa: F401
