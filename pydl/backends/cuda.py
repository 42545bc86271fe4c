"""pydl.backends.cuda: CUDA backend flags, as ``torch.backends.cuda``.

pydl's kernels run in full float32 on the CPU; the TF32 / reduced-precision flags are kept so
that programs setting them run unchanged (they change nothing).
"""
from .. import cuda as _cuda


class _MatmulFlags:
    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built():
    """True when this build was compiled with PYDL_CUDA=ON."""
    return _cuda.is_built()
