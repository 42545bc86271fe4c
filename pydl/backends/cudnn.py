"""pydl.backends.cudnn: cuDNN flags, as ``torch.backends.cudnn``.

pydl does not use cuDNN, so ``is_available()`` is False and ``version()`` None. The flags
(``enabled``, ``benchmark``, ``deterministic``, ``allow_tf32``) are kept so that programs that
set them run unchanged: pydl's CPU kernels are deterministic for a given thread count whatever
they hold.
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available():
    """False: pydl does not use cuDNN."""
    return False


def version():
    """None: no cuDNN is linked."""
    return None


class flags:
    """Context manager setting the flags for a block and restoring them afterwards."""

    def __init__(self, enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
        self._new = dict(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                         deterministic=deterministic, allow_tf32=allow_tf32)

    def __enter__(self):
        g = globals()
        self._old = {k: g[k] for k in self._new}
        g.update(self._new)
        return self

    def __exit__(self, *exc):
        globals().update(self._old)
        return False
