"""Layers and cells: `XavierRNNCell`, `XavierLSTMCell` and `XavierGRUCell`
(Keras' cells with our initializers as defaults, `cells.py`) and
`FastSimpleRNN` (`fast_simple_rnn.py`), whose recurrence runs in a
hand-written kernel, one module per backend under `recurrence/` as in
`keras/src/backend/`."""

from keras_rnninit.layers.cells import XavierGRUCell, XavierLSTMCell, XavierRNNCell
from keras_rnninit.layers.fast_simple_rnn import FastSimpleRNN

__all__ = ["FastSimpleRNN", "XavierGRUCell", "XavierLSTMCell", "XavierRNNCell"]
