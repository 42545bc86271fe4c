"""Keras optimizers: hyperparameters with Keras's names and defaults, turned into the pydl.optim
optimizer over the model's parameters once the model is built (compile may come before the
input shape is known)."""
from .. import optim as _optim

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "get"]


class Optimizer:
    """Base: `build(params)` returns the pydl.optim optimizer."""

    def __init__(self, learning_rate, weight_decay=None, **kwargs):
        if kwargs:
            raise TypeError(f"[{type(self).__name__}] unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        lr = float(learning_rate)
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        self.learning_rate = lr
        self.weight_decay = weight_decay or 0.0

    def build(self, params):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, **kwargs):
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.momentum, self.nesterov = momentum, nesterov

    def build(self, params):
        return _optim.SGD(params, lr=self.learning_rate, momentum=self.momentum, nesterov=self.nesterov,
                          weight_decay=self.weight_decay)


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 **kwargs):
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build(self, params):
        return _optim.Adam(params, lr=self.learning_rate, betas=(self.beta_1, self.beta_2), eps=self.epsilon,
                           amsgrad=self.amsgrad, weight_decay=self.weight_decay)


class AdamW(Adam):
    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, **kwargs)

    def build(self, params):
        return _optim.AdamW(params, lr=self.learning_rate, betas=(self.beta_1, self.beta_2), eps=self.epsilon,
                            amsgrad=self.amsgrad, weight_decay=self.weight_decay)


class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 **kwargs):
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build(self, params):
        return _optim.RMSprop(params, lr=self.learning_rate, alpha=self.rho, eps=self.epsilon,
                              momentum=self.momentum, centered=self.centered, weight_decay=self.weight_decay)


class Adagrad(Optimizer):
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None, **kwargs):
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def build(self, params):
        return _optim.Adagrad(params, lr=self.learning_rate, initial_accumulator_value=self.initial_accumulator_value,
                              eps=self.epsilon, weight_decay=self.weight_decay)


class Adadelta(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, **kwargs):
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def build(self, params):
        return _optim.Adadelta(params, lr=self.learning_rate, rho=self.rho, eps=self.epsilon,
                               weight_decay=self.weight_decay)


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta}


def get(spec):
    """A Keras optimizer from a name ('adam', 'sgd', ...: Keras's default learning rates), a Keras
    optimizer, or a pydl.optim optimizer (returned as is, already bound to parameters)."""
    if isinstance(spec, (Optimizer, _optim.Optimizer)):
        return spec
    if isinstance(spec, str):
        cls = _BY_NAME.get(spec.lower())
        if cls is None:
            raise ValueError(f"[compile] unknown optimizer {spec!r}; known: {', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(spec, type) and issubclass(spec, Optimizer):
        return spec()
    raise TypeError(f"[compile] optimizer must be a name, a pydl.keras.optimizers.Optimizer or a pydl.optim "
                    f"optimizer, got {type(spec).__name__}")
