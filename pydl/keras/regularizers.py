"""Keras weight regularizers (L1, L2, L1L2): penalties added to the training loss, computed on
the weights with pydl ops (sums of |w| and w**2 do not depend on pydl's weight layouts)."""

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]


class Regularizer:
    def __call__(self, w):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w**2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        out = None
        if self.l1:
            out = w.abs().sum() * self.l1
        if self.l2:
            t = w.square().sum() * self.l2
            out = t if out is None else out + t
        return out if out is not None else w.sum() * 0.0

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(spec, layer="layer"):
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, dict):
        cls = _BY_NAME.get(spec.get("class_name"))
        if cls is None:
            raise ValueError(f"[{layer}] unknown regularizer {spec.get('class_name')!r}; known: L1, L2, L1L2")
        return cls(**(spec.get("config") or {}))
    if isinstance(spec, str) and spec in _BY_NAME:
        return _BY_NAME[spec]()
    raise ValueError(f"[{layer}] a regularizer must be keras.regularizers.L1 / L2 / L1L2 (or its name), got {spec!r}")


def serialize(reg):
    if reg is None:
        return None
    if not type(reg).__module__.startswith("pydl.keras"):
        raise ValueError(f"[save] the custom regularizer {reg!r} cannot be serialized")
    return {"module": "keras.regularizers", "class_name": type(reg).__name__, "config": reg.get_config(),
            "registered_name": None}
