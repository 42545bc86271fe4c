"""torch.nn.utils.parametrize: a tensor of a module computed on access from `original` parameters.

register_parametrization(module, "weight", P) moves `module.weight` to
`module.parametrizations.weight.original` (or original0, original1, ... when P.right_inverse returns
a tuple) and turns `weight` into a property that returns P(original). The state-dict keys are
PyTorch's, so parametrized models load PyTorch checkpoints unchanged.
"""
import contextlib

from ..._C import Tensor
from ...autograd import no_grad
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached", "ParametrizationList",
           "type_before_parametrizations", "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Within this context each parametrized tensor is computed once and reused."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _assign(original, value):
    """Writes value into the Parameter `original` (same object, so optimizers keep it) or makes a new one."""
    if tuple(original.shape) == tuple(value.shape) and original.dtype == value.dtype:
        with no_grad():
            original.copy_(value)
        return original
    return Parameter(value.detach().clone(), original.requires_grad)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to the originals."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    new = m.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if not unsafe and (tuple(new.shape) != tuple(original.shape) or new.dtype != original.dtype):
                raise ValueError(f"[register_parametrization] right_inverse changed the shape or dtype of the tensor "
                                 f"from {tuple(original.shape)} to {tuple(new.shape)}; pass unsafe=True")
            if isinstance(original, Parameter):
                self.original = _assign(original, new)
            else:
                self.register_buffer("original", new)
        else:
            for i, t in enumerate(new):
                if isinstance(original, Parameter):
                    setattr(self, f"original{i}", Parameter(t.detach().clone(), original.requires_grad))
                else:
                    self.register_buffer(f"original{i}", t)
        if not unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"[register_parametrization] a parametrization must return a tensor, got "
                                 f"{type(z).__name__}")
            if tuple(z.shape) != tuple(original.shape) or z.dtype != original.dtype:
                raise ValueError(f"[register_parametrization] the parametrization changed the shape or dtype from "
                                 f"{tuple(original.shape)} to {tuple(z.shape)}; pass unsafe=True")

    def right_inverse(self, value):
        """Sets the originals so that this list evaluates to `value`."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement right_inverse.")
                value = m.right_inverse(value)
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for i, t in enumerate(value):
                    getattr(self, f"original{i}").copy_(t)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def _inject_new_class(module):
    cls = module.__class__

    def getstate(self):
        raise RuntimeError("Serialization of parametrized modules is only supported through state_dict().")

    param_cls = type(f"Parametrized{cls.__name__}", (cls,), {"__getstate__": getstate})
    object.__setattr__(module, "__class__", param_cls)


def _inject_property(module, tensor_name):
    def get_parametrized(self):
        p = self.parametrizations[tensor_name]
        if _cache_enabled:
            key = (id(self), tensor_name)
            if key not in _cache:
                _cache[key] = p()
            return _cache[key]
        return p()

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def is_parametrized(module, tensor_name=None):
    """Whether `module` (or its `tensor_name`) has a parametrization."""
    params = module.__dict__.get("_modules", {}).get("parametrizations")
    if params is None or not isinstance(params, ModuleDict):
        return False
    return len(params) > 0 if tensor_name is None else tensor_name in params


def type_before_parametrizations(module):
    """The module's class before register_parametrization swapped it."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Makes `module.<tensor_name>` return parametrization(original) (see the module docstring)."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if tuple(x.shape) != tuple(y.shape) or x.dtype != y.dtype:
                raise ValueError("[register_parametrization] the parametrization changed the shape or dtype; pass "
                                 "unsafe=True")
        plist.append(parametrization)
        plist.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with name "
                         f"'{tensor_name}'")
    original = getattr(module, tensor_name)
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    if tensor_name in module._parameters:
        del module._parameters[tensor_name]
    else:
        del module._buffers[tensor_name]
    if not is_parametrized(module):
        _inject_new_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undoes register_parametrization: the tensor becomes a plain Parameter again (its current value, or the
    original when leave_parametrized=False)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            original = _assign(original, t) if isinstance(original, Parameter) else t
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized "
                             "in terms of a sequence of tensors.")
        with no_grad():
            t = getattr(module, tensor_name)
        original = Parameter(t.detach().clone(), plist.original0.requires_grad)
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        del module._modules["parametrizations"]
        object.__setattr__(module, "__class__", module.__class__.__bases__[0])
    return module


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Copies the parametrizations (and their originals) of `from_module` onto `to_module`."""
    if not is_parametrized(from_module):
        raise ValueError(f"from_module {from_module} is not parametrized")
    names = [tensor_name] if tensor_name is not None else list(from_module.parametrizations.keys())
    for name in names:
        plist = from_module.parametrizations[name]
        if name not in to_module._parameters and not is_parametrized(to_module, name):
            to_module.register_parameter(name, Parameter(getattr(from_module, name).detach().clone()))
        for p in plist:
            register_parametrization(to_module, name, p, unsafe=True)
        with no_grad():
            if plist.is_tensor:
                to_module.parametrizations[name].original.copy_(plist.original)
            else:
                for i in range(plist.ntensors):
                    getattr(to_module.parametrizations[name], f"original{i}").copy_(getattr(plist, f"original{i}"))
    return to_module
