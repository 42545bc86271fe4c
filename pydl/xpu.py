"""pydl.xpu: Intel GPU queries, as ``torch.xpu``. pydl has no XPU backend: none is available."""


def is_available():
    """False: pydl has no XPU backend."""
    return False


def device_count():
    """0: pydl has no XPU backend."""
    return 0
