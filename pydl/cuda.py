"""pydl.cuda: CUDA devices, as ``torch.cuda``.

A PYDL_CUDA=ON build places tensors on a GPU (``x.cuda()``, ``x.to("cuda")``, ``device="cuda"``)
and runs its CUDA kernels there; each device has one stream, so the work of a program is ordered
and ``synchronize()`` waits for it. Without a GPU (or in the default, CPU-only build),
``is_available()`` is False, ``device_count()`` is 0 and ``device="cuda"`` raises RuntimeError
saying that no CUDA device is available, so a program choosing
``"cuda" if torch.cuda.is_available() else "cpu"`` runs on the CPU.
"""
import os
import sys

from . import _C

__all__ = ["is_available", "is_built", "device_count", "runtime_device_count", "current_device", "set_device",
           "manual_seed", "manual_seed_all", "synchronize", "memory_allocated", "memory_reserved",
           "max_memory_allocated", "empty_cache", "cublas_library", "self_test"]


def _cublas_dirs():
    """Directories of the nvidia-cublas wheel (site-packages/nvidia/cublas/lib), searched before the system's."""
    for p in sys.path:
        d = os.path.join(p or ".", "nvidia", "cublas", "lib")
        if os.path.isdir(d):
            yield d


if _C.build_config["cuda"]:
    for _d in _cublas_dirs():
        _C.add_cublas_search_dir(_d)


def is_built():
    """True when this build was compiled with PYDL_CUDA=ON."""
    return bool(_C.build_config["cuda"])


def runtime_device_count():
    """Number of GPUs the CUDA runtime sees (0 without a GPU, a driver or a CUDA build)."""
    return _C.cuda_device_count()


def is_available():
    """True when tensors can be placed on a CUDA device: a CUDA build on a machine with a GPU."""
    return _C.cuda_device_count() > 0


def device_count():
    """Number of CUDA devices tensors can be placed on (0 without a GPU or a CUDA build)."""
    return _C.cuda_device_count()


_current = [0]


def current_device():
    """Index of the current CUDA device; RuntimeError without one."""
    _C.check_device("cuda", _current[0], "cuda.current_device")
    return _current[0]


def set_device(device):
    """Makes `device` (an index or a cuda device) the one ``"cuda"`` without an index means here."""
    from ._tensor import device as _device
    idx = device if isinstance(device, int) else (_device(device).index or 0)
    _C.check_device("cuda", idx, "cuda.set_device")
    _current[0] = idx


def manual_seed(seed):
    """Seeds the generator of the CUDA kernels (dropout on the GPU); pydl.manual_seed seeds it too."""
    _C.cuda_manual_seed_all(int(seed))


def manual_seed_all(seed):
    """Seeds the CUDA generator of every device (one generator serves them all)."""
    _C.cuda_manual_seed_all(int(seed))


def synchronize(device=None):
    """Waits until the queued work of `device` (default: every device) has finished; returns at once without a GPU."""
    from ._tensor import device as _device
    idx = -1 if device is None else device if isinstance(device, int) else (_device(device).index or 0)
    _C.cuda_synchronize(idx)


def _index(device):
    from ._tensor import device as _device
    return _current[0] if device is None else device if isinstance(device, int) else (_device(device).index or 0)


def memory_allocated(device=None):
    """Bytes held by tensors on a CUDA device (0 without one)."""
    return _C.cuda_memory_allocated(_index(device))


def memory_reserved(device=None):
    """Bytes the caching allocator holds on a CUDA device: in use plus cached (0 without one)."""
    return _C.cuda_memory_reserved(_index(device))


def max_memory_allocated(device=None):
    """The caching allocator's footprint, an upper bound of the peak of memory_allocated (0 without a GPU)."""
    return _C.cuda_memory_reserved(_index(device))


def empty_cache():
    """Returns the caching allocators' unused blocks (the CUDA one's to the driver, the CPU one's to the system)."""
    _C.cuda_empty_cache()
    _C.empty_cache()


def cublas_library():
    """Path of the cuBLAS library the CUDA matmul uses ('' when none is found or in a CPU-only build)."""
    return _C.cublas_library()


def self_test():
    """Runs a trivial kernel on the GPU and reads it back: True when it worked, False without a GPU."""
    return bool(_C.cuda_self_test())
