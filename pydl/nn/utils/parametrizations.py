"""torch.nn.utils.parametrizations: weight_norm and spectral_norm as parametrizations (PyTorch's
modules, buffers and state-dict keys: parametrizations.weight.original0/original1, ...0._u, ...0._v)."""
from ... import _C
from ...autograd import no_grad
from .. import functional as F
from .._functional_breadth import _vector_norm
from ..modules.module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    """||v||_2 over every dim but `dim` (keeping dims), or over all of v when dim is None / -1."""
    if dim is None or dim == -1:
        return _vector_norm(v, 2, list(range(v.dim())), False)
    dim = dim % v.dim()
    return _vector_norm(v, 2, [d for d in range(v.dim()) if d != dim], True)


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """w = g * v / ||v|| (Salimans & Kingma): originals original0 = g (magnitude) and original1 = v (direction)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                             f"{n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            wm = self._reshape_weight_to_matrix(weight)
            h, w = wm.shape
            u = F.normalize(_C.normal_(_C.empty([h], weight.dtype), 0.0, 1.0), dim=0, eps=self.eps)
            v = F.normalize(_C.normal_(_C.empty([w], weight.dtype), 0.0, 1.0), dim=0, eps=self.eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(wm, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = _C.permute(weight, [self.dim] + [d for d in range(weight.dim()) if d != self.dim])
        return _C.reshape(weight, [weight.shape[0], -1])

    def _power_method(self, weight_mat, n):
        with no_grad():
            for _ in range(n):
                self._u.copy_(F.normalize(_C.matmul(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(_C.matmul(_C.transpose(weight_mat, 0, 1), self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        wm = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(wm.detach(), self.n_power_iterations)
        u, v = _C.clone(self._u), _C.clone(self._v)
        sigma = _C.sum(u * _C.matmul(wm, v), [], False, None)
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """w / sigma(w), sigma the largest singular value estimated by power iteration (Miyato et al.)."""
    weight = getattr(module, name, None)
    if weight is None:
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
