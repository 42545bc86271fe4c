"""Keras's datasets: `load_data()` returning NumPy ((x_train, y_train), (x_test, y_test))."""
from . import fashion_mnist, mnist  # noqa: F401
