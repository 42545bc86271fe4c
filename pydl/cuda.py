"""pydl.cuda: CUDA queries, as ``torch.cuda``.

Every pydl tensor lives in CPU memory and every kernel a program reaches runs on the CPU; a
PYDL_CUDA=ON build links the CUDA runtime (and can see GPUs, ``runtime_device_count()``) but
places no tensor on them. So ``is_available()`` is False and ``device_count()`` 0 in every
build: a program choosing ``"cuda" if torch.cuda.is_available() else "cpu"`` runs on the CPU
instead of failing at its first ``.to(device)``.
"""
from . import _C

__all__ = ["is_available", "is_built", "device_count", "runtime_device_count", "manual_seed", "manual_seed_all",
           "synchronize", "empty_cache"]


def is_built():
    """True when this build was compiled with PYDL_CUDA=ON."""
    return bool(_C.build_config["cuda"])


def runtime_device_count():
    """Number of GPUs the CUDA runtime sees (0 without a GPU, a driver or a CUDA build)."""
    return _C.cuda_device_count()


def is_available():
    """False: no pydl tensor can be placed on a CUDA device (see the module docstring)."""
    return False


def device_count():
    """Number of CUDA devices tensors can be placed on: 0 (see the module docstring)."""
    return 0


def manual_seed(seed):
    """Seeds the CUDA generators: there are none to seed (all randomness is pydl.manual_seed's)."""
    int(seed)


def manual_seed_all(seed):
    """Seeds the CUDA generators of all devices: there are none to seed."""
    int(seed)


def synchronize(device=None):
    """Waits for queued CUDA work: there is none, kernels run synchronously on the CPU."""
    return None


def empty_cache():
    """Returns the allocator's cached blocks to the system (the CPU allocator's, as pydl.empty_cache)."""
    _C.empty_cache()
