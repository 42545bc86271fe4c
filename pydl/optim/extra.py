"""NAdam, RAdam, Adamax, ASGD, Rprop and SparseAdam: hyperparameters, state and the per-step scalars
here (PyTorch 2.13's formulas, torch/optim/*.py), the elementwise update in one fused C++ call per
parameter group (pydl._C.<name>_)."""
import math

import numpy as np

from .. import _C
from ..autograd import no_grad
from .optimizer import Optimizer

__all__ = ["NAdam", "RAdam", "Adamax", "ASGD", "Rprop", "SparseAdam", "Adafactor"]


def _check(lr=None, eps=None, betas=None, weight_decay=None):
    if lr is not None and not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _scalar(x):
    """x rounded as torch's 0-d state tensors hold it (they take the default dtype, float32 unless changed)."""
    from .._tensor import get_default_dtype
    return float(np.float32(x)) if get_default_dtype() == _C.dtype.float32 else float(x)


def _unsupported(name, **flags):
    for k, v in flags.items():
        if v:
            raise NotImplementedError(f"[{name}] {k}=True is not supported (pydl's optimizers run one fused step)")


class _Moments(Optimizer):
    """Shared state for the Adam family: step, exp_avg and a second buffer (named by `_second`)."""

    _second = "exp_avg_sq"

    def _moments(self, params, extra=None):
        ms, vs, steps = [], [], []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["exp_avg"] = self._zeros_like(p)
                st[self._second] = self._zeros_like(p)
                if extra:
                    extra(st)
            st["step"] = int(st["step"]) + 1
            steps.append(st["step"])
            ms.append(st["exp_avg"])
            vs.append(st[self._second])
        return ms, vs, steps


class NAdam(_Moments):
    """Adam with Nesterov momentum (Dozat 2016), with PyTorch's momentum-decay schedule of mu."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _unsupported("NAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        lr, md = float(group["lr"]), float(group["momentum_decay"])
        ms, vs, steps = self._moments(params, lambda st: st.__setitem__("mu_product", 1.0))
        coefs = []
        for p, t in zip(params, steps):
            st = self.state[p]
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * md))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
            st["mu_product"] = _scalar(float(st["mu_product"]) * _scalar(mu))
            coefs.append([1 - beta2 ** t, -lr * (1.0 - mu) / (1.0 - st["mu_product"]),
                          -lr * mu_next / (1.0 - st["mu_product"] * mu_next)])
        _C.nadam_(params, grads, ms, vs, coefs, lr, float(beta1), float(beta2), float(group["eps"]),
                  float(group["weight_decay"]), bool(group["decoupled_weight_decay"]), bool(group["maximize"]))


class RAdam(_Moments):
    """Rectified Adam (Liu et al. 2019): momentum-only steps until the variance estimate is tractable."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False):
        _check(lr, eps, betas, weight_decay)
        _unsupported("RAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable, differentiable=differentiable))

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        ms, vs, steps = self._moments(params)
        rho_inf = 2 / (1 - beta2) - 1
        coefs = []
        for t in steps:
            bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
            rho_t = rho_inf - 2 * t * (beta2 ** t) / bc2
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) \
                if rho_t > 5.0 else -1.0
            coefs.append([bc1, bc2, rect])
        _C.radam_(params, grads, ms, vs, coefs, float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                  float(group["weight_decay"]), bool(group["decoupled_weight_decay"]), bool(group["maximize"]))


class Adamax(_Moments):
    """Adam with the infinity norm (Kingma & Ba, section 7)."""

    _second = "exp_inf"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False,
                 differentiable=False, capturable=False):
        _check(lr, eps, betas, weight_decay)
        _unsupported("Adamax", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        ms, us, steps = self._moments(params)
        _C.adamax_(params, grads, ms, us, [[1 - beta1 ** t] for t in steps], float(group["lr"]), float(beta1),
                   float(beta2), float(group["eps"]), float(group["weight_decay"]), bool(group["maximize"]))


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky); the running average of the parameters is state['ax']."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        _check(lr, weight_decay=weight_decay)
        _unsupported("ASGD", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update_group(self, group, params, grads):
        lr, lambd, alpha, t0 = float(group["lr"]), float(group["lambd"]), float(group["alpha"]), float(group["t0"])
        axs, coefs = [], []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["eta"] = _scalar(lr)
                st["mu"] = 1.0
                st["ax"] = self._zeros_like(p)
            st["step"] = int(st["step"]) + 1
            coefs.append([float(st["eta"]), float(st["mu"])])
            axs.append(st["ax"])
            # the next step's eta and mu (torch updates them after the step)
            st["eta"] = _scalar(lr / ((1 + lambd * lr * st["step"]) ** alpha))
            st["mu"] = _scalar(1 / max(1, st["step"] - t0))
        _C.asgd_(params, grads, axs, coefs, lambd, float(group["weight_decay"]), bool(group["maximize"]))


class Rprop(Optimizer):
    """Resilient backpropagation: per-element step sizes grown by etaplus and shrunk by etaminus on sign changes."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _unsupported("Rprop", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _update_group(self, group, params, grads):
        prevs, sizes = [], []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["prev"] = self._zeros_like(p)
                st["step_size"] = self._on_device_of(p, _C.full(list(p.shape), float(group["lr"]), p.dtype))
            st["step"] = int(st["step"]) + 1
            prevs.append(st["prev"])
            sizes.append(st["step_size"])
        (em, ep), (smin, smax) = group["etas"], group["step_sizes"]
        _C.rprop_(params, grads, prevs, sizes, float(em), float(ep), float(smin), float(smax), bool(group["maximize"]))


class SparseAdam(_Moments):
    """Lazy Adam for sparse gradients. pydl's gradients are dense: entries whose gradient is exactly zero (rows an
    Embedding did not look up) are left untouched, as a sparse gradient would leave them."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check(lr, eps, betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))

    def _update_group(self, group, params, grads):
        beta1, beta2 = group["betas"]
        ms, vs, steps = self._moments(params)
        _C.sparse_adam_(params, grads, ms, vs, [[1 - beta1 ** t, 1 - beta2 ** t] for t in steps], float(group["lr"]),
                        float(beta1), float(beta2), float(group["eps"]), bool(group["maximize"]))


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018) as in torch 2.13: the second moment of a matrix is kept factored as row and
    column means (O(n + m) state), the step is relative to the parameter's RMS. A handful of C++ ops per parameter
    (reductions, one outer product), since the factored update is not elementwise."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, foreach=None,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update_group(self, group, params, grads):
        lr, d, wd = float(group["lr"]), float(group["d"]), float(group["weight_decay"])
        eps1, eps2 = group["eps"]
        with no_grad():
            for p, g in zip(params, grads):
                if group["maximize"]:
                    g = -g
                st = self.state[p]
                if len(st) == 0:
                    st["step"] = 0.0
                    if g.dim() > 1:
                        st["row_var"] = self._on_device_of(p, _C.zeros(list(g.shape[:-1]) + [1], g.dtype))
                        st["col_var"] = self._on_device_of(p, _C.zeros(list(g.shape[:-2]) + [1, g.shape[-1]], g.dtype))
                    else:
                        st["variance"] = self._zeros_like(p)
                st["step"] = float(st["step"]) + 1
                t = st["step"]
                e1 = float(np.finfo(np.float32 if p.dtype == _C.dtype.float32 else np.float64).eps) \
                    if eps1 is None else float(eps1)
                w = t ** float(group["beta2_decay"])  # 1 - beta2_t
                rho = min(lr, 1 / t ** 0.5)
                alpha = max(float(eps2), math.sqrt(float(_C.sum(p * p, [], False, None).item()) / p.numel())) * rho
                if wd != 0:
                    p.mul_(1 - lr * wd)
                if g.dim() > 1:
                    rv, cv = st["row_var"], st["col_var"]
                    rv.add_((_C.mean(g * g, [-1], True) - rv) * w)
                    cv.add_((_C.mean(g * g, [-2], True) - cv) * w)
                    est = _C.matmul(rv, cv) / _C.clamp(_C.mean(rv, [-2], True), e1, None)
                else:
                    v = st["variance"]
                    v.add_((g * g - v) * w)
                    est = v
                update = _C.rsqrt(_C.clamp(est, e1 * e1, None)) * g
                rms = math.sqrt(float(_C.sum(update * update, [], False, None).item()))
                denom = max(1.0, rms / (update.numel() ** 0.5 * d))
                p.add_(update * (-alpha / denom))
