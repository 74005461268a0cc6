"""The model matrix of the loss `fit` minimises, shared by the diagnostics' tests
(tests/diagnostics/test_fit_loss.py runs it; others reuse its models)."""

import math
import zlib

import keras
import numpy as np
import tensorflow as tf

from keras_rnninit.diagnostics import diagnose
from tests.helpers import fit_gradient_norms

TENSORFLOW = keras.backend.backend() == "tensorflow"
N, T, D, H = 6, 5, 3, 4
_RNG = np.random.default_rng(11)  # the shared data, drawn once at import
# Padding: rows 0-2 end early (trailing zeros), row 3 starts late.
KEEP = np.ones((N, T), bool)
KEEP[:3, 3:] = False
KEEP[3, :2] = False
X = _RNG.normal(size=(N, T, D)).astype("float32") * KEEP[..., None]
TOKENS = _RNG.integers(1, 9, size=(N, T)) * KEEP
SW = _RNG.uniform(0.2, 2.0, size=(N,)).astype("float32")
# Per-step outputs take per-step weights (Keras refuses (N,) with a mask).
SW_STEPS = _RNG.uniform(0.2, 2.0, size=(N, T)).astype("float32")
LAYERS = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
# LSTM and GRU diagnostics are TensorFlow-only (they say so).
KINDS = ["simple", "lstm", "gru"] if TENSORFLOW else ["simple"]
L = keras.layers


def rnn(kind, name="rnn", **kwargs):
    return getattr(L, LAYERS[kind])(
        H,
        kernel_initializer=keras.initializers.GlorotUniform(seed=1),
        recurrent_initializer=keras.initializers.Orthogonal(gain=1.2, seed=2),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=3),
        name=name,
        **kwargs,
    )


def dense(units, name="head"):
    return L.Dense(
        units, kernel_initializer=keras.initializers.GlorotUniform(4), name=name
    )


def y_one(rng):
    return rng.normal(size=(N, 1))


def build(setting, kind):
    """(model, x, y, the layer to diagnose) of one configuration; the same
    numbers on every call, whatever ran before."""
    rng = np.random.default_rng(zlib.crc32(f"{setting}/{kind}".encode()))
    sequence = keras.Input((T, D))
    masked = L.Masking(0.0)(sequence)
    if setting == "masked_sequence":  # the model: per-step outputs
        model = keras.Model(
            sequence, dense(2)(rnn(kind, return_sequences=True)(masked))
        )
        return model, X, rng.normal(size=(N, T, 2)), "rnn"
    if setting == "flat_sequence":  # a head that drops the mask: masked o_t count
        h = rnn(kind, return_sequences=True, zero_output_for_mask=True)(masked)
        return keras.Model(sequence, dense(1)(L.Flatten()(h))), X, y_one(rng), "rnn"
    if setting == "text_classifier":  # Embedding(mask_zero) -> RNN -> pooling
        tokens = keras.Input((T,), dtype="int32")
        h = L.Embedding(9, D, mask_zero=True, name="emb")(tokens)
        h = L.GlobalAveragePooling1D()(rnn(kind, return_sequences=True)(h))
        return keras.Model(tokens, dense(1)(h)), TOKENS, rng.normal(size=(N, 1)), "rnn"
    if setting == "backwards_sequence":
        h = rnn(kind, return_sequences=True, go_backwards=True)(masked)
        return keras.Model(sequence, dense(2)(h)), X, rng.normal(size=(N, T, 2)), "rnn"
    if setting == "skip":  # the head also sees the raw input
        h = rnn(kind, go_backwards=True)(masked)
        h = L.Concatenate()([h, L.Flatten()(dense(2, "pre")(sequence))])
        return keras.Model(sequence, dense(1)(h)), X, rng.normal(size=(N, 1)), "rnn"
    if setting == "initial_state":  # [x, h0] or [x, h0, c0]
        states = [keras.Input((H,)) for _ in range(2 if kind == "lstm" else 1)]
        h = rnn(kind, return_sequences=True)(masked, initial_state=states)
        model = keras.Model([sequence, *states], dense(2)(h))
        given = [rng.normal(scale=0.5, size=(N, H)).astype("float32") for _ in states]
        return model, [X, *given], rng.normal(size=(N, T, 2)), "rnn"
    if setting == "return_state":  # the final states feed the head too
        out, *states = rnn(kind, return_sequences=True, return_state=True)(masked)
        h = L.Concatenate()([L.GlobalAveragePooling1D()(out), *states])
        return keras.Model(sequence, dense(1)(h)), X, rng.normal(size=(N, 1)), "rnn"
    if setting.startswith("bidirectional"):
        bi = L.Bidirectional(rnn(kind, return_sequences=True), name="bi")
        model = keras.Model(sequence, dense(2)(bi(masked)))
        direction = (
            bi.forward_layer if setting.endswith("forward") else bi.backward_layer
        )
        return model, X, rng.normal(size=(N, T, 2)), direction
    if setting == "regularized":  # fit adds the regularizers' gradients
        h = rnn(
            kind,
            return_sequences=True,
            kernel_regularizer=keras.regularizers.L2(0.3),
            recurrent_regularizer=keras.regularizers.L2(0.5),
            bias_regularizer=keras.regularizers.L1(0.2),
            activity_regularizer=keras.regularizers.L2(0.1),
        )(masked)
        head = L.Dense(2, kernel_regularizer=keras.regularizers.L2(0.4), name="head")
        return keras.Model(sequence, head(h)), X, rng.normal(size=(N, T, 2)), "rnn"
    raise AssertionError(setting)


def assert_matches_fit(model, report, layer, expected):
    """Every weight gradient norm of the report equals the reference's, and
    the recurrent layer's Wxh, Whh, b and the head's kernel are reported."""
    cell = layer.cell
    names = {"Wxh": cell.kernel, "Whh": cell.recurrent_kernel, "b": cell.bias}
    # Why: the first kernel of a layer after the RNN (its wrapper) in model.layers
    wrapper = next(
        x
        for x in model.layers
        if layer in (x, getattr(x, "forward_layer", x), getattr(x, "backward_layer", x))
    )
    later = model.layers[model.layers.index(wrapper) + 1 :]
    names["Why"] = next(x.kernel for x in later if hasattr(x, "kernel"))
    got = report["weight_grad_norms"]
    assert set(names) <= set(got)
    scale = max(expected.values())
    for key, value in got.items():
        path = names[key].path if key in names else key
        np.testing.assert_allclose(
            value, expected[path], rtol=2e-4, atol=1e-6 * scale, err_msg=key
        )


SETTINGS = [
    "masked_sequence",
    "flat_sequence",
    "text_classifier",
    "backwards_sequence",
    "skip",
    "initial_state",
    "return_state",
    "bidirectional_forward",
    "bidirectional_backward",
    "regularized",
]


def weight_gradients_are_fits(setting, kind):
    """diagnose()'s weight gradient norms of one configuration equal the
    backend's autodiff of `compute_loss` on the real model."""
    model, x, y, layer = build(setting, kind)
    model.compile(optimizer="sgd", loss="mse")
    y = y.astype("float32")
    sw = SW_STEPS if y.ndim == 3 else SW
    report = diagnose(model, x, y, layer=layer, sample_weight=sw)
    layer = model.get_layer(layer) if isinstance(layer, str) else layer
    assert report["layer"] == layer.name
    assert_matches_fit(model, report, layer, fit_gradient_norms(model, x, y, sw))


# A probe batch padded with zeros at the end and masked (as JapaneseVowels:
# lengths 7-29 padded to T = 29): every row padded at T, and a mix of full,
# padded and empty rows (an empty row has no real step and is left out).
PAD_T = 9
LENGTHS = {"all_padded_at_T": [5, 7, 8, 6, 4, 8], "mixed": [9, 4, 9, 0, 6, 9]}


def padded(lengths, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(lengths), PAD_T, 3)).astype("float32")
    for row, length in enumerate(lengths):
        x[row, length:] = 0.0
    return x, rng.normal(size=(len(lengths), 2)).astype("float32")


def masked_model(kind="simple"):
    """Masking -> SimpleRNN (or LSTM) -> Dense, compiled with MSE."""
    inputs = keras.Input((None, 3))
    layer = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM}[kind]
    h = layer(
        5,
        kernel_initializer=keras.initializers.GlorotUniform(seed=1),
        recurrent_initializer=keras.initializers.Orthogonal(gain=1.2, seed=2),
        bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=3),
        name="rnn",
    )(keras.layers.Masking(0.0, name="mask")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(h))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def perturbation_grads(model, x, y):
    """(dL/ds_t (N, T, H), mask (N, T)) by the backend's autodiff (a tape on
    TensorFlow, jax.grad on JAX): the model's own Masking, cell and head,
    unrolled, with a zero perturbation e_t added to the carried state after
    each step, s_t = m_t cell(x_t, s_{t-1}) + (1 - m_t) s_{t-1} + e_t (h
    only), o_t = s_t where m_t, else o_{t-1}; L = mean over the batch of
    Keras' mean_squared_error(y, head(o_T)), the compiled loss."""
    rnn, head = model.get_layer("rnn"), model.get_layer("head")
    mask = keras.ops.convert_to_numpy(model.get_layer("mask").compute_mask(x))
    n, steps = mask.shape
    units = rnn.cell.units
    n_states = 2 if isinstance(rnn, keras.layers.LSTM) else 1

    def loss(perturbations):
        states = [keras.ops.zeros((n, units))] * n_states
        output = keras.ops.zeros((n, units))
        for t in range(steps):
            _, new = rnn.cell(keras.ops.convert_to_tensor(x[:, t]), states)
            keep = mask[:, t, None]
            pairs = zip(new, states, strict=True)
            new = [keras.ops.where(keep, a, b) for a, b in pairs]
            new[0] = new[0] + perturbations[t]
            output = keras.ops.where(keep, new[0], output)
            states = new
        return keras.ops.mean(keras.losses.mean_squared_error(y, head(output)))

    zeros = [np.zeros((n, units), "float32") for _ in range(steps)]
    if keras.backend.backend() == "tensorflow":
        perturbations = [tf.constant(z) for z in zeros]
        with tf.GradientTape() as tape:
            tape.watch(perturbations)
            value = loss(perturbations)
        grads = tape.gradient(value, perturbations)
    else:
        import jax

        grads = jax.grad(loss)(zeros)
    return np.stack([np.asarray(g, "float64") for g in grads], axis=1), mask


def first_to_last_ratio(grads, mask):
    """log10 ||[g at row n's first real step]_n|| / ||[g at its last]_n||,
    over the rows with a real step."""
    starts, ends = [], []
    for row, real in zip(grads, mask, strict=True):
        steps = np.flatnonzero(real)
        if steps.size:
            starts.append(row[steps[0]])
            ends.append(row[steps[-1]])
    return math.log10(np.linalg.norm(starts) / np.linalg.norm(ends))
