"""parameters_to_vector / vector_to_parameters (torch.nn.utils.convert_parameters)."""
from ... import _C
from ..._C import Tensor
from ...autograd import no_grad

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened and concatenated (differentiable)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return _C.cat([_C.reshape(p, [-1]) for p in parameters], 0)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D `vec` into each parameter (in place, under no_grad)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"[vector_to_parameters] expected vec to be a Tensor, but got: {type(vec).__name__}")
    if vec.dim() != 1:
        raise ValueError(f"[vector_to_parameters] expected a 1-D vec, got shape {tuple(vec.shape)}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if total != vec.numel():
        raise ValueError(f"[vector_to_parameters] vec has {vec.numel()} elements but the parameters hold {total}")
    pointer = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(_C.reshape(_C.slice(vec, 0, pointer, pointer + n, 1), list(p.shape)))
            pointer += n
