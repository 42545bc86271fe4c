"""Picks pydl.keras (default) or real Keras 3 (`--keras`, torch backend) for the keras-io
programs in this folder, so the same program runs on both; only this import line differs from
the published programs. `--quick` trains on a slice of the data for a smoke run."""
import os
import sys

QUICK = "--quick" in sys.argv
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))  # this checkout's pydl
if "--keras" in sys.argv:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras  # noqa: F401
    from keras import layers  # noqa: F401
    FRAMEWORK = "keras " + keras.__version__
else:
    from pydl import keras  # noqa: F401
    from pydl.keras import layers  # noqa: F401
    import pydl
    pydl.set_num_threads(int(os.environ.get("PYDL_THREADS", "2")))
    FRAMEWORK = "pydl.keras"


def mnist():
    """MNIST from pydl's data folder (keras.datasets.mnist.load_data() reads the same files in
    pydl; real Keras would download them, which these machines cannot)."""
    from pydl.keras.datasets import mnist as m  # noqa: F401  (numpy arrays, same as Keras's)
    return m.load_data()
