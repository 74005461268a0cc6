"""The fused TFLite LSTM: Keras 3 `LSTM` layers -> `UNIDIRECTIONAL_SEQUENCE_LSTM`.

Keras 3 LSTMs convert to WHILE loops; Keras 2 gave the fused builtin. The
converter's composite-function pass (`ConvertKerasLSTMLayer` in TensorFlow's
`tensorflow/compiler/mlir/lite/utils/lstm_utils.cc`) still fuses a
`tf.function` that

- carries the attributes `api_implements` (a name starting with `lstm_`),
  `time_major` (required) and `go_backwards`;
- takes exactly six arguments: inputs, init_h, init_c, kernel,
  recurrent_kernel, bias (gates in Keras order i, f, c, o; tanh and sigmoid);
- returns five results of which only the first two (last output, outputs)
  are used: a use of the final h or c silently keeps the loop.

For the export only, each eligible LSTM's `inner_loop` is replaced, while the
model is traced, by a call to such a function (`standard_lstm`, the Keras 2
recipe); every other layer runs as Keras runs it. The trace is converted from
its concrete function with a `trackable_obj` holding the model's variables:
without it the function is inlined first and nothing fuses.

Not fused (they keep the WHILE path, and the export report says why):
`stateful` or `return_state` layers, activations other than tanh/sigmoid, a
compute dtype other than float32, subclasses of `LSTM`, and a layer that
receives a mask (`Masking`, `Embedding(mask_zero=True)`).
"""

import dataclasses
import uuid

import keras
import numpy as np

from keras_rnninit.export.convert import (
    ConversionOptions,
    _walk_layers,
    input_spec,
    run_converter,
)

__all__ = ["FUSED_OP", "convert_fused", "fusable", "lstm_layers", "trace_fused"]

FUSED_OP = "UNIDIRECTIONAL_SEQUENCE_LSTM"


def lstm_layers(model):
    """(name, layer) of every `LSTM` in `model`: nested models and both
    directions of a `Bidirectional` included."""
    found = []
    for layer in _walk_layers(model):
        if isinstance(layer, keras.layers.Bidirectional):
            for inner in (layer.forward_layer, layer.backward_layer):
                if isinstance(inner, keras.layers.LSTM):
                    found.append((f"{layer.name}/{inner.name}", inner))
        elif isinstance(layer, keras.layers.LSTM):
            found.append((layer.name, layer))
    return found


def _activation_name(function):
    return getattr(function, "__name__", type(function).__name__)


def fusable(layer):
    """None if `layer` can become the fused op, else why not (one phrase)."""
    if type(layer) is not keras.layers.LSTM:
        return f"a subclass of LSTM ({type(layer).__name__})"
    if layer.stateful:
        return "stateful (its state lives in the WHILE path)"
    if layer.return_state:
        return "return_state=True (the fused op has no final-state outputs)"
    activations = (
        _activation_name(layer.cell.activation),
        _activation_name(layer.cell.recurrent_activation),
    )
    if activations != ("tanh", "sigmoid"):
        return (
            f"activation={activations[0]}, recurrent_activation={activations[1]} "
            "(the fused op computes tanh and sigmoid only)"
        )
    if layer.compute_dtype != "float32":
        return f"compute dtype {layer.compute_dtype} (the fused op is float32)"
    return None


def _standard_lstm(go_backwards):
    """A fresh `tf.function` the converter replaces by the fused op (Keras 2's
    `standard_lstm`, batch-major). Run unfused, it is an ordinary loop."""
    import tensorflow as tf

    attributes = {
        "api_implements": f"lstm_{uuid.uuid4()}",
        "time_major": False,
        "go_backwards": go_backwards,
    }

    def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        steps = tf.transpose(inputs, [1, 0, 2])
        if go_backwards:
            steps = tf.reverse(steps, [0])

        def step(carry, x_t):
            h, c = carry
            z = tf.matmul(x_t, kernel) + tf.matmul(h, recurrent_kernel) + bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            return tf.sigmoid(o) * tf.tanh(c), c

        hs, cs = tf.scan(step, steps, initializer=(init_h, init_c))
        outputs = tf.transpose(hs, [1, 0, 2])
        runtime = tf.constant(0.0, name="runtime")
        return outputs[:, -1], outputs, hs[-1], cs[-1], runtime

    return tf.function(
        standard_lstm, autograph=False, experimental_attributes=attributes
    )


def _own_zeros(state):
    """The fused op's initial `state`, as a constant no other op can share.

    The fused op keeps h and c in *variable tensors*, initialised from its
    state operands and written in place by every invoke. The converter merges
    equal constants, so Keras' all-zero initial state of a same-width RNN
    after the LSTM (a WHILE loop's (batch, units) zeros) became the LSTM's
    state tensor and that RNN started from the LSTM's final h. Negative zeros
    compute exactly as zeros (0 * w and -0 * w are both zeros; -0 + x = x) but
    differ bitwise from every +0 constant, so nothing merges with them; the
    converter itself splits a state shared by two fused ops. A state that is
    not all zeros (a user's `initial_state`) is passed on unchanged."""
    import tensorflow as tf

    value = tf.get_static_value(state)
    if value is None or np.any(value):
        return state
    return tf.constant(np.full(value.shape, -0.0, value.dtype))


def _fused_inner_loop(layer, name, original, fused, fallbacks):
    import tensorflow as tf

    function = _standard_lstm(layer.go_backwards)

    def inner_loop(sequences, initial_state, mask, training=False):
        if any(m is not None for m in keras.tree.flatten(mask)):
            fallbacks[name] = "it receives a mask (the fused op has no mask input)"
            return original(sequences, initial_state, mask, training=training)
        cell = layer.cell
        bias = cell.bias if cell.use_bias else tf.zeros((4 * cell.units,))
        last, outputs, h, c, _ = function(
            sequences,
            *(_own_zeros(state) for state in initial_state[:2]),
            *(
                tf.convert_to_tensor(w)
                for w in (cell.kernel, cell.recurrent_kernel, bias)
            ),
        )
        fused.append(name)
        # Real final states, for Keras' bookkeeping; no graph output reads
        # them (stateful and return_state layers never get here), so the
        # converter's "only the first two results are used" still holds.
        return last, outputs, [h, c]

    return inner_loop


def trace_fused(model, spec):
    """A concrete function of `model` on `spec` in which every fusable LSTM
    calls the fused-op function, and what happened to each LSTM:
    (concrete function, [fused layer names], {layer name: why not fused})."""
    import tensorflow as tf

    fused, fallbacks, patched = [], {}, []
    for name, layer in lstm_layers(model):
        reason = fusable(layer)
        if reason is not None:
            fallbacks[name] = reason
            continue
        patch = _fused_inner_loop(layer, name, layer.inner_loop, fused, fallbacks)
        object.__setattr__(layer, "inner_loop", patch)
        patched.append(layer)

    def serve(x):
        y = model(x, training=False)
        if isinstance(y, dict):
            return dict(y)
        return {f"output_{i}": t for i, t in enumerate(keras.tree.flatten(y))}

    try:
        concrete = tf.function(serve).get_concrete_function(spec)
    finally:
        for layer in patched:
            object.__delattr__(layer, "inner_loop")
    return concrete, fused, fallbacks


def convert_fused(model, options: ConversionOptions | None = None):
    """TFLite bytes of `model` (fixed batch, any T) with its fusable LSTMs as
    the fused op, the names of the layers traced as fused and {name: why not}
    for the others. Whether the converter really fused them is for the caller
    to check in the op list (`FUSED_OP`)."""
    import tensorflow as tf

    options = options or ConversionOptions()
    spec = input_spec(model, options.batch_size, None)
    concrete, fused, fallbacks = trace_fused(model, spec)
    # The variables, not the function, go into the trackable object: a
    # function stored on a tf.Module is inlined before the fusion pass.
    holder = tf.Module()
    holder.model_variables = [v.value for v in model.variables]
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], holder)
    content = run_converter(converter, dataclasses.replace(options, unrolled=False))
    return content, fused, fallbacks


def _fusion_blocker(model):
    """None if every recurrent layer of `model` can be fused (so no WHILE loop
    remains), else why not: int8 takes the fused path only then."""
    from keras_rnninit.export.convert import _stateful_layers

    if _stateful_layers(model):
        return "the model is stateful"
    for layer in _walk_layers(model):
        if isinstance(layer, keras.layers.Masking) or getattr(
            layer, "mask_zero", False
        ):
            return f"{layer.name} ({type(layer).__name__}) makes a mask"
        if isinstance(layer, keras.layers.Bidirectional):
            inner = [
                (f"{layer.name}/{x.name}", x)
                for x in (layer.forward_layer, layer.backward_layer)
            ]
        elif isinstance(layer, keras.layers.RNN):
            inner = [(layer.name, layer)]
        else:
            continue
        for name, rnn in inner:
            if not isinstance(rnn, keras.layers.LSTM):
                return f"{name} is a {type(rnn).__name__}, which has no fused op"
            reason = fusable(rnn)
            if reason is not None:
                return f"{name}: {reason}"
    return None
