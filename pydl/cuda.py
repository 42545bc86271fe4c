"""pydl.cuda: device queries. Kernels run on the CPU; a PYDL_CUDA=ON build links the CUDA
runtime and reports the GPUs it sees, and still runs everything on the CPU without one."""
from . import _C


def is_built():
    """True when this build was compiled with PYDL_CUDA=ON."""
    return bool(_C.build_config["cuda"])


def device_count():
    """Number of visible CUDA devices (0 without a GPU, a driver or a CUDA build)."""
    return _C.cuda_device_count()


def is_available():
    """True when a CUDA device is usable by this build."""
    return device_count() > 0
