import keras
import numpy as np
import pytest

from keras_rnninit import XavierRNN
from keras_rnninit.export import TFLiteRunner, export_tflite, non_builtin_ops
from keras_rnninit.layers import FastSimpleRNN
from tests.helpers import assert_variance, run_python

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 9, 3)).astype("float32")


def twins(**kwargs):
    """A FastSimpleRNN and a keras SimpleRNN with the same weights."""
    fast = FastSimpleRNN(6, seed=0, **kwargs)
    slow = keras.layers.SimpleRNN(6, **kwargs)
    fast.build(X.shape)
    slow.build(X.shape)
    slow.set_weights(fast.get_weights())
    return fast, slow


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_sequences": True},
        {"go_backwards": True},
        {"activation": "relu"},
        {"use_bias": False},
        {"return_sequences": True, "return_state": True},
    ],
)
def test_same_numbers_as_simple_rnn(kwargs):
    fast, slow = twins(**kwargs)
    got, expected = fast(X), slow(X)
    for a, b in zip(keras.tree.flatten(got), keras.tree.flatten(expected), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_masking_matches_simple_rnn():
    x = X.copy()
    x[0, 5:] = 0.0
    models = []
    for layer in twins(return_sequences=True):
        inputs = keras.Input((None, 3))
        models.append(keras.Model(inputs, layer(keras.layers.Masking()(inputs))))
    np.testing.assert_allclose(models[0](x), models[1](x), atol=1e-5)


def test_same_training_step_as_simple_rnn():
    results = []
    for layer in twins():
        model = keras.Sequential([keras.Input((None, 3)), layer, keras.layers.Dense(1)])
        model.layers[-1].set_weights(
            [np.ones((6, 1), "float32"), np.zeros(1, "float32")]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(X, np.ones((4, 1), "float32"), batch_size=4, epochs=3, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_defaults_to_xavier_rnn_and_keeps_simple_rnn_config():
    fast = FastSimpleRNN(256, seed=1)
    fast.build((None, None, 256))
    assert isinstance(fast.cell.kernel_initializer, XavierRNN)
    assert_variance(
        np.asarray(fast.cell.recurrent_kernel, "float64"), 1 / 256, 3 / 256**2
    )
    config = fast.get_config()
    assert set(config) == set(keras.layers.SimpleRNN(4).get_config())
    rebuilt = FastSimpleRNN.from_config(config)
    assert rebuilt.get_config() == config
    assert (
        keras.saving.get_registered_name(FastSimpleRNN) == "keras_rnninit>FastSimpleRNN"
    )


def test_stateful():
    inputs = keras.Input(batch_shape=(4, 9, 3))
    layer = FastSimpleRNN(5, stateful=True, seed=0)
    model = keras.Model(inputs, layer(inputs))
    first, second = np.asarray(model(X)), np.asarray(model(X))
    assert not np.allclose(first, second)
    layer.reset_states()
    np.testing.assert_allclose(model(X), first, atol=1e-6)


def test_dropout_is_refused():
    with pytest.raises(ValueError, match="`dropout` must be 0 for FastSimpleRNN"):
        FastSimpleRNN(4, dropout=0.2)
    with pytest.raises(ValueError, match="`recurrent_dropout` must be 0"):
        FastSimpleRNN(4, recurrent_dropout=0.2)


def test_keras_file_in_fresh_process_and_tflite_export(tmp_path):
    inputs = keras.Input((None, 3), name="sequence")
    model = keras.Model(inputs, keras.layers.Dense(1)(FastSimpleRNN(6, seed=0)(inputs)))
    path = tmp_path / "fast.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", model.predict(X, verbose=0))
    script = (
        "import sys, numpy as np, keras, keras_rnninit\n"
        "m = keras.saving.load_model(sys.argv[1])\n"
        "assert type(m.layers[1]).__name__ == 'FastSimpleRNN'\n"
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
    report = export_tflite(path, tmp_path / "fast.tflite")
    assert non_builtin_ops(report.ops) == [] and "WHILE" in report.ops
    assert report.max_abs_error <= 1e-5
    np.testing.assert_allclose(
        TFLiteRunner(report.path)(X), model.predict(X, verbose=0), atol=1e-5
    )


def _gradients(layer, x, training):
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, training=training)
        # A loss that weighs every output differently, so that no gradient
        # term can hide behind a symmetric sum.
        weights = tf.reshape(
            tf.range(tf.size(out), dtype=out.dtype) / tf.cast(tf.size(out), out.dtype),
            tf.shape(out),
        )
        loss = tf.reduce_sum(tf.sin(out) * weights)
    return tape.gradient(loss, [x, *layer.trainable_variables])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_sequences": True},
        {"go_backwards": True, "return_sequences": True},
        {"activation": "relu"},
        {"activation": "sigmoid", "return_sequences": True},
        {"activation": "linear"},
        {"activation": "gelu"},  # no hand-written backward: Keras' loop
        {"use_bias": False},
    ],
)
def test_same_gradients_as_simple_rnn(kwargs, training):
    # training=True runs the XLA-compiled loops, False the plain ones.
    fast, slow = twins(**kwargs)
    got, expected = _gradients(fast, X, training), _gradients(slow, X, training)
    for a, b in zip(got, expected, strict=True):
        scale = float(np.max(np.abs(b))) or 1.0
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * scale)
