"""diagnose() differentiates the loss `fit` minimises, whatever surrounds the RNN.

The reference is the backend's autodiff on the REAL model (the real recurrent
layer runs): L = model.compute_loss(x, y, model(x), sample_weight), the
function `fit` differentiates (TensorFlow: a tape on it; JAX: jax.grad of
`compute_loss_and_updates`, JAX's train step). The matrix: masks with a
pooling head and with per-step outputs, sample weights, a "sum" reduction,
an explicit `loss=`, SimpleRNN, LSTM and GRU, go_backwards, a skip connection,
several inputs ([x, h0, c0] as initial state), return_state, each direction
of a Bidirectional, regularizers and a model with two outputs. The gradients
through time are checked against a tape on per-step perturbation variables of
an unrolled run of the real cell, with the loss written as Keras' formula.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rnninit.diagnostics import (
    diagnose,
)
from tests.diagnostics import helpers as fit_loss
from tests.diagnostics.helpers import (
    KEEP,
    KINDS,
    SETTINGS,
    SW,
    SW_STEPS,
    TOKENS,
    D,
    H,
    N,
    T,
    X,
    assert_matches_fit,
    build,
    dense,
    rnn,
    weight_gradients_are_fits,
    y_one,
)
from tests.helpers import fit_gradient_norms, to_numpy

# A Flatten head drops the mask on purpose (the masked outputs then count).
pytestmark = pytest.mark.filterwarnings("ignore:.*destroy the mask:UserWarning")


TENSORFLOW = keras.backend.backend() == "tensorflow"


RNG = np.random.default_rng(12)


L = keras.layers


def two_outputs(kind):
    sequence = keras.Input((T, D))
    h = rnn(kind, return_sequences=True)(L.Masking(0.0)(sequence))
    steps = dense(1, "head")(h)
    pooled = dense(2, "pooled")(L.GlobalAveragePooling1D()(h))
    model = keras.Model(sequence, {"steps": steps, "pooled": pooled})
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss={"steps": "mse", "pooled": "mae"},
        loss_weights={"steps": 1.0, "pooled": 0.5},
    )
    y = {
        "steps": RNG.normal(size=(N, T, 1)).astype("float32"),
        "pooled": RNG.normal(size=(N, 2)).astype("float32"),
    }
    return model, y


def perturbed_state_gradients(layer, seq, mask, loss_of):
    """dL/dh_t, t = 1..T, (N, T, H): the real cell stepped by TensorFlow with
    a zero perturbation e_t, watched by the tape, added to each new state:
    s_t = m_t cell(x_t, s_{t-1}) + (1 - m_t) s_{t-1} + e_t (h only), and the
    output o_t = s_t where m_t, else o_{t-1} (0 with zero_output_for_mask);
    L = loss_of(o)."""

    cell = layer.cell
    states = [tf.zeros((N, H)) for _ in range(2 if isinstance(layer, L.LSTM) else 1)]
    perturbations = [tf.zeros((N, H)) for _ in range(T)]
    with tf.GradientTape() as tape:
        tape.watch(perturbations)
        output, outputs = tf.zeros((N, H)), []
        for t in range(T):
            _, new = cell(tf.constant(seq[:, t], tf.float32), states)
            keep = tf.constant(mask[:, t, None])
            new = [tf.where(keep, a, b) for a, b in zip(new, states, strict=True)]
            new[0] = new[0] + perturbations[t]
            carried = 0.0 * output if layer.zero_output_for_mask else output
            output = tf.where(keep, new[0], carried)
            states = new
            outputs.append(output)
        loss = loss_of(tf.stack(outputs, axis=1))
    grads = tape.gradient(loss, perturbations)
    return np.stack([g.numpy() for g in grads], axis=1)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("setting", SETTINGS)
def test_weight_gradients_are_fits(setting, kind):
    weight_gradients_are_fits(setting, kind)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("setting", ["masked_sequence", "text_classifier"])
def test_sum_reduction_and_explicit_loss(setting, kind):
    model, x, y, layer = build(setting, kind)
    y = y.astype("float32")
    # An explicit `loss` on an uncompiled model is fit's loss after
    # compile(loss=...): the output mask applies to it as well.
    report = diagnose(model, x, y, loss="mse")
    model.compile(optimizer="sgd", loss="mse")
    assert_matches_fit(
        model, report, model.get_layer(layer), fit_gradient_norms(model, x, y)
    )
    summed = keras.losses.MeanSquaredError(reduction="sum")
    model.compile(optimizer="sgd", loss=summed)
    report = diagnose(model, x, y)
    assert_matches_fit(
        model, report, model.get_layer(layer), fit_gradient_norms(model, x, y)
    )
    # `loss=` given to a compiled model replaces its loss (here: the mean).
    report = diagnose(model, x, y, loss="mse")
    model.compile(optimizer="sgd", loss="mse")
    assert_matches_fit(
        model, report, model.get_layer(layer), fit_gradient_norms(model, x, y)
    )


@pytest.mark.parametrize("pred_rank, true_rank", [(1, 2), (2, 1)])
def test_explicit_loss_brings_y_to_the_rank_compile_does(pred_rank, true_rank):
    # Review of issue 40: y_true (N, 1) against y_pred (N,) was squeezed to
    # (N,) where compile's wrapper expands y_pred to (N, 1); with sample
    # weights the loss differed (a norm of 4.47 against fit's 1.66).
    sequence = keras.Input((T, D))
    out = dense(1)(rnn("simple")(sequence))
    if pred_rank == 1:
        out = L.Lambda(lambda z: keras.ops.squeeze(z, -1), name="squeeze")(out)
    model = keras.Model(sequence, out)
    y = y_one(RNG).astype("float32").reshape((N, 1) if true_rank == 2 else (N,))
    report = diagnose(model, X, y, loss="mse", sample_weight=SW)
    model.compile(optimizer="sgd", loss="mse")
    assert_matches_fit(
        model, report, model.get_layer("rnn"), fit_gradient_norms(model, X, y, SW)
    )


@pytest.mark.slow
@pytest.mark.parametrize("diagnosed", ["first", "second"])
def test_stacked_stateful_layers_start_from_trainings_state(diagnosed):
    # Review of issue 40: the run that captures the first layer's arguments
    # advanced the second layer's state before the loss was differentiated
    # (Why 1.575 against fit's 1.850).
    sequence = keras.Input((T, D), batch_size=N)
    h = rnn("simple", name="first", stateful=True, return_sequences=True)(sequence)
    h = rnn("simple", name="second", stateful=True)(h)
    model = keras.Model(sequence, dense(1)(h))
    model.compile(optimizer="sgd", loss="mse")
    layers = [model.get_layer("first"), model.get_layer("second")]
    for layer in layers:  # the state an earlier batch left
        layer.states[0].assign(RNG.normal(scale=0.5, size=(N, H)).astype("float32"))
    before = [to_numpy(layer.states[0]) for layer in layers]
    y = y_one(RNG).astype("float32")
    report = diagnose(model, X, y, layer=diagnosed, sample_weight=SW)
    for layer, state in zip(layers, before, strict=True):
        np.testing.assert_array_equal(to_numpy(layer.states[0]), state)
    expected = fit_gradient_norms(model, X, y, SW)
    assert_matches_fit(model, report, model.get_layer(diagnosed), expected)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_two_outputs_and_the_logged_losses_stay_fits(kind):
    from keras_rnninit.diagnostics.callbacks import RNNDiagnostics

    model, y = two_outputs(kind)
    report = diagnose(model, X, y)
    assert_matches_fit(
        model, report, model.get_layer("rnn"), fit_gradient_norms(model, X, y)
    )
    with pytest.raises(ValueError, match="`loss` must be None .* several outputs"):
        diagnose(model, X, y, loss="mse")
    # Diagnosing after every batch leaves the per-output loss trackers alone.
    start = model.get_weights()
    plain = model.fit(X, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
    model.set_weights(start)
    watched = model.fit(
        X,
        y,
        batch_size=2,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[RNNDiagnostics((X, y), every_n_batches=1)],
    )
    for key in ("loss", "steps_loss", "pooled_loss"):
        assert watched.history[key] == pytest.approx(plain.history[key], rel=1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not TENSORFLOW, reason="the reference steps the cell under a tape")
@pytest.mark.parametrize(
    "setting, kind, reduction",
    [
        ("masked_sequence", "simple", "sum_over_batch_size"),
        ("masked_sequence", "gru", "sum_over_batch_size"),
        ("masked_sequence", "lstm", "sum"),
        ("text_classifier", "lstm", "sum_over_batch_size"),
        ("text_classifier", "simple", "sum_over_batch_size"),
        ("flat_sequence", "simple", "sum_over_batch_size"),
        ("flat_sequence", "gru", "sum"),
    ],
)
def test_gradients_through_time_match_perturbations(setting, kind, reduction):

    model, x, y, _ = build(setting, kind)
    y = tf.constant(y, tf.float32)
    layer, head = model.get_layer("rnn"), model.get_layer("head")
    model.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError(reduction))
    if setting == "masked_sequence":
        seq, mask, sw = X, KEEP, SW_STEPS

        def loss_of(outputs):  # per step: (w m l) summed, over sum(m) for a mean
            per_step = tf.reduce_mean((head(outputs) - y) ** 2, axis=-1)
            total = tf.reduce_sum(sw * mask * per_step)
            return total if reduction == "sum" else total / mask.sum()

    elif setting == "flat_sequence":
        seq, mask, sw = X, KEEP, SW
        flatten = next(x for x in model.layers if isinstance(x, L.Flatten))

        def loss_of(outputs):  # no mask reaches the loss: w * mse, mean or sum
            per_row = sw * tf.reduce_mean((head(flatten(outputs)) - y) ** 2, axis=-1)
            total = tf.reduce_sum(per_row)
            return total if reduction == "sum" else total / N

    else:
        seq = keras.ops.convert_to_numpy(model.get_layer("emb")(TOKENS))
        mask, sw = TOKENS != 0, SW
        pool = next(x for x in model.layers if isinstance(x, L.GlobalAveragePooling1D))

        def loss_of(outputs):  # mean over the batch of w * mse
            pred = head(pool(outputs, mask=tf.constant(mask)))
            return tf.reduce_mean(sw * tf.reduce_mean((pred - y) ** 2, axis=-1))

    report = diagnose(model, x, y.numpy(), sample_weight=sw)
    want = perturbed_state_gradients(layer, seq, mask, loss_of)
    norms = np.array([np.linalg.norm(want[:, t]) for t in range(T)])
    np.testing.assert_allclose(
        report["grad_norms"], norms, rtol=0, atol=2e-4 * norms.max()
    )
    assert np.all(norms > 0)


def test_refusals_are_one_line():
    shared = rnn("simple")
    first, second = keras.Input((T, D)), keras.Input((T, D))
    both = L.Concatenate()([shared(first), shared(second)])
    model = keras.Model([first, second], dense(1)(both))
    y = RNG.normal(size=(N, 1)).astype("float32")
    with pytest.raises(ValueError, match="called once .* called 2 times$") as found:
        diagnose(model, [X, X], y)
    assert "\n" not in str(found.value)
    other, *_ = build("masked_sequence", "simple")
    with pytest.raises(ValueError, match="`layer` must be a layer of the model"):
        diagnose(model, [X, X], y, layer=other.get_layer("rnn"))


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow",
    reason="tests/diagnostics/test_fit_loss.py runs this matrix under TensorFlow",
)
@pytest.mark.parametrize("setting", fit_loss.SETTINGS)
def test_fit_loss_matrix_under_other_backends(setting):
    # SimpleRNN diagnostics run on JAX too: masks, pooling heads, sample
    # weights, skip connections, several inputs, Bidirectional directions.
    fit_loss.weight_gradients_are_fits(setting, "simple")
