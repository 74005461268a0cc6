"""FastSimpleRNN against keras.layers.SimpleRNN with the same weights: every
constructor argument Keras accepts, forward and gradients, masks, dropout,
state, saving and export. Runs on every backend (on JAX FastSimpleRNN is
Keras' loop; the gradient checks that need a tape are TensorFlow's)."""

import math

import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN
from keras_rnninit.layers import FastSimpleRNN
from tests.helpers import Z, assert_variance, run_python
from tests.layers.helpers import X, assert_close, twins

RNG = np.random.default_rng(0)
TF = keras.backend.backend() == "tensorflow"
tf_only = pytest.mark.skipif(not TF, reason="GradientTape / TFLite: TensorFlow only")


CONFIGS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"activation": "relu"},
    {"activation": "sigmoid", "return_sequences": True},
    {"activation": "linear"},
    {"activation": "gelu"},  # no hand-written backward: Keras' loop
    {"use_bias": False},
    {"return_sequences": True, "return_state": True},
    {"unroll": True},
    {"dropout": 0.4, "recurrent_dropout": 0.3, "return_sequences": True},
    {"recurrent_dropout": 0.5, "go_backwards": True},
]


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("kwargs", CONFIGS)
def test_same_numbers_as_simple_rnn(kwargs, training):
    fast, slow = twins(**kwargs)
    assert_close(fast(X, training=training), slow(X, training=training))


def _gradients(layer, inputs, training, wrt_inputs=True):
    """Outputs, and gradients of a weighted loss w.r.t. the inputs (unless
    `wrt_inputs` is False: token inputs) and every trainable weight: a tape
    on TensorFlow, `jax.grad` of `stateless_call` on JAX."""
    if not TF:
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        fixed = [v.value for v in layer.non_trainable_variables]

        def loss(x, weights):
            out, _ = layer.stateless_call(weights, fixed, x, training=training)
            return sum(_weighted_sum(o) for o in keras.tree.flatten(out)), out

        argnums = (0, 1) if wrt_inputs else 1
        grads, out = jax.grad(loss, argnums=argnums, has_aux=True)(
            keras.ops.convert_to_tensor(inputs), trainable
        )
        grads = [grads[0], *grads[1]] if wrt_inputs else grads
        return keras.tree.flatten(out), grads
    import tensorflow as tf

    inputs = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out = keras.tree.flatten(layer(inputs, training=training))
        loss = sum(_weighted_sum(o) for o in out)
    sources = [inputs] if wrt_inputs else []
    return out, tape.gradient(loss, [*sources, *layer.trainable_variables])


def _weighted_sum(out):
    """A loss that weighs every output differently, so that no gradient term
    can hide behind a symmetric sum."""
    ops = keras.ops
    index = ops.reshape(ops.arange(ops.size(out), dtype=out.dtype), ops.shape(out))
    return ops.sum(ops.sin(out) * index / ops.cast(ops.size(out), out.dtype))


@pytest.mark.slow
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs", CONFIGS)
def test_same_gradients_as_simple_rnn(kwargs, training):
    # TensorFlow: training=True runs the XLA-compiled loops, False the plain
    # ones. JAX: the lax.scan kernel under jax.grad.
    fast, slow = twins(**kwargs)
    assert_close(_gradients(fast, X, training), _gradients(slow, X, training))


@pytest.mark.skipif(TF, reason="TensorFlow's: tests/layers/test_recurrence.py")
@pytest.mark.parametrize("kwargs", [{}, {"go_backwards": True}, {"activation": "relu"}])
def test_jax_gradient_penalty_matches_simple_rnn(kwargs):
    # Reverse-over-reverse through the custom_vjp kernel: d/dW |dL/dx|^2.
    import jax
    import jax.numpy as jnp

    def penalty_gradient(layer):
        fixed = [v.value for v in layer.non_trainable_variables]

        def loss(x, weights):
            out, _ = layer.stateless_call(weights, fixed, x, training=True)
            return _weighted_sum(out)

        def penalty(weights):
            return jnp.sum(jax.grad(loss)(jnp.asarray(X), weights) ** 2)

        return jax.grad(penalty)([v.value for v in layer.trainable_variables])

    assert_close(*(penalty_gradient(layer) for layer in twins(**kwargs)), rtol=1e-4)


@pytest.mark.parametrize("kwargs", CONFIGS)
def test_the_hand_written_kernel_runs_unless_keras_loop_is_needed(monkeypatch, kwargs):
    # Every comparison above would pass if FastSimpleRNN always ran Keras'
    # loop; this one checks which path actually ran.
    from keras_rnninit.layers import fast_simple_rnn as layers

    calls = []

    def spy(*args, **kw):
        calls.append(1)
        return kernel(*args, **kw)

    kernel = layers.recurrence
    monkeypatch.setattr(layers, "recurrence", spy)
    fast, _ = twins(**kwargs)
    fast(X, training=True)
    keras_loop = kwargs.get("unroll") or kwargs.get("activation") == "gelu"
    assert len(calls) == (0 if keras_loop else 1)


def test_the_cell_is_simple_rnns_and_the_only_one():
    fast, slow = twins()
    assert type(fast.cell) is keras.layers.SimpleRNNCell
    # Wrapping the cell in RNN computes the SimpleRNN function.
    assert_close(keras.layers.RNN(fast.cell)(X), slow(X))
    cells = [
        layer
        for layer in fast._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.SimpleRNNCell)
    ]
    assert cells == [fast.cell] and fast.cell.built
    assert len(fast.weights) == 3


def padded(left):
    """Token batches padded with 0 on the left or the right."""
    tokens = RNG.integers(1, 20, size=(4, 9))
    for row, length in enumerate((9, 6, 3, 1)):
        if left:
            tokens[row, : 9 - length] = 0
        else:
            tokens[row, length:] = 0
    return tokens


def masked_twins(left, **kwargs):
    """Embedding(mask_zero=True) -> FastSimpleRNN / SimpleRNN, same weights."""
    models = []
    for layer in twins(**kwargs):
        inputs = keras.Input((None,), dtype="int32")
        embedded = keras.layers.Embedding(20, 3, mask_zero=True)(inputs)
        outputs = layer(embedded)
        models.append(keras.Model(inputs, outputs))
    models[1].layers[1].set_weights(models[0].layers[1].get_weights())
    return models


MASK_CONFIGS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True, "return_sequences": True},
    {"activation": "relu", "return_sequences": True, "return_state": True},
    {"activation": "linear"},
    {"dropout": 0.3, "recurrent_dropout": 0.3, "return_sequences": True},
]


@pytest.mark.slow
@pytest.mark.parametrize("left", [True, False], ids=["left-padded", "right-padded"])
@pytest.mark.parametrize("kwargs", MASK_CONFIGS)
def test_masks_match_simple_rnn(kwargs, left):
    fast, slow = masked_twins(left, **kwargs)
    tokens = padded(left)
    assert_close(
        _gradients(fast, tokens, True, wrt_inputs=False),
        _gradients(slow, tokens, True, wrt_inputs=False),
    )


@pytest.mark.parametrize("left", [True, False], ids=["left-padded", "right-padded"])
def test_zero_output_for_mask_inside_bidirectional(left):
    # Bidirectional sets zero_output_for_mask = return_sequences.
    models = []
    for layer in twins(return_sequences=True):
        inputs = keras.Input((None,), dtype="int32")
        embedded = keras.layers.Embedding(20, 3, mask_zero=True)(inputs)
        models.append(keras.Model(inputs, keras.layers.Bidirectional(layer)(embedded)))
    models[1].set_weights(models[0].get_weights())
    tokens = padded(left)
    out = np.asarray(models[0](tokens))
    assert_close(out, models[1](tokens))
    assert np.all(out[tokens == 0] == 0.0)


@pytest.mark.parametrize("training", [False, True])
def test_initial_state_and_masking_layer(training):
    x = X.copy()
    x[1, 6:] = 0.0
    x[2, :4] = 0.0
    h0 = RNG.normal(size=(4, 6)).astype("float32")
    outputs = []
    for layer in twins(return_sequences=True, return_state=True):
        inputs = keras.Input((9, 3))
        state = keras.Input((6,))
        y = layer(keras.layers.Masking()(inputs), initial_state=state)
        outputs.append(keras.Model([inputs, state], y)([x, h0], training=training))
    assert_close(*outputs)


def test_stateful_matches_simple_rnn_across_calls():
    fast, slow = twins(stateful=True, return_sequences=True)
    for _ in range(3):
        assert_close(fast(X, training=True), slow(X, training=True))
    assert_close(fast.states, slow.states)
    first = np.asarray(fast(X))
    fast.reset_states()
    slow.reset_states()
    assert_close(fast(X), slow(X))
    assert not np.allclose(fast(X), first)


def test_stateful_with_mask_and_dropout_matches_simple_rnn():
    x = X.copy()
    x[1, 5:] = 0.0  # right padding
    x[2, :3] = 0.0  # left padding
    models = []
    for layer in twins(
        stateful=True, return_sequences=True, dropout=0.3, recurrent_dropout=0.3
    ):
        inputs = keras.Input(batch_shape=(4, 9, 3))
        models.append(keras.Model(inputs, layer(keras.layers.Masking()(inputs))))
    for _ in range(2):  # the second call starts from the first call's state
        assert_close(*(m(x, training=True) for m in models))
    assert_close(models[0].layers[-1].states, models[1].layers[-1].states)
    assert_close(*(_gradients(m, x, True) for m in models))


def _output_statistic(layer, n, training, seed):
    """One scalar per sequence (independent across sequences): the final
    output projected on a fixed direction."""
    x = np.random.default_rng(seed).normal(size=(n, 12, 3)).astype("float32")
    out = np.asarray(layer(x, training=training), "float64")
    return out @ np.linspace(-1.0, 1.0, out.shape[-1])


def _variance_and_se(samples):
    """Sample variance and its standard error sqrt((mu4 - var^2) / n)."""
    centred = samples - samples.mean()
    var = float(np.mean(centred**2))
    return var, math.sqrt((float(np.mean(centred**4)) - var**2) / samples.size)


@pytest.mark.slow
def test_dropout_output_variance_matches_simple_rnn_within_sampling_error():
    # Different dropout seeds: the two variances are independent estimates of
    # the same quantity when FastSimpleRNN applies Keras' dropout semantics.
    n = 4096
    rates = {"dropout": 0.5, "recurrent_dropout": 0.5}
    fast = FastSimpleRNN(16, seed=0, **rates)
    slow = keras.layers.SimpleRNN(16, seed=123, **rates)
    fast.build((None, 12, 3))
    slow.build((None, 12, 3))
    slow.set_weights(fast.get_weights())
    v_fast, se_fast = _variance_and_se(_output_statistic(fast, n, True, 1))
    v_slow, se_slow = _variance_and_se(_output_statistic(slow, n, True, 2))
    assert abs(v_fast - v_slow) < Z * math.hypot(se_fast, se_slow)
    # ... and dropout really acts: inference (no dropout) differs by far more.
    v_off, se_off = _variance_and_se(_output_statistic(fast, n, False, 3))
    assert abs(v_fast - v_off) > Z * math.hypot(se_fast, se_off)


@pytest.mark.slow
def test_same_training_step_as_simple_rnn():
    results = []
    for layer in twins(dropout=0.2, recurrent_dropout=0.2):
        model = keras.Sequential([keras.Input((None, 3)), layer, keras.layers.Dense(1)])
        model.layers[-1].set_weights(
            [np.ones((6, 1), "float32"), np.zeros(1, "float32")]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        y = np.ones((4, 1), "float32")
        model.fit(X, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
        results.append(model.get_weights())
    assert_close(*results)


def test_defaults_to_xavier_rnn_and_keeps_simple_rnn_config():
    fast = FastSimpleRNN(256, seed=1, dropout=0.25, recurrent_dropout=0.5)
    fast.build((None, None, 256))
    assert isinstance(fast.cell.kernel_initializer, XavierRNN)
    assert_variance(
        np.asarray(fast.cell.recurrent_kernel, "float64"), 1 / 256, 3 / 256**2
    )
    config = fast.get_config()
    assert set(config) == set(keras.layers.SimpleRNN(4).get_config()) | {"jit_compile"}
    assert (config["dropout"], config["recurrent_dropout"]) == (0.25, 0.5)
    assert config["jit_compile"] == "auto"
    rebuilt = FastSimpleRNN.from_config(config)
    assert rebuilt.get_config() == config
    assert (
        keras.saving.get_registered_name(FastSimpleRNN) == "keras_rnninit>FastSimpleRNN"
    )


@pytest.mark.parametrize("value", ["yes", None, 1, "AUTO"])
def test_jit_compile_must_be_auto_or_a_bool(value):
    with pytest.raises(ValueError, match="`jit_compile` must be one of 'auto', Fa"):
        FastSimpleRNN(4, jit_compile=value)


@pytest.mark.slow
@tf_only
def test_keras_file_in_fresh_process_and_tflite_export(tmp_path):
    from keras_rnninit.export import TFLiteRunner, export_tflite, non_builtin_ops

    inputs = keras.Input((None, 3), name="sequence")
    rates = {"dropout": 0.3, "recurrent_dropout": 0.3}
    rnn = FastSimpleRNN(6, seed=0, jit_compile=False, **rates)
    model = keras.Model(inputs, keras.layers.Dense(1)(rnn(inputs)))
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, np.ones((4, 1), "float32"), epochs=2, verbose=0)
    path = tmp_path / "fast.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", model.predict(X, verbose=0))
    script = (
        "import sys, numpy as np, keras, keras_rnninit\n"
        "m = keras.saving.load_model(sys.argv[1])\n"
        "layer = m.layers[1]\n"
        "assert type(layer).__name__ == 'FastSimpleRNN'\n"
        "assert layer.jit_compile is False and layer.dropout == 0.3\n"
        "assert [type(c).__name__ for c in layer._flatten_layers(include_self=False)]"
        " == ['SimpleRNNCell']\n"
        "assert np.array_equal(m.predict(np.load(sys.argv[2]), verbose=0), "
        "np.load(sys.argv[3]))\n"
    )
    done = run_python(
        "-c",
        script,
        str(path),
        str(tmp_path / "x.npy"),
        str(tmp_path / "y.npy"),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Trained with dropout, exported with dropout off: Keras' inference numbers.
    report = export_tflite(path, tmp_path / "fast.tflite")
    assert non_builtin_ops(report.ops) == [] and "WHILE" in report.ops
    np.testing.assert_allclose(
        TFLiteRunner(report.path)(X), model.predict(X, verbose=0), atol=1e-5
    )


@pytest.mark.slow
@tf_only
def test_masked_model_exports(tmp_path):
    from keras_rnninit.export import TFLiteRunner, export_tflite

    inputs = keras.Input((None, 3), name="sequence")
    masked = keras.layers.Masking()(inputs)
    model = keras.Model(inputs, FastSimpleRNN(6, seed=0)(masked))
    path = tmp_path / "masked.keras"
    model.save(path)
    x = X.copy()
    x[1, 5:] = 0.0
    report = export_tflite(path, tmp_path / "masked.tflite")
    np.testing.assert_allclose(
        TFLiteRunner(report.path)(x), model.predict(x, verbose=0), atol=1e-5
    )
