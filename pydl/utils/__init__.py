"""pydl.utils: pydl.utils.data is pydl.data (as torch.utils.data)."""
from . import data  # noqa: F401
