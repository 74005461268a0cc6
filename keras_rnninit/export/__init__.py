"""Export trained Keras RNN models to builtins-only TFLite and run them in LiteRT.

This subpackage imports only keras, tensorflow, numpy and ai_edge_litert
(TensorFlow lazily, at conversion time) and, of keras_rnninit, only `utils`.
"""

from keras_rnninit.export.convert import QUANTIZE_MODES, ExportError
from keras_rnninit.export.exporter import (
    DEFAULT_TOLERANCES,
    ExportReport,
    export_tflite,
)
from keras_rnninit.export.flatbuffer import non_builtin_ops, tflite_ops
from keras_rnninit.export.runner import TFLiteRunner

__all__ = [
    "DEFAULT_TOLERANCES",
    "QUANTIZE_MODES",
    "ExportError",
    "ExportReport",
    "TFLiteRunner",
    "export_tflite",
    "non_builtin_ops",
    "tflite_ops",
]
