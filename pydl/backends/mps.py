"""pydl.backends.mps: Apple's Metal backend, which pydl does not have."""


def is_available():
    """False: pydl has no Metal (MPS) backend."""
    return False


def is_built():
    """False: pydl is never built with Metal (MPS) support."""
    return False
