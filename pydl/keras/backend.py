"""The bits of keras.backend that programs call (pydl runs channels-last, float32)."""
from .layers import core as _core

__all__ = ["backend", "clear_session", "image_data_format", "floatx", "epsilon", "set_image_data_format"]


def backend():
    return "pydl"


def clear_session(free_memory=True):
    """Resets the automatic layer names (dense, dense_1, ...), as Keras's clear_session."""
    _core._counters.clear()


def image_data_format():
    return "channels_last"


def set_image_data_format(data_format):
    if data_format != "channels_last":
        raise ValueError(f"[keras.backend] only 'channels_last' is supported, got {data_format!r}")


def floatx():
    return "float32"


def epsilon():
    return 1e-7
