"""A differential harness for `diagnose`: Hypothesis draws random recurrent
models and each one's diagnosis must match a tape on the real model's loss.

The models are drawn from all the settings together: stacks of SimpleRNN,
FastSimpleRNN, LSTM and GRU with widths drawn from a small set (equal widths
come up often), Bidirectional, go_backwards, return_sequences, masks
(Masking, padded rows at both ends) under a pooling head that uses the mask
(GlobalAveragePooling1D), a head on the last output or per-step outputs
(Dense on the sequence), an initial state as a second model input, sample
weights, and a compiled "mse" or sparse categorical cross-entropy (softmax
classification head). One recurrent layer, or one direction of a
Bidirectional, is diagnosed.

The reference is a tf.GradientTape on `model.compute_loss` of the real model
(`tests/helpers.py`'s `fit_gradient_norms`: what `fit` differentiates), never
the replay's own numbers: every weight gradient norm diagnose reports (Whh of
the diagnosed layer above all) must equal the tape's, and the gradient norms
through time ||dL/dh_t|| must equal the tape's gradient with respect to the
states h_t that the real cell returns in Keras' loop, at the steps where no
row is masked (at a masked step the cell's output is discarded, so its
gradient is m_t dL/ds_t, which the norms of `diagnose` do not show).

LSTM and GRU diagnostics are TensorFlow-only, and so is this harness.
`make test` runs a few derandomized examples; `make fuzz` runs hundreds
(KERAS_RNNINIT_FUZZ_EXAMPLES).
"""

import dataclasses
import math
import os

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_rnninit.diagnostics import diagnose
from keras_rnninit.layers import FastSimpleRNN
from tests.helpers import Recurrent, fit_gradient_norms

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="LSTM and GRU diagnostics and the per-step reference are TensorFlow's",
)
EXAMPLES = int(os.environ.get("KERAS_RNNINIT_FUZZ_EXAMPLES", "10"))
N, FEATURES, CLASSES = 4, 3, 3
LAYERS = {
    "simple": keras.layers.SimpleRNN,
    "fast": FastSimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
# Both sides round in float32 (the reference's whole tape; diagnose's tape on
# the loss around the layer); the replay itself runs in float64. The longest
# float32 chain here is K = MAX_LAYERS x MAX_LENGTH steps x about 10
# operations per cell step, doubled for the way back. Rounding errors of such
# a chain add like a random walk: |relative error| <= LAMBDA sqrt(K) u,
# u = 2**-24, with a probability that LAMBDA = 5 makes all but certain
# (Higham and Mary, "A new approach to probabilistic rounding error analysis",
# SIAM J. Sci. Comput. 41(5), 2019). The two sides' errors add: RTOL = 1.1e-5
# (the largest error seen in 100 examples was 5e-7). A norm that cancels to a
# small value is compared at the scale of the model's largest gradient (ATOL
# x the largest).
MAX_LAYERS, MAX_LENGTH = 3, 6
K, LAMBDA = MAX_LAYERS * MAX_LENGTH * 10 * 2, 5.0
RTOL = 2 * LAMBDA * math.sqrt(K) * 2.0**-24
ATOL = RTOL


@dataclasses.dataclass(frozen=True)
class Spec:
    layers: tuple
    return_sequences: bool  # of the last recurrent layer
    head: str  # last (Dense on the final output), average (pooling), steps
    loss: str  # mse or sparse_categorical_crossentropy
    masked: bool
    initial_state: bool  # [x, h0] (LSTM: [x, h0, c0]) into the first layer
    sample_weight: bool
    length: int
    target: int  # the recurrent layer diagnosed
    direction: str | None  # forward or backward, when it is a Bidirectional


@st.composite
def specs(draw):
    layers = []
    for _ in range(draw(st.integers(1, MAX_LAYERS))):
        kind = draw(st.sampled_from(sorted(LAYERS)))
        units = draw(st.sampled_from([3, 5]))
        # Keras builds no Bidirectional of a go_backwards layer.
        bidirectional = draw(st.booleans())
        go_backwards = not bidirectional and draw(st.booleans())
        layers.append(Recurrent(kind, units, bidirectional, go_backwards))
    return_sequences = draw(st.booleans())
    head = draw(st.sampled_from(["average", "steps"])) if return_sequences else "last"
    target = draw(st.integers(0, len(layers) - 1))
    direction = (
        draw(st.sampled_from(["backward", "forward"]))
        if layers[target].bidirectional
        else None
    )
    return Spec(
        layers=tuple(layers),
        return_sequences=return_sequences,
        head=head,
        loss=draw(st.sampled_from(["mse", "sparse_categorical_crossentropy"])),
        masked=draw(st.booleans()),
        initial_state=not layers[0].bidirectional and draw(st.booleans()),
        sample_weight=draw(st.booleans()),
        length=draw(st.integers(1, MAX_LENGTH)),
        target=target,
        direction=direction,
    )


def _n_states(layer):
    return 2 if layer.kind == "lstm" else 1


def build(spec, seed=0):
    """(compiled model, the recurrent layer or direction to diagnose)."""
    keras.utils.set_random_seed(seed)
    sequence = keras.Input((None, FEATURES), name="sequence")
    inputs = [sequence]
    h = keras.layers.Masking()(sequence) if spec.masked else sequence
    made = []
    for index, layer in enumerate(spec.layers):
        last = index == len(spec.layers) - 1
        rnn = LAYERS[layer.kind](
            layer.units,
            return_sequences=spec.return_sequences or not last,
            go_backwards=layer.go_backwards,
        )
        if layer.bidirectional:
            rnn = keras.layers.Bidirectional(rnn)
        if index == 0 and spec.initial_state:
            states = [keras.Input((layer.units,)) for _ in range(_n_states(layer))]
            inputs += states
            h = rnn(h, initial_state=states)
        else:
            h = rnn(h)
        made.append(rnn)
    if spec.head == "average":
        h = keras.layers.GlobalAveragePooling1D()(h)
    if spec.loss == "mse":
        outputs = keras.layers.Dense(2)(h)
    else:
        outputs = keras.layers.Dense(CLASSES, activation="softmax")(h)
    model = keras.Model(inputs if len(inputs) > 1 else sequence, outputs)
    model.compile(optimizer="sgd", loss=spec.loss)
    layer = made[spec.target]
    if spec.direction is not None:
        layer = getattr(layer, f"{spec.direction}_layer")
    return model, layer


def keep_mask(spec):
    """(N, T) of the steps Masking keeps: the last row is padded at its end,
    the one before at its start (no row is padded whole)."""
    steps = spec.length
    keep = np.ones((N, steps), bool)
    if spec.masked and steps > 1:
        keep[-1, steps - max(1, steps // 3) :] = False
        if steps > 2:
            keep[-2, :1] = False
    return keep


def data(spec, seed=0):
    """(x, y, sample_weight) of the spec's model."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, spec.length, FEATURES)).astype("float32")
    x *= keep_mask(spec)[..., None]
    if spec.initial_state:
        first = spec.layers[0]
        given = rng.normal(scale=0.5, size=(_n_states(first), N, first.units))
        x = [x, *given.astype("float32")]
    rows = (N, spec.length) if spec.head == "steps" else (N,)
    if spec.loss == "mse":
        y = rng.normal(size=(*rows, 2)).astype("float32")
    else:
        y = rng.integers(0, CLASSES, size=rows)
    # Per-step outputs take per-step weights (Keras refuses (N,) with a mask).
    weights = rng.uniform(0.2, 2.0, size=rows).astype("float32")
    return x, y, weights if spec.sample_weight else None


def state_gradient_norms(model, x, y, sample_weight, layer):
    """||dL/dh_t||, t = 1..T in processing order, by a tape on `compute_loss`
    of the real model: the state h_t each step of Keras' loop gets from the
    real cell is recorded and differentiated. A FastSimpleRNN runs Keras'
    SimpleRNN loop here (its own loop does not call the cell; it matches
    that loop to float32 rounding, see tests/layers/test_fast_simple_rnn.py)."""
    import tensorflow as tf

    cell, recorded = layer.cell, []
    step = cell.call

    def call(*args, **kwargs):
        output, states = step(*args, **kwargs)
        recorded.append(output)  # the same tensor as the new state h_t
        return output, states

    object.__setattr__(cell, "call", call)
    if isinstance(layer, FastSimpleRNN):
        object.__setattr__(
            layer, "inner_loop", keras.layers.RNN.inner_loop.__get__(layer)
        )
    try:
        with tf.GradientTape() as tape:
            y_pred = model(x, training=False)
            loss = model.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight
            )
    finally:
        object.__delattr__(cell, "call")
        if isinstance(layer, FastSimpleRNN):
            object.__delattr__(layer, "inner_loop")
    steps = np.shape(x[0] if isinstance(x, list) else x)[1]
    # Keras' TensorFlow loop steps the cell once more before the loop (for
    # the output's shape); the last T calls are the steps.
    assert len(recorded) in (steps, steps + 1), len(recorded)
    states = recorded[-steps:]
    grads = tape.gradient(loss, states)
    return np.array(
        [
            0.0 if g is None else float(np.linalg.norm(np.asarray(g, "float64")))
            for g in grads
        ]
    )


def reported_paths(model, layer, report):
    """{variable path: norm} of the report's weight gradient norms (its
    short names Wxh, Whh, b, Why resolved to the variables)."""
    cell = layer.cell
    names = {"Wxh": cell.kernel, "Whh": cell.recurrent_kernel}
    if getattr(cell, "bias", None) is not None:
        names["b"] = cell.bias
    wrapper = next(
        x
        for x in model.layers
        if layer in (x, getattr(x, "forward_layer", x), getattr(x, "backward_layer", x))
    )
    later = model.layers[model.layers.index(wrapper) + 1 :]
    names["Why"] = next(
        x.kernel for x in later if getattr(x, "kernel", None) is not None
    )
    got = report["weight_grad_norms"]
    assert {"Wxh", "Whh", "Why"} <= set(got)
    return {(names[k].path if k in names else k): v for k, v in got.items()}


def check(spec):
    model, layer = build(spec)
    x, y, sample_weight = data(spec)
    report = diagnose(model, x, y, layer=layer, sample_weight=sample_weight)
    assert report["layer"] == layer.name
    expected = fit_gradient_norms(model, x, y, sample_weight)
    got = reported_paths(model, layer, report)
    scale = max(expected.values())
    whh = layer.cell.recurrent_kernel.path
    np.testing.assert_allclose(
        got[whh], expected[whh], rtol=RTOL, atol=ATOL * scale, err_msg="Whh"
    )
    for path, value in got.items():
        np.testing.assert_allclose(
            value, expected[path], rtol=RTOL, atol=ATOL * scale, err_msg=path
        )
    # Through time: the steps where no row is masked, in processing order.
    live = keep_mask(spec).all(axis=0)
    if layer.go_backwards:
        live = live[::-1]
    want = state_gradient_norms(model, x, y, sample_weight, layer)
    np.testing.assert_allclose(
        report["grad_norms"][live],
        want[live],
        rtol=RTOL,
        atol=ATOL * want.max(),
        err_msg="grad_norms",
    )


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(spec=specs())
def test_random_models_diagnose_as_a_tape_on_compute_loss(spec):
    check(spec)
