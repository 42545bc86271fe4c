"""SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta: hyperparameters and state here, the update in one
fused C++ call per parameter group (pydl._C.<name>_)."""
from .. import _C
from .optimizer import Optimizer

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads):
        momentum = float(group["momentum"])
        if momentum != 0:
            bufs, fresh = [], []
            for p in params:
                st = self.state[p]
                if st.get("momentum_buffer") is None:
                    st["momentum_buffer"] = self._zeros_like(p)
                    fresh.append(True)
                else:
                    fresh.append(False)
                bufs.append(st["momentum_buffer"])
        else:
            bufs, fresh = grads, [False] * len(params)
        _C.sgd_(params, grads, bufs, fresh, float(group["lr"]), momentum, float(group["dampening"]),
                float(group["weight_decay"]), bool(group["nesterov"]), bool(group["maximize"]))


class Adam(Optimizer):
    """Adam (Kingma & Ba); amsgrad and decoupled weight decay (AdamW) supported."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads):
        amsgrad = bool(group["amsgrad"])
        exp_avgs, exp_avg_sqs, max_sqs, steps = [], [], [], []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["exp_avg"] = self._zeros_like(p)
                st["exp_avg_sq"] = self._zeros_like(p)
                if amsgrad:
                    st["max_exp_avg_sq"] = self._zeros_like(p)
            if amsgrad and "max_exp_avg_sq" not in st:
                st["max_exp_avg_sq"] = self._zeros_like(p)
            st["step"] = int(st["step"]) + 1
            steps.append(st["step"])
            exp_avgs.append(st["exp_avg"])
            exp_avg_sqs.append(st["exp_avg_sq"])
            max_sqs.append(st["max_exp_avg_sq"] if amsgrad else st["exp_avg_sq"])
        beta1, beta2 = group["betas"]
        _C.adam_(params, grads, exp_avgs, exp_avg_sqs, max_sqs, steps, float(group["lr"]), float(beta1), float(beta2),
                 float(group["eps"]), float(group["weight_decay"]), amsgrad, bool(group["maximize"]),
                 bool(group.get("decoupled_weight_decay", self._decoupled)))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); weight_decay defaults to 1e-2."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop with optional momentum and centering."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads):
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        sq, bufs, gavg = [], [], []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["square_avg"] = self._zeros_like(p)
                if momentum > 0:
                    st["momentum_buffer"] = self._zeros_like(p)
                if centered:
                    st["grad_avg"] = self._zeros_like(p)
            if momentum > 0 and "momentum_buffer" not in st:
                st["momentum_buffer"] = self._zeros_like(p)
            if centered and "grad_avg" not in st:
                st["grad_avg"] = self._zeros_like(p)
            st["step"] = int(st["step"]) + 1
            sq.append(st["square_avg"])
            # unused buffers are passed as the square averages; the kernel ignores them
            bufs.append(st["momentum_buffer"] if momentum > 0 else st["square_avg"])
            gavg.append(st["grad_avg"] if centered else st["square_avg"])
        _C.rmsprop_(params, grads, sq, bufs, gavg, float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                    float(group["weight_decay"]), momentum, centered, bool(group["maximize"]))


class Adagrad(Optimizer):
    """Adagrad with optional learning-rate decay and initial accumulator value."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:  # state is created eagerly, as PyTorch does
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        st = self.state[p]
        st["step"] = 0
        st["sum"] = self._on_device_of(p, _C.full(list(p.shape), float(group["initial_accumulator_value"]), p.dtype))

    def _update_group(self, group, params, grads):
        sums, steps = [], []
        for p in params:
            st = self.state[p]
            if "sum" not in st:
                self._init_state(p, group)
            st["step"] = int(st["step"]) + 1
            steps.append(st["step"])
            sums.append(st["sum"])
        _C.adagrad_(params, grads, sums, steps, float(group["lr"]), float(group["lr_decay"]),
                    float(group["weight_decay"]), float(group["eps"]), bool(group["maximize"]))


class Adadelta(Optimizer):
    """Adadelta (Zeiler); lr scales the computed step (1.0 by default)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update_group(self, group, params, grads):
        sq, acc = [], []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = 0
                st["square_avg"] = self._zeros_like(p)
                st["acc_delta"] = self._zeros_like(p)
            st["step"] = int(st["step"]) + 1
            sq.append(st["square_avg"])
            acc.append(st["acc_delta"])
        _C.adadelta_(params, grads, sq, acc, float(group["lr"]), float(group["rho"]), float(group["eps"]),
                     float(group["weight_decay"]), bool(group["maximize"]))
