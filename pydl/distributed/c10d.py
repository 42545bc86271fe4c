"""Process groups and collectives on MPI, with torch.distributed's names and signatures.

Ranks given to a collective (src, dst) are global ranks, as in PyTorch; a group is an MPI
communicator over a subset of them (new_group). Tensor collectives hand the tensor's own memory
to MPI (buffer protocol, mpi4py's upper-case methods): they need contiguous tensors and change
them in place. async_op=True starts the non-blocking MPI call and returns a Work; wait() on it.
"""
import enum
import importlib.util
import os
import sys
import time
import traceback

import numpy as np

from .. import _C
from .._C import Tensor

_MPI = None  # the mpi4py.MPI module, imported on first use (import pydl works without mpi4py)


def _mpi(op="init_process_group"):
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(f"[{op}] the 'mpi' backend needs mpi4py and an MPI library, which are not "
                               f"installed: pip install \"pydl[distributed]\" (mpi4py and mpich) ({e})") from e
        _MPI = MPI
    return _MPI


def is_available():
    """True where the MPI backend can run (mpi4py is installed)."""
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def is_gloo_available():
    return False


def is_nccl_available():
    return False


class Backend(str):
    """Backend names; only MPI is built into pydl."""

    MPI = "mpi"
    UNDEFINED = "undefined"

    def __new__(cls, name):
        return str.__new__(cls, str(name).lower())


class ReduceOp(enum.Enum):
    """Reduction for all_reduce, reduce and reduce_scatter (AVG is SUM then divide, floating dtypes)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class ProcessGroup:
    """A set of ranks with its own MPI communicator (the default one spans every rank)."""

    def __init__(self, comm, ranks):
        self.comm = comm
        self.ranks = list(ranks)  # global ranks, in group-rank order

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def name(self):
        return Backend.MPI

    def __repr__(self):
        return f"ProcessGroup(backend='mpi', rank={self.rank()}, size={self.size()})"


class GroupMember:
    """GroupMember.WORLD is the default group once initialised; NON_GROUP_MEMBER is what new_group
    returns on ranks left out of the group (collectives on it do nothing there, as in PyTorch)."""

    WORLD = None
    NON_GROUP_MEMBER = object()


class Work:
    """Handle of a collective started with async_op=True."""

    def __init__(self, requests, on_done=None, result=None):
        self._requests = list(requests)
        self._on_done = on_done
        self._result = result
        self._completed = False

    def _finish(self):
        if not self._completed:
            self._completed = True
            if self._on_done is not None:
                self._on_done()

    def wait(self, timeout=None):
        """Blocks until the collective has finished (and its output is in place); returns True.

        Args:
            timeout: seconds (or a datetime.timedelta); RuntimeError if the collective has not
                finished by then (it is still in flight: the other ranks may be late or gone).
        """
        if self._completed:
            return True
        if timeout is None:
            _MPI.Request.Waitall(self._requests)
        else:
            limit = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
            deadline = time.monotonic() + limit
            while not _MPI.Request.Testall(self._requests):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"[Work.wait] the collective did not finish within {limit} s")
                time.sleep(1e-4)
        self._finish()
        return True

    def is_completed(self):
        """True once the collective has finished (tests without blocking; drives MPI's progress)."""
        if not self._completed and _MPI.Request.Testall(self._requests):
            self._finish()
        return self._completed

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def result(self):
        """The output tensors (waits first)."""
        self.wait()
        return self._result if self._result is not None else []


# ---- the default group --------------------------------------------------------------------

_state = {"world": None, "excepthook": None}


def is_initialized():
    """True between init_process_group and destroy_process_group."""
    return _state["world"] is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Joins the job that MPI's launcher started (``mpiexec -n N python script.py``).

    Rank and size come from MPI; world_size and rank, if given, must agree with them.
    init_method and timeout are accepted and unused: mpiexec does the rendezvous.
    Also: each rank runs cores / (ranks on this machine) OpenMP threads unless OMP_NUM_THREADS
    is set, and an uncaught exception on any rank aborts the whole job (MPI_Abort) with that
    rank's traceback instead of leaving the other ranks waiting forever.

    Args:
        backend: "mpi" (the default and the only backend).
        world_size: expected number of ranks, or -1.
        rank: expected rank of this process, or -1.
    """
    if is_initialized():
        raise ValueError("[init_process_group] trying to initialize the default process group twice!")
    name = Backend(backend if backend is not None else Backend.MPI)
    if name != Backend.MPI:
        raise ValueError(f"[init_process_group] backend {backend!r} is not available: pydl runs distributed "
                         f"training on MPI, use backend='mpi' and launch with mpiexec")
    if store is not None:
        raise ValueError("[init_process_group] store is not used by the 'mpi' backend (mpiexec does the rendezvous)")
    if pg_options is not None:
        raise ValueError("[init_process_group] pg_options is not supported by the 'mpi' backend")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()  # our own communicator: the user's MPI traffic never matches ours
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, None) and int(world_size) != size:
        comm.Free()
        raise ValueError(f"[init_process_group] world_size={world_size} but mpiexec started {size} ranks")
    if rank not in (-1, None) and int(rank) != me:
        comm.Free()
        raise ValueError(f"[init_process_group] rank={rank} but MPI gave this process rank {me}")
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    local_rank, local_size = local.Get_rank(), local.Get_size()
    local.Free()
    if "OMP_NUM_THREADS" not in os.environ:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        _C.set_num_threads(max(1, cores // local_size))
    for key, value in (("RANK", me), ("WORLD_SIZE", size), ("LOCAL_RANK", local_rank),
                       ("LOCAL_WORLD_SIZE", local_size)):
        os.environ.setdefault(key, str(value))
    world = ProcessGroup(comm, range(size))
    _state["world"] = world
    GroupMember.WORLD = world
    if size > 1 and _state["excepthook"] is None:
        _state["excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def _abort_on_uncaught(exc_type, exc, tb):
    """An exception on one rank ends the job: the others would wait in their next collective forever."""
    world = _state["world"]
    rank = world.rank() if world is not None else "?"
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write("".join(f"[rank {rank}] {line}\n" for line in text.rstrip("\n").split("\n")))
    sys.stderr.write(f"[rank {rank}] aborting the MPI job (uncaught {exc_type.__name__})\n")
    sys.stderr.flush()
    sys.stdout.flush()
    _MPI.COMM_WORLD.Abort(1)


def destroy_process_group(group=None):
    """Frees `group`'s communicator, or every group (and the default one) when group is None."""
    if group is None or group is GroupMember.WORLD:
        world = _state["world"]
        if world is None:
            raise ValueError("[destroy_process_group] Default process group has not been initialized")
        for g in list(_groups):
            _free(g)
        _free(world)
        _state["world"] = None
        GroupMember.WORLD = None
        if _state["excepthook"] is not None:
            sys.excepthook = _state["excepthook"]
            _state["excepthook"] = None
    elif group is not GroupMember.NON_GROUP_MEMBER:
        _free(group)


_groups = []


def _free(g):
    if g in _groups:
        _groups.remove(g)
    if g.comm is not None and not _MPI.Is_finalized():
        g.comm.Free()
    g.comm = None


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None):
    """A group over `ranks` (global ranks; all of them if None). Every rank must call it.

    Returns:
        The ProcessGroup on member ranks, GroupMember.NON_GROUP_MEMBER on the others.
    """
    world = _world("new_group")
    if backend is not None and Backend(backend) != Backend.MPI:
        raise ValueError(f"[new_group] backend {backend!r} is not available; pydl groups use 'mpi'")
    ranks = sorted(int(r) for r in (range(world.size()) if ranks is None else ranks))
    if len(set(ranks)) != len(ranks) or any(not 0 <= r < world.size() for r in ranks):
        raise ValueError(f"[new_group] ranks must be distinct global ranks in [0, {world.size()}), got {ranks}")
    mpi_group = world.comm.Get_group().Incl(ranks)
    comm = world.comm.Create(mpi_group)  # collective over the default group
    mpi_group.Free()
    if comm == _MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    g = ProcessGroup(comm, ranks)
    _groups.append(g)
    return g


def _world(op):
    world = _state["world"]
    if world is None:
        raise ValueError(f"[{op}] Default process group has not been initialized, please make sure to call "
                         f"init_process_group.")
    return world


def _group(group, op):
    """The group to run on, or None on ranks outside it (the collective is then a no-op)."""
    world = _world(op)
    if group is None or group is GroupMember.WORLD:
        return world
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"[{op}] group must be a ProcessGroup from new_group, got {type(group).__name__}")
    if group.comm is None:
        raise ValueError(f"[{op}] the group was destroyed")
    return group


def get_rank(group=None):
    """This process's rank in `group` (the default group if None); -1 outside the group."""
    g = _group(group, "get_rank")
    return -1 if g is None else g.rank()


def get_world_size(group=None):
    """Number of ranks in `group`; -1 outside the group."""
    g = _group(group, "get_world_size")
    return -1 if g is None else g.size()


def get_backend(group=None):
    """'mpi'."""
    _group(group, "get_backend")
    return Backend(Backend.MPI)


def get_global_rank(group, group_rank):
    """The global rank of `group`'s rank `group_rank`."""
    g = _group(group, "get_global_rank")
    if g is None or not 0 <= group_rank < g.size():
        raise ValueError(f"[get_global_rank] group rank {group_rank} is not part of the group")
    return g.ranks[group_rank]


def get_group_rank(group, global_rank):
    """The rank in `group` of global rank `global_rank`."""
    g = _group(group, "get_group_rank")
    if g is None or global_rank not in g.ranks:
        raise ValueError(f"[get_group_rank] global rank {global_rank} is not part of the group")
    return g.ranks.index(global_rank)


def _root(g, rank, group_rank, op, what):
    """A collective's root as a rank of g's communicator (from a global rank or a group rank)."""
    if group_rank is not None:
        r = int(group_rank)
    else:
        if int(rank) not in g.ranks:
            raise ValueError(f"[{op}] {what}={rank} is not a rank of the group {g.ranks}")
        r = g.ranks.index(int(rank))
    if not 0 <= r < g.size():
        raise ValueError(f"[{op}] group {what} {r} is out of range for a group of {g.size()} ranks")
    return r


# ---- buffers ------------------------------------------------------------------------------

def _mpi_type(dtype):
    MPI = _MPI
    return {_C.dtype.float32: MPI.FLOAT, _C.dtype.float64: MPI.DOUBLE, _C.dtype.int64: MPI.INT64_T,
            _C.dtype.bool: MPI.C_BOOL}[dtype]


def _check_tensor(t, op, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"[{op}] {name} must be a pydl Tensor, got {type(t).__name__}")
    if not t.is_contiguous():
        raise ValueError(f"[{op}] {name} must be contiguous (got strides {t.stride()} for shape {tuple(t.shape)}); "
                         f"call .contiguous() first")
    return t


def _buf(t, op, name="tensor"):
    """[tensor, MPI datatype]: MPI reads and writes the tensor's own memory."""
    _check_tensor(t, op, name)
    return [t, _mpi_type(t.dtype)]


def _written(*tensors):
    """Marks tensors that MPI writes as changed in place (autograd then refuses stale saved copies)."""
    for t in tensors:
        _C._bump_version(t)


def _np(t):
    """A NumPy view of t's memory (any strides), also for tensors that require grad."""
    return np.asarray(memoryview(t))


def _same_layout(tensors, like, op, name):
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"[{op}] {name}[{i}] must be a pydl Tensor, got {type(t).__name__}")
        if tuple(t.shape) != tuple(like.shape) or t.dtype != like.dtype:
            raise ValueError(f"[{op}] {name}[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}, expected shape "
                             f"{tuple(like.shape)} and dtype {like.dtype} (the shape of the input tensor)")


def _check_list_len(lst, g, op, name):
    if lst is None or len(lst) != g.size():
        raise ValueError(f"[{op}] {name} must hold one tensor per rank ({g.size()}), got "
                         f"{'None' if lst is None else len(lst)}")


def _op(op, dtype, opname):
    """The MPI reduction for `op` on `dtype` (bool: SUM/MAX are logical or, PRODUCT/MIN logical and)."""
    MPI = _MPI
    if not isinstance(op, ReduceOp):
        raise TypeError(f"[{opname}] op must be a dist.ReduceOp, got {op!r}")
    if op is ReduceOp.AVG and not dtype.is_floating_point:
        raise ValueError(f"[{opname}] ReduceOp.AVG needs a floating dtype, got {dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.is_floating_point:
        raise ValueError(f"[{opname}] {op.name} needs an integer or bool dtype, got {dtype}")
    if dtype == _C.dtype.bool:
        return {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR, ReduceOp.PRODUCT: MPI.LAND,
                ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND, ReduceOp.BXOR: MPI.LXOR}[op]
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


def _averager(op, t, n):
    """What ReduceOp.AVG does after the sum."""
    if op is not ReduceOp.AVG:
        return None
    return lambda: _C.div_(t, float(n))


def _end(async_op, start, run, on_done=None, result=None):
    """Runs a collective: non-blocking (a Work) when async_op, else blocking and then on_done."""
    if async_op:
        req = start()
        return Work(req if isinstance(req, list) else [req], on_done, result)
    run()
    if on_done is not None:
        on_done()
    return None


# ---- tensor collectives -------------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `tensor` over all ranks, in place: every rank gets the result."""
    g = _group(group, "all_reduce")
    if g is None:
        return None
    buf, mop = _buf(tensor, "all_reduce"), _op(op, tensor.dtype, "all_reduce")
    MPI = _MPI
    _written(tensor)
    return _end(async_op, lambda: g.comm.Iallreduce(MPI.IN_PLACE, buf, mop),
                lambda: g.comm.Allreduce(MPI.IN_PLACE, buf, mop), _averager(op, tensor, g.size()), [tensor])


def broadcast(tensor, src=0, group=None, async_op=False, group_src=None):
    """Copies `tensor` of rank `src` into `tensor` on every rank."""
    g = _group(group, "broadcast")
    if g is None:
        return None
    root, buf = _root(g, src, group_src, "broadcast", "src"), _buf(tensor, "broadcast")
    if g.rank() != root:
        _written(tensor)
    return _end(async_op, lambda: g.comm.Ibcast(buf, root), lambda: g.comm.Bcast(buf, root), None, [tensor])


def reduce(tensor, dst=0, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduces `tensor` over all ranks into `tensor` on rank `dst` (the others' are unchanged)."""
    g = _group(group, "reduce")
    if g is None:
        return None
    root, buf, mop = _root(g, dst, group_dst, "reduce", "dst"), _buf(tensor, "reduce"), _op(op, tensor.dtype, "reduce")
    MPI = _MPI
    if g.rank() == root:
        send, recv, done = MPI.IN_PLACE, buf, _averager(op, tensor, g.size())
        _written(tensor)
    else:
        send, recv, done = buf, None, None
    return _end(async_op, lambda: g.comm.Ireduce(send, recv, mop, root), lambda: g.comm.Reduce(send, recv, mop, root),
                done, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] = rank i's `tensor`, on every rank."""
    g = _group(group, "all_gather")
    if g is None:
        return None
    buf = _buf(tensor, "all_gather")
    _check_list_len(tensor_list, g, "all_gather", "tensor_list")
    _same_layout(tensor_list, tensor, "all_gather", "tensor_list")
    recv = np.empty((g.size(),) + tuple(tensor.shape), dtype=_np(tensor).dtype)
    _written(*tensor_list)

    def scatter_out():
        for i, t in enumerate(tensor_list):
            np.copyto(_np(t), recv[i])

    rbuf = [recv, buf[1]]
    return _end(async_op, lambda: g.comm.Iallgather(buf, rbuf), lambda: g.comm.Allgather(buf, rbuf), scatter_out,
                tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenates every rank's input_tensor into output_tensor (world_size x input numel), zero copy."""
    g = _group(group, "all_gather_into_tensor")
    if g is None:
        return None
    ibuf, obuf = _buf(input_tensor, "all_gather_into_tensor", "input_tensor"), \
        _buf(output_tensor, "all_gather_into_tensor", "output_tensor")
    if output_tensor.numel() != g.size() * input_tensor.numel() or output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"[all_gather_into_tensor] output_tensor must hold world_size ({g.size()}) x input_tensor: "
                         f"got shapes {tuple(output_tensor.shape)} and {tuple(input_tensor.shape)}, dtypes "
                         f"{output_tensor.dtype} and {input_tensor.dtype}")
    _written(output_tensor)
    return _end(async_op, lambda: g.comm.Iallgather(ibuf, obuf), lambda: g.comm.Allgather(ibuf, obuf), None,
                [output_tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output = reduction over ranks of input_list[this rank]."""
    g = _group(group, "reduce_scatter")
    if g is None:
        return None
    obuf, mop = _buf(output, "reduce_scatter", "output"), _op(op, output.dtype, "reduce_scatter")
    _check_list_len(input_list, g, "reduce_scatter", "input_list")
    _same_layout(input_list, output, "reduce_scatter", "input_list")
    send = np.stack([_np(t) for t in input_list])
    _written(output)
    sbuf = [send, obuf[1]]
    return _end(async_op, lambda: g.comm.Ireduce_scatter_block(sbuf, obuf, mop),
                lambda: g.comm.Reduce_scatter_block(sbuf, obuf, mop), _averager(op, output, g.size()), [output])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):  # noqa: A002
    """Reduces `input` (world_size x output numel) over ranks; this rank gets its slice, zero copy."""
    g = _group(group, "reduce_scatter_tensor")
    if g is None:
        return None
    obuf, ibuf = _buf(output, "reduce_scatter_tensor", "output"), _buf(input, "reduce_scatter_tensor", "input")
    mop = _op(op, output.dtype, "reduce_scatter_tensor")
    if input.numel() != g.size() * output.numel() or output.dtype != input.dtype:
        raise ValueError(f"[reduce_scatter_tensor] input must hold world_size ({g.size()}) x output: got shapes "
                         f"{tuple(input.shape)} and {tuple(output.shape)}")
    _written(output)
    return _end(async_op, lambda: g.comm.Ireduce_scatter_block(ibuf, obuf, mop),
                lambda: g.comm.Reduce_scatter_block(ibuf, obuf, mop), _averager(op, output, g.size()), [output])


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False, group_dst=None):
    """gather_list[i] = rank i's `tensor`, on rank `dst` only (others pass gather_list=None)."""
    g = _group(group, "gather")
    if g is None:
        return None
    root, buf = _root(g, dst, group_dst, "gather", "dst"), _buf(tensor, "gather")
    done, rbuf = None, None
    if g.rank() == root:
        _check_list_len(gather_list, g, "gather", "gather_list")
        _same_layout(gather_list, tensor, "gather", "gather_list")
        recv = np.empty((g.size(),) + tuple(tensor.shape), dtype=_np(tensor).dtype)
        rbuf = [recv, buf[1]]
        _written(*gather_list)

        def done():
            for i, t in enumerate(gather_list):
                np.copyto(_np(t), recv[i])
    elif gather_list:
        raise ValueError(f"[gather] gather_list must be None or empty on non-destination ranks (rank {g.rank()})")
    return _end(async_op, lambda: g.comm.Igather(buf, rbuf, root), lambda: g.comm.Gather(buf, rbuf, root), done,
                gather_list)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False, group_src=None):
    """tensor = rank `src`'s scatter_list[this rank] (others pass scatter_list=None)."""
    g = _group(group, "scatter")
    if g is None:
        return None
    root, buf = _root(g, src, group_src, "scatter", "src"), _buf(tensor, "scatter")
    sbuf = None
    if g.rank() == root:
        _check_list_len(scatter_list, g, "scatter", "scatter_list")
        _same_layout(scatter_list, tensor, "scatter", "scatter_list")
        sbuf = [np.stack([_np(t) for t in scatter_list]), buf[1]]
    elif scatter_list:
        raise ValueError(f"[scatter] scatter_list must be None or empty on non-source ranks (rank {g.rank()})")
    _written(tensor)
    return _end(async_op, lambda: g.comm.Iscatter(sbuf, buf, root), lambda: g.comm.Scatter(sbuf, buf, root), None,
                [tensor])


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,  # noqa: A002
                      async_op=False):
    """Splits `input` along dim 0 into one part per rank, sends part i to rank i, and concatenates
    what arrives into `output` (equal parts unless the split sizes are given)."""
    g = _group(group, "all_to_all_single")
    if g is None:
        return None
    ibuf, obuf = _buf(input, "all_to_all_single", "input"), _buf(output, "all_to_all_single", "output")
    _written(output)
    if output_split_sizes is None and input_split_sizes is None:
        if input.numel() % g.size() or output.numel() != input.numel():
            raise ValueError(f"[all_to_all_single] input of shape {tuple(input.shape)} must split evenly into "
                             f"{g.size()} parts and output must have as many elements")
        return _end(async_op, lambda: g.comm.Ialltoall(ibuf, obuf), lambda: g.comm.Alltoall(ibuf, obuf), None,
                    [output])

    def counts(t, splits, name):
        row = t.numel() // t.shape[0] if t.dim() and t.shape[0] else 1
        splits = [t.shape[0] // g.size()] * g.size() if splits is None else [int(s) for s in splits]
        if len(splits) != g.size() or sum(splits) != (t.shape[0] if t.dim() else 1):
            raise ValueError(f"[all_to_all_single] {name}_split_sizes {splits} must have {g.size()} entries summing "
                             f"to {name}.shape[0]")
        c = [s * row for s in splits]
        return c, [sum(c[:i]) for i in range(len(c))]

    sc, sd = counts(input, input_split_sizes, "input")
    rc, rd = counts(output, output_split_sizes, "output")
    s, r = [input, (sc, sd), ibuf[1]], [output, (rc, rd), obuf[1]]
    return _end(async_op, lambda: g.comm.Ialltoallv(s, r), lambda: g.comm.Alltoallv(s, r), None, [output])


def barrier(group=None, async_op=False, device_ids=None):
    """Waits until every rank of the group has reached the barrier."""
    g = _group(group, "barrier")
    if g is None:
        return None
    return _end(async_op, lambda: g.comm.Ibarrier(), lambda: g.comm.Barrier())


def send(tensor, dst, group=None, tag=0, group_dst=None):
    """Sends `tensor` to global rank `dst` (blocking)."""
    g = _group(group, "send")
    if g is not None:
        g.comm.Send(_buf(tensor, "send"), _root(g, dst, group_dst, "send", "dst"), tag)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receives into `tensor` from global rank `src` (any rank if None); returns the sender's rank."""
    g = _group(group, "recv")
    if g is None:
        return -1
    MPI = _MPI
    source = MPI.ANY_SOURCE if src is None and group_src is None else _root(g, src, group_src, "recv", "src")
    status = MPI.Status()
    g.comm.Recv(_buf(tensor, "recv"), source, tag, status)
    _written(tensor)
    return g.ranks[status.Get_source()]


def isend(tensor, dst, group=None, tag=0, group_dst=None):
    """Non-blocking send; returns a Work."""
    g = _group(group, "isend")
    if g is None:
        return None
    return Work([g.comm.Isend(_buf(tensor, "isend"), _root(g, dst, group_dst, "isend", "dst"), tag)])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Non-blocking receive; returns a Work."""
    g = _group(group, "irecv")
    if g is None:
        return None
    source = _MPI.ANY_SOURCE if src is None and group_src is None else _root(g, src, group_src, "irecv", "src")
    _written(tensor)
    return Work([g.comm.Irecv(_buf(tensor, "irecv"), source, tag)])


# ---- Python objects (pickled, mpi4py's lower-case methods) --------------------------------

def all_gather_object(object_list, obj, group=None):
    """object_list[i] = rank i's obj, on every rank (object_list has world_size entries)."""
    g = _group(group, "all_gather_object")
    if g is None:
        return
    if object_list is None or len(object_list) != g.size():
        raise ValueError(f"[all_gather_object] object_list must have world_size ({g.size()}) entries")
    object_list[:] = g.comm.allgather(obj)


def broadcast_object_list(object_list, src=0, group=None, device=None, group_src=None):
    """Replaces object_list's entries on every rank by rank `src`'s (picklable objects)."""
    g = _group(group, "broadcast_object_list")
    if g is None:
        return
    root = _root(g, src, group_src, "broadcast_object_list", "src")
    got = g.comm.bcast(list(object_list) if g.rank() == root else None, root)
    if len(got) != len(object_list):
        raise ValueError(f"[broadcast_object_list] rank {g.ranks[root]} sent {len(got)} objects but this rank's "
                         f"object_list has {len(object_list)} entries")
    object_list[:] = got


def gather_object(obj, object_gather_list=None, dst=0, group=None, group_dst=None):
    """object_gather_list[i] = rank i's obj, on rank `dst` only."""
    g = _group(group, "gather_object")
    if g is None:
        return
    root = _root(g, dst, group_dst, "gather_object", "dst")
    got = g.comm.gather(obj, root)
    if g.rank() == root:
        if object_gather_list is None or len(object_gather_list) != g.size():
            raise ValueError(f"[gather_object] object_gather_list must have world_size ({g.size()}) entries on dst")
        object_gather_list[:] = got


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=0, group=None,
                        group_src=None):
    """scatter_object_output_list[0] = rank `src`'s scatter_object_input_list[this rank]."""
    g = _group(group, "scatter_object_list")
    if g is None:
        return
    root = _root(g, src, group_src, "scatter_object_list", "src")
    if g.rank() == root and (scatter_object_input_list is None or len(scatter_object_input_list) != g.size()):
        raise ValueError(f"[scatter_object_list] scatter_object_input_list must have world_size ({g.size()}) "
                         f"entries on src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("[scatter_object_list] scatter_object_output_list must be a list with at least one element")
    scatter_object_output_list[0] = g.comm.scatter(list(scatter_object_input_list) if g.rank() == root else None,
                                                   root)
