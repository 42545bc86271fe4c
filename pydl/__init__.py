"""pydl: a deep-learning framework with a compiled C++ core and PyTorch-shaped APIs."""
import os as _os
import sysconfig as _sysconfig

__version__ = "0.1.0"

from . import _cpu

# The CPU check must run before _C is loaded (its core may use the build's -march from the
# first instruction; the GEMM kernels are picked per ISA at load time), so the build writes
# that -march into a plain Python file beside it.
try:
    from ._build_info import ARCH as _ARCH
except ImportError:  # pragma: no cover - a build without the file
    _ARCH = None
if _ARCH:
    _cpu.check_cpu(_ARCH)
# How long an OpenMP worker spins at the end of a parallel region before it sleeps. libgomp's
# default (about 3 ms of spinning) takes the cores from a descheduled teammate when another process
# shares the machine; never spinning (OMP_WAIT_POLICY=PASSIVE) pays a sleeping thread's wake-up at
# every region, which made 2-thread matmul 128 run at 40 GFLOP/s against 170 on one thread. A short
# spin (10000 rounds, about 0.1 ms) keeps the team awake across back-to-back kernels, and the team
# size follows the load (core/threads.cpp) so that a busy neighbour does not meet spinning workers.
# libgomp reads the variable once, when _C loads it; OMP_WAIT_POLICY or GOMP_SPINCOUNT in the
# environment take precedence. It is removed again afterwards so that other libraries (PyTorch's
# own libgomp) keep their default.
_set_spin = "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ
if _set_spin:
    _os.environ["GOMP_SPINCOUNT"] = "10000"
try:
    from . import _C
except ImportError as _e:  # pragma: no cover - a failed build or a missing wheel
    raise ImportError(f"pydl's compiled core could not be loaded: {_e}") from _e
finally:
    if _set_spin:
        del _os.environ["GOMP_SPINCOUNT"]

from ._C import Tensor, dtype, from_numpy, from_dlpack, set_num_threads, get_num_threads, manual_seed, initial_seed
from ._tensor import *  # noqa: F401,F403  (factories and functional forms)
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from . import autograd
from ._indexing import *  # noqa: F401,F403
from ._tensor_ops import *  # noqa: F401,F403,E402  (issue 13: the everyday torch.* functions)
from . import nn, optim, data, utils, cuda  # noqa: E402
from .io import save, load  # noqa: E402
from . import onnx  # noqa: E402  (the onnx package itself is imported only at export time)
from . import distributed  # noqa: E402,F401  (mpi4py is imported only by init_process_group)

float32 = dtype.float32
float64 = dtype.float64
int64 = dtype.int64
bool = dtype.bool  # noqa: A001  (pydl.bool, like torch.bool)
float = float32  # noqa: A001
double = float64
long = int64

from ._tensor_methods import _install_tensor_methods  # noqa: E402
from ._tensor_ops import _install_torch_functions  # noqa: E402

_install_tensor_methods()  # the one registry of Python-level Tensor methods, with their pydl.<name>_ functions
_install_torch_functions()  # the other torch.<name>_ and <view op>_copy functions


def show_config():
    """Prints the build: version, compiler, instruction set, threads, Eigen, CUDA."""
    cfg = _C.build_config
    lines = [
        f"pydl {__version__}",
        f"  compiler:        {cfg['compiler']}",
        f"  instruction set: {cfg['isa']} (CPU: {cfg['isa_detected']}; PYDL_ISA=avx512|avx2|baseline lowers it)",
        f"  kernels at {cfg['isa']}: gemm {cfg['isa_kernels']} (the rest of the core: -march={cfg['arch']})",
        f"  GEMM (float32):  pydl packed, {cfg['gemm']} kernels",
        f"  OpenMP:          {cfg['openmp']} ({get_num_threads()} threads)",
        f"  Eigen:           {cfg['eigen']}",
        f"  CUDA:            "
        + (f"on ({_C.cuda_device_count()} device(s) visible)" if cfg['cuda'] else "off (CPU-only build)"),
        f"  Python:          {_sysconfig.get_python_version()}",
    ]
    print("\n".join(lines))
    return "\n".join(lines)

# ---- PyTorch programs' surface (issue 12): device selection, .pt files, shapes, dtypes --------
from . import accelerator, backends, linalg, serialization, special, xpu  # noqa: E402

_C._set_size_type(Size)  # t.shape and t.size() are pydl.Size
dtype.__repr__ = dtype.__str__  # pydl.float32, as torch.float32 prints

from ._errors import install_op_errors as _install_op_errors  # noqa: E402

_install_op_errors()  # last: every public Python function raises "[op] ..." errors
