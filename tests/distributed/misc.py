"""Run under mpiexec by tests/test_distributed.py: `misc.py threads` prints each rank's OpenMP
threads; `misc.py fault` raises on the last rank while the others wait in a barrier."""
import sys

import pydl
import pydl.distributed as dist

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
if sys.argv[1] == "threads":
    print(f"rank {rank} threads {pydl.get_num_threads()}", flush=True)
elif sys.argv[1] == "fault":
    if rank == world - 1:
        raise ValueError(f"boom on rank {rank}")
    dist.barrier()  # never completes: the job must be aborted instead
    print("the barrier returned", flush=True)
