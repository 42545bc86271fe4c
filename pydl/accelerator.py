"""pydl.accelerator: which accelerator (if any) this build can run on, as ``torch.accelerator``.

A PYDL_CUDA=ON build with a visible GPU reports "cuda" (tensors can be placed there); every
other build reports no accelerator, so programs that pick
``torch.accelerator.current_accelerator()`` when ``torch.accelerator.is_available()`` go on
on the CPU.
"""
from . import cuda as _cuda

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "set_device_index",
           "synchronize"]


def is_available():
    """True when an accelerator this build can use is present."""
    return _cuda.is_available()


def device_count():
    """Number of accelerator devices this build can use (0 without one)."""
    return _cuda.device_count()


def current_accelerator(check_available=False):
    """The accelerator as a ``pydl.device`` ("cuda"), or None when there is none.

    Args:
        check_available: accepted for PyTorch compatibility; None is returned either way when
            no accelerator is present.
    """
    from ._tensor import device
    return device("cuda") if is_available() else None


def current_device_index():
    """Index of the current accelerator device; RuntimeError without one (as PyTorch)."""
    if not is_available():
        raise RuntimeError("[accelerator.current_device_index] no accelerator is available in this build")
    return _cuda.current_device()


def set_device_index(device):
    """Selects the accelerator device by index (or device)."""
    from ._tensor import device as _device
    idx = device.index if isinstance(device, _device) else device
    if not is_available() or not 0 <= (idx or 0) < device_count():
        raise RuntimeError(f"[accelerator.set_device_index] accelerator device {device} is not available")
    _cuda.set_device(idx or 0)


def synchronize(device=None):
    """Waits for queued accelerator work (returns at once without an accelerator)."""
    _cuda.synchronize(device)
