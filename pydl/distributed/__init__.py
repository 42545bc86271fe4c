"""pydl.distributed: PyTorch's torch.distributed names on MPI (mpi4py + MPICH).

Launch one process per rank with MPI's launcher (``mpiexec -n 2 python train.py``), then::

    import pydl.distributed as dist
    dist.init_process_group("mpi")
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Tensor collectives work in place on the tensor's memory (zero copy, through the buffer
protocol and mpi4py's upper-case methods). mpi4py is imported only by init_process_group, so
``import pydl`` works without it (``pip install "pydl[distributed]"`` brings it and MPICH).
"""
from .c10d import (  # noqa: F401
    Backend, GroupMember, ProcessGroup, ReduceOp, Work, all_gather, all_gather_into_tensor, all_gather_object,
    all_reduce, all_to_all_single, barrier, broadcast, broadcast_object_list, destroy_process_group, gather,
    gather_object, get_backend, get_global_rank, get_group_rank, get_rank, get_world_size, init_process_group,
    irecv, is_available, is_gloo_available, is_initialized, is_mpi_available, is_nccl_available, isend,
    new_group, recv, reduce, reduce_scatter, reduce_scatter_tensor, scatter, scatter_object_list, send,
)
from . import nn  # noqa: F401,E402  (differentiable collectives)

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
    "all_gather_object", "all_reduce", "all_to_all_single", "barrier", "broadcast", "broadcast_object_list",
    "destroy_process_group", "gather", "gather_object", "get_backend", "get_global_rank", "get_group_rank",
    "get_rank", "get_world_size", "init_process_group", "irecv", "is_available", "is_gloo_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "isend", "new_group", "recv", "reduce",
    "reduce_scatter", "reduce_scatter_tensor", "scatter", "scatter_object_list", "send",
]
