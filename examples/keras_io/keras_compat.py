"""`from keras.models import Model` for either framework (see _backend.py)."""
from _backend import keras

Model = keras.models.Model
