"""Gradient utilities: clip_grad_norm_, clip_grad_value_."""
from ... import _C
from ..._C import Tensor
from ...autograd import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all `tensors` together, as one 0-d tensor (one reduction per tensor, no Python math)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _C.zeros([], _C.dtype.float32)
    with no_grad():
        if norm_type == float("inf"):
            total = _C.amax(_C.stack([_C.amax(_C.abs(g), [], False) for g in tensors], 0), [], False)
        elif norm_type == 2.0:
            total = _C.sqrt(_C.sum(_C.stack([_C.sum(_C.square(g), [], False, None) for g in tensors], 0), [], False, None))
        else:
            parts = [_C.sum(_C.pow_scalar(_C.abs(g), norm_type), [], False, None) for g in tensors]
            total = _C.pow_scalar(_C.sum(_C.stack(parts, 0), [], False, None), 1.0 / norm_type)
    if error_if_nonfinite:
        v = total.item()
        if v != v or v in (float("inf"), float("-inf")):
            raise RuntimeError(f"[clip_grad_norm_] The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable this error and scale "
                               "the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients by min(1, max_norm / (total_norm + 1e-6)) in place."""
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        coef = _C.clamp(float(max_norm) / (total_norm + 1e-6), None, 1.0)
        for g in grads:
            _C.mul_(g, coef if coef.dtype == g.dtype else _C.to_dtype(coef, g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescales gradients so that their total norm is at most `max_norm`.

    Args:
        parameters: a tensor or an iterable of tensors whose .grad is clipped.
        max_norm: the largest allowed total norm.
        norm_type: order of the norm ('inf' for the max norm).
        error_if_nonfinite: raise if the total norm is nan or inf.

    Returns:
        The total norm of the gradients before clipping (a 0-d tensor).
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            _C.clamp_(g, -clip_value, clip_value)
from . import rnn  # noqa: E402,F401
from . import parametrize, parametrizations  # noqa: E402,F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: E402,F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: E402,F401
