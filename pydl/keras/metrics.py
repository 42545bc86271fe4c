"""Keras metric classes, mapped onto pydl.train.metrics (streaming, vectorised)."""
from ..train.metrics import (Accuracy, F1Score, MeanAbsoluteError, MeanSquaredError, Metric,  # noqa: F401
                             Precision, Recall, TopKAccuracy)

SparseCategoricalAccuracy = Accuracy
CategoricalAccuracy = Accuracy
BinaryAccuracy = Accuracy


def TopKCategoricalAccuracy(k=5, name=None):  # noqa: N802  (Keras's class name)
    return TopKAccuracy(k, name or "top_k_categorical_accuracy")


SparseTopKCategoricalAccuracy = TopKCategoricalAccuracy
