"""DistributedDataParallel: one model replica per rank, gradients averaged by bucketed allreduce.

How a step goes (PyTorch's design, on MPI):
- construction: every rank checks that all ranks hold the same parameter shapes in the same
  order (one all_gather_object, so a mismatch raises on every rank instead of hanging), then
  rank 0's parameters and buffers are broadcast;
- forward: rank 0's buffers are broadcast (broadcast_buffers=True), the module runs;
- backward: parameters are grouped into buckets (~bucket_cap_mb, in reverse registration order,
  which is about the order backward produces their gradients; the first bucket is 1 MB so that
  communication starts early). A hook that autograd calls as soon as a parameter's gradient has
  been accumulated copies it into its bucket; when a bucket is full its non-blocking MPI
  Iallreduce starts at once, while backward goes on computing the earlier layers' gradients.
  Buckets are started in the same order on every rank (MPI matches collectives by order). When
  the last gradient is in, the hook waits for the allreduces, divides by the world size and
  writes the averages back into .grad: once loss.backward() returns, the gradients are
  averaged and identical on every rank.
"""
import collections
import contextlib
import functools
import weakref

import numpy as np

from ... import _C
from ..._C import Tensor
from ..modules.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024


def _dist():
    from ... import distributed
    return distributed


def _tensors_in(obj, out):
    """Appends every Tensor found in obj (nested tuples, lists, dicts) to out."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors_in(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors_in(o, out)
    return out


def _grad_ready(ddp_ref, index, _param):
    """The post-accumulate-grad hook (holds the DDP weakly: the hook lives on the parameter)."""
    ddp = ddp_ref()
    if ddp is not None:
        ddp._mark_ready(index)


class _Bucket:
    """Gradients of a few parameters in one flat buffer, reduced by one allreduce."""

    def __init__(self, indices, params, dtype):
        self.indices = indices  # parameter indices, in the order they sit in the buffer
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        self.flat = _C.zeros([total], dtype)
        self.array = np.asarray(memoryview(self.flat))
        self.views = [self.flat[o:o + p.numel()].view(tuple(p.shape)) for o, p in zip(self.offsets, params)]
        self.pending = 0
        self.work = None

    @property
    def nbytes(self):
        return self.flat.nbytes


class DistributedDataParallel(Module):
    """Wraps `module` for data-parallel training over the ranks of a process group.

    Args:
        module: the model (the same architecture on every rank).
        broadcast_buffers: broadcast rank 0's buffers (e.g. BatchNorm running stats) before each forward.
        process_group: the group to average over (the default group if None).
        bucket_cap_mb: bucket size in MiB (25).
        find_unused_parameters: after each forward, walk the autograd graph from the outputs and
            treat parameters it does not reach as ready (their gradient counts as zero), so that
            models whose forward skips parameters do not stall the reduction. Costs a graph walk.
        gradient_as_bucket_view: make each .grad a view into its bucket (saves a copy per step).
        init_sync: broadcast rank 0's parameters and buffers at construction.
        static_graph, check_reduction: accepted for PyTorch compatibility; they change nothing
            (every iteration is checked as if the graph could change).

    The wrapped model is `.module`. state_dict() and load_state_dict() are the wrapped module's
    (keys without a "module." prefix), so a checkpoint saved from a DDP model loads into the
    plain model in a single process; load_state_dict also accepts keys with the prefix, as
    PyTorch's DDP saves them. named_parameters() keeps PyTorch's "module." prefix.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, init_sync=True):
        super().__init__()
        dist = _dist()
        if not dist.is_initialized():
            raise RuntimeError("[DistributedDataParallel] the default process group has not been initialized: call "
                               "pydl.distributed.init_process_group('mpi') first")
        if device_ids not in (None, []) or output_device is not None:
            raise ValueError(f"[DistributedDataParallel] device_ids and output_device are for GPU modules; a CPU "
                             f"module takes device_ids=None (got device_ids={device_ids}, "
                             f"output_device={output_device})")
        if dim != 0:
            raise ValueError(f"[DistributedDataParallel] dim={dim}: only dim=0 is supported")
        if not isinstance(module, Module):
            raise TypeError(f"[DistributedDataParallel] module must be an nn.Module, got {type(module).__name__}")
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._world = dist.get_world_size(process_group)
        self._src = dist.get_global_rank(process_group, 0) if process_group is not None else 0

        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        self._check_same_parameters(module)
        if init_sync:
            self._broadcast([p for p in module.parameters()] + [b for b in module.buffers()])
        self._buckets, self._where = self._build_buckets()
        self._hooks = [p.register_post_accumulate_grad_hook(functools.partial(_grad_ready, weakref.ref(self), i))
                       for i, p in enumerate(self._params)]
        self._expect_sync = False  # a forward of ours made the graph whose backward we reduce
        self._ready = [False] * len(self._params)
        self._used = np.ones(len(self._params), dtype=np.int64)
        self._next_bucket = 0

    # ---- construction -----------------------------------------------------------------

    def _check_same_parameters(self, module):
        """Raises on every rank (no hang) unless all ranks hold the same parameters in the same order."""
        dist = _dist()
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
        everyone = [None] * self._world
        dist.all_gather_object(everyone, mine, group=self.process_group)
        ref = everyone[0]
        for r, theirs in enumerate(everyone[1:], start=1):
            if theirs == ref:
                continue
            if len(theirs) != len(ref):
                detail = f"rank 0 has {len(ref)} parameters and rank {r} has {len(theirs)}"
            else:
                i = next(i for i, (a, b) in enumerate(zip(ref, theirs)) if a != b)
                detail = (f"parameter {i} is {ref[i][0]!r} of shape {ref[i][1]} ({ref[i][2]}) on rank 0 but "
                          f"{theirs[i][0]!r} of shape {theirs[i][1]} ({theirs[i][2]}) on rank {r}")
            raise RuntimeError(f"[DistributedDataParallel] every rank must hold the same parameters, in the same "
                               f"order, with the same shapes: {detail}")

    def _broadcast(self, tensors):
        dist = _dist()
        works = [dist.broadcast(t, src=self._src, group=self.process_group, async_op=True)
                 for t in tensors if t is not None and t.numel() > 0]
        for w in works:
            w.wait()

    def _build_buckets(self):
        """Buckets over the parameters in reverse order, split by dtype and by size."""
        buckets, where = [], [None] * len(self._params)
        open_ = {}  # dtype -> (indices, bytes)
        cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap)

        def close(dtype):
            indices, _ = open_.pop(dtype)
            buckets.append(_Bucket(indices, [self._params[i] for i in indices], dtype))

        for i in reversed(range(len(self._params))):
            p = self._params[i]
            indices, size = open_.get(p.dtype, ([], 0))
            if indices and size + p.nbytes > cap:
                close(p.dtype)
                cap = self.bucket_bytes_cap
                indices, size = [], 0
            indices.append(i)
            open_[p.dtype] = (indices, size + p.nbytes)
        for dtype in list(open_):
            close(dtype)
        for b, bucket in enumerate(buckets):
            for slot, i in enumerate(bucket.indices):
                where[i] = (b, slot)
        return buckets, where

    # ---- forward ----------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        if self._expect_sync and any(self._ready):
            unready = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
            self._expect_sync = False
            raise RuntimeError(
                "[DistributedDataParallel] Expected to have finished reduction in the prior iteration before "
                "starting a new one: parameters " + ", ".join(unready[:10]) + (" ..." if len(unready) > 10 else "") +
                " got no gradient in that backward. If the forward does not use every parameter, pass "
                "find_unused_parameters=True; make sure all outputs that depend on parameters take part in the loss.")
        if self.broadcast_buffers and self.require_forward_param_sync and self._world > 1:
            self._broadcast(list(self.module.buffers()))
        out = self.module(*inputs, **kwargs)
        if _C.is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(out)
        else:
            self._expect_sync = False
        return out

    def _prepare_for_backward(self, out):
        self._expect_sync = True
        self._ready = [False] * len(self._params)
        self._used[:] = 1
        self._next_bucket = 0
        for bucket in self._buckets:
            bucket.pending = len(bucket.indices)
            bucket.work = None
        if self.find_unused_parameters:
            reached = {id(t) for t in _C._reachable_leaves(_tensors_in(out, []))}
            for i, p in enumerate(self._params):
                if id(p) not in reached:
                    self._used[i] = 0
                    self._mark_ready(i)

    # ---- backward: called by the gradient hooks ---------------------------------------

    def _mark_ready(self, index):
        if not self._expect_sync:
            return  # a backward through the module outside our forward, or under no_sync()
        if self._ready[index]:
            raise RuntimeError(f"[DistributedDataParallel] parameter {self._param_names[index]!r} got its gradient "
                               f"twice in one iteration (two backward passes through one forward, or a parameter "
                               f"used in a second graph). Use no_sync() for all but the last backward.")
        self._ready[index] = True
        b, slot = self._where[index]
        bucket = self._buckets[b]
        p = self._params[index]
        dest = bucket.array[bucket.offsets[slot]:bucket.offsets[slot] + p.numel()]
        if not self._used[index] or p.grad is None:
            dest.fill(0)
        elif p.grad.data_ptr() != bucket.views[slot].data_ptr():
            np.copyto(dest, np.asarray(memoryview(p.grad)).reshape(-1))
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        else:
            self._poke()
        if self._next_bucket == len(self._buckets):
            self._finish()

    def _launch_ready_buckets(self):
        dist = _dist()
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            bucket = self._buckets[self._next_bucket]
            bucket.work = dist.all_reduce(bucket.flat, group=self.process_group, async_op=True)
            self._next_bucket += 1

    def _poke(self):
        """Lets MPI progress the allreduces in flight (MPICH advances them inside MPI calls)."""
        for bucket in self._buckets[:self._next_bucket]:
            if bucket.work is not None and not bucket.work.is_completed():
                break

    def _finish(self):
        self._expect_sync = False
        globally_used = None
        if self.find_unused_parameters:
            used = _C.from_numpy(self._used.copy())
            _dist().all_reduce(used, group=self.process_group)
            globally_used = used.numpy()
        for bucket in self._buckets:
            bucket.work.wait()
            _C.div_(bucket.flat, float(self._world))
            for slot, i in enumerate(bucket.indices):
                if globally_used is not None and globally_used[i] == 0:
                    continue  # no rank used it: leave .grad as it was (None stays None)
                p, view = self._params[i], bucket.views[slot]
                if self.gradient_as_bucket_view:
                    if p.grad is None or p.grad.data_ptr() != view.data_ptr():
                        p.grad = view
                elif p.grad is None:
                    p.grad = _C.clone(view)
                else:
                    np.copyto(np.asarray(memoryview(p.grad)), np.asarray(memoryview(view)))

    # ---- user API ---------------------------------------------------------------------

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally without averaging (gradient accumulation);
        the first backward after the block averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """The wrapped module's state_dict (no "module." prefix)."""
        return self.module.state_dict(*args, destination=destination, prefix=prefix, keep_vars=keep_vars)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Loads into the wrapped module; keys may carry PyTorch DDP's "module." prefix or not."""
        keys = list(state_dict.keys())
        if keys and all(k.startswith("module.") for k in keys):
            state_dict = collections.OrderedDict((k[len("module."):], v) for k, v in state_dict.items())
        return self.module.load_state_dict(state_dict, strict=strict, assign=assign)

    def extra_repr(self):
        return f"world_size={self._world}, buckets={len(self._buckets)}"

    def __del__(self):
        for h in getattr(self, "_hooks", ()):
            h.remove()
