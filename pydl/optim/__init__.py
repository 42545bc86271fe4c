"""pydl.optim: optimizers calling fused C++ update kernels."""
from . import lr_scheduler  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop  # noqa: F401
from .extra import ASGD, NAdam, RAdam, Adamax, Rprop, SparseAdam, Adafactor  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401,E402
