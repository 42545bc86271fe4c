"""torch.special: the special functions under their torch.special names.

Most are pydl's own ops under another name (expit is sigmoid, gammaln is lgamma, psi is digamma);
the rest are short compositions of ops, so autograd differentiates them like any other.
"""
import math

from . import _C
from ._tensor_ops import i0, log_softmax, logit, polygamma, sinc, softmax, xlogy
from . import full_like, isnan, logsumexp, ones_like, where, zeros_like  # pydl imports this module last

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "log1p",
           "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi",
           "round", "sinc", "softmax", "xlog1py", "xlogy"]

digamma = psi = _C.digamma
erf, erfc, erfinv = _C.erf, _C.erfc, _C.erfinv
exp2, expm1, log1p = _C.exp2, _C.expm1, _C.log1p
expit = _C.sigmoid
gammaln = _C.lgamma
ndtr = _C.ndtr
round = _C.round  # noqa: A001 - torch.special's name


def ndtri(input):
    """The standard normal quantile: x with ndtr(x) = input, for input in (0, 1)."""
    return _C.erfinv(input * 2.0 - 1.0) * math.sqrt(2.0)


def log_ndtr(input):
    """log(ndtr(input)), accurate in the left tail: log(erfc(-x/sqrt 2) / 2) loses nothing there, since
    erfc of a large argument stays a normal float down to x ~ -26 (float64: -38)."""
    return _C.log(_C.erfc(input * -math.sqrt(0.5))) - math.log(2.0)


def entr(input):
    """-x log x elementwise: 0 at 0, -inf below 0."""
    out = -(input * _C.log(where(input > 0, input, ones_like(input))))
    out = where(input == 0, zeros_like(input), out)
    return where(input < 0, full_like(input, -math.inf), out)


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (even where log1p(other) is infinite or NaN)."""
    if not isinstance(input, _C.Tensor):
        input = full_like(other, float(input))
    if not isinstance(other, _C.Tensor):
        other = full_like(input, float(other))
    out = input * _C.log1p(other)
    return where((input == 0) & ~isnan(other), zeros_like(out), out)


def multigammaln(input, p):
    """log of the multivariate gamma function of dimension p: sum over j < p of lgamma(x - j/2), plus
    p(p-1)/4 log(pi)."""
    if int(p) < 1:
        raise ValueError(f"[multigammaln] p has to be greater than or equal to 1, got {p}")
    out = _C.lgamma(input)
    for j in range(1, int(p)):  # over p, not over elements
        out = out + _C.lgamma(input - j / 2.0)
    return out + p * (p - 1) / 4.0 * math.log(math.pi)
