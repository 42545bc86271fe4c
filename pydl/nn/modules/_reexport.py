"""Fills the PyTorch-named modules (conv, pooling, batchnorm, ...) with the classes pydl has.

pydl defines its layers in a few files of its own (layers.py, ...); programs import them by
PyTorch's paths (``from torch.nn.modules.conv import Conv2d``). Each such module lists
PyTorch's names once and takes those this package defines, whichever file they live in.
"""
import sys


def reexport(module_globals, names):
    """Puts each of ``names`` that ``pydl.nn.modules`` has into the module, and sets its __all__."""
    pkg = sys.modules[module_globals["__package__"]]
    present = [n for n in names if hasattr(pkg, n)]
    module_globals.update({n: getattr(pkg, n) for n in present})
    module_globals["__all__"] = present
