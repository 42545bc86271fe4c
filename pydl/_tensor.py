"""pydl's tensor-level Python API, one concern per file:

- ``_args``: argument parsing (default dtype, devices, sizes, dims, int-likes);
- ``_factories``: new tensors (tensor, zeros, arange, randn, ..., FloatTensor);
- ``_functional``: functional forms (add, sum, max, cat, reshape, ..., and the C++ elementwise tables);
- ``_tensor_methods``: the registry of Python-level Tensor methods (to, view, repeat, backward, ...);
- ``_repr``: printing and pickling.

This module gathers their public names for ``pydl`` (and for code that imports them from here).
"""
from . import _args, _factories, _functional
from ._args import *  # noqa: F401,F403
from ._args import _check_device, _default_dtype, _dims, _dt, _finish, _index, _shape  # noqa: F401
from ._factories import *  # noqa: F401,F403
from ._functional import *  # noqa: F401,F403

__all__ = _args.__all__ + _factories.__all__ + _functional.__all__
