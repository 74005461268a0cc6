"""The recurrence kernel behind FastSimpleRNN: its hand-written gradients
(first and second order) against autodiff of an unrolled loop, with and
without XLA, masks and recurrent dropout."""

import json

import keras
import numpy as np
import pytest

from keras_rnninit.layers import FastSimpleRNN
from keras_rnninit.layers.recurrence import tensorflow as recurrence
from tests.helpers import run_python
from tests.layers.helpers import X, assert_close, twins

TF = keras.backend.backend() == "tensorflow"


tf_only = pytest.mark.skipif(not TF, reason="the kernel is TensorFlow's")


CONFIGS = [
    {},
    {"go_backwards": True, "return_sequences": True},
    {"activation": "sigmoid"},
    {"activation": "relu", "return_sequences": True},
    {"dropout": 0.3, "recurrent_dropout": 0.3},
]


def _loss(out):
    """sin of every output, each weighted differently."""
    import tensorflow as tf

    index = tf.cast(tf.reshape(tf.range(tf.size(out)), tf.shape(out)), out.dtype)
    return tf.reduce_sum(tf.sin(out) * (1.0 + index / 10.0))


def gradient_penalty(layer, x, training):
    """d/dW ||dL/dx||^2 (and the penalty itself)."""
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            loss = _loss(layer(x, training=training))
        dx = inner.gradient(loss, x)
        penalty = tf.reduce_sum(dx * dx)
    return [penalty, *outer.gradient(penalty, layer.trainable_variables)]


def hessian_vector_product(layer, x, training):
    """H v for the Hessian of L in the layer's weights, v fixed."""
    import tensorflow as tf

    weights = layer.trainable_variables
    vector = [
        tf.constant(np.cos(np.arange(np.prod(w.shape))).reshape(w.shape), w.dtype)
        for w in weights
    ]
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = _loss(layer(x, training=training))
        grads = inner.gradient(loss, weights)
        dot = tf.add_n(
            [tf.reduce_sum(g * v) for g, v in zip(grads, vector, strict=True)]
        )
    return outer.gradient(dot, weights)


class Masked(keras.layers.Layer):
    """Calls an RNN layer with a fixed mask."""

    def __init__(self, rnn, mask):
        super().__init__()
        self.rnn, self.mask = rnn, mask

    def call(self, x, training=None):
        return self.rnn(x, mask=self.mask, training=training)


class PenalizedModel(keras.Model):
    """A custom train_step with a gradient penalty on the inputs."""

    def train_step(self, data):
        import tensorflow as tf

        x, y = data
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                prediction = self(x, training=True)
                loss = tf.reduce_mean((prediction - y) ** 2)
            dx = inner.gradient(loss, x)
            total = loss + 10.0 * tf.reduce_sum(dx * dx)
        grads = outer.gradient(total, self.trainable_variables)
        self.optimizer.apply_gradients(
            zip(grads, self.trainable_variables, strict=True)
        )
        return {"loss": total}


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty set of compiled shapes, capped at 2."""
    monkeypatch.setattr(recurrence, "_compiled", set())
    monkeypatch.setattr(recurrence, "MAX_COMPILED_SHAPES", 2)
    return recurrence._compiled


SCRIPT = r"""
import json, sys
import numpy as np, keras, tensorflow as tf
mode = sys.argv[1]
if mode == "determinism":
    tf.config.experimental.enable_op_determinism()
    strategy = tf.distribute.get_strategy()
else:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
from keras_rnninit.layers.recurrence import tensorflow as recurrence
from keras_rnninit.layers import FastSimpleRNN

x = np.random.default_rng(0).normal(size=(8, 7, 3)).astype("float32")
y = np.random.default_rng(1).normal(size=(8, 1)).astype("float32")

class Fixed(keras.initializers.Initializer):
    def __init__(self, value):
        self.value = value
    def __call__(self, shape, dtype=None):
        return keras.ops.convert_to_tensor(self.value, dtype)

# FastSimpleRNN(seed=0) starts from these weights in every process.
probe = FastSimpleRNN(5, seed=0)
probe.build((None, 7, 3))
kernel, recurrent = probe.get_weights()[:2]

def fit(fast):
    keras.utils.set_random_seed(0)  # the Dense layer's weights
    with strategy.scope():
        inputs = keras.Input((7, 3))
        layer = FastSimpleRNN(5, seed=0) if fast else keras.layers.SimpleRNN(
            5, seed=0, kernel_initializer=Fixed(kernel),
            recurrent_initializer=Fixed(recurrent))
        model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return model, layer

fast_model, fast_layer = fit(True)
slow_model, _ = fit(False)
again_model, _ = fit(True)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "uses_xla": fast_layer.uses_xla(True),
    "compiled": len(recurrence._compiled),
    "vs_simple_rnn": max(float(np.max(np.abs(a - b))) for a, b in zip(
        fast_model.get_weights(), slow_model.get_weights())),
    "repeat_identical": all(np.array_equal(a, b) for a, b in zip(
        fast_model.get_weights(), again_model.get_weights())),
}))
"""


def test_backends_with_a_kernel():
    from keras_rnninit.layers.recurrence import supported

    assert supported("tanh") is (keras.backend.backend() in ("jax", "tensorflow"))


def test_hand_written_backward_covers_the_usual_activations():
    from keras_rnninit.layers.recurrence import supported

    for activation in (
        "tanh",
        "relu",
        "sigmoid",
        "linear",
        None,
        keras.activations.tanh,
    ):
        assert supported(activation)
    for activation in ("gelu", "softplus", lambda z: z * 2.0):
        assert not supported(activation)


@pytest.mark.slow
@tf_only
@pytest.mark.parametrize("extras", ["plain", "mask", "dropout", "mask+dropout"])
@pytest.mark.parametrize("compile", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_recurrence_matches_autodiff_of_an_unrolled_loop(activation, compile, extras):
    import tensorflow as tf

    from keras_rnninit.layers.recurrence import recurrence

    rng = np.random.default_rng(1)
    p = tf.constant(rng.normal(size=(7, 3, 5)), "float32")
    h0 = tf.constant(rng.normal(size=(3, 5)), "float32")
    w = tf.Variable(rng.normal(size=(5, 5)) / np.sqrt(5), dtype="float32")
    weights = tf.constant(rng.normal(size=(7, 3, 5)), "float32")
    mask = r = None
    if "mask" in extras:  # left padding, a gap, right padding
        mask = tf.constant(rng.random((7, 3)) > 0.4)
    if "dropout" in extras:
        r = tf.constant((rng.random((3, 5)) > 0.3) / 0.7, "float32")
    act = keras.activations.get(activation)

    def unrolled():
        s, states = h0, []
        for t in range(7):
            new = act(p[t] + tf.matmul(s if r is None else s * r, w))
            s = new if mask is None else tf.where(mask[t][:, None], new, s)
            states.append(s)
        return tf.stack(states)

    def kernel():
        return recurrence(
            p, h0, w, activation, mask=mask, recurrent_mask=r, compile=compile
        )

    results = []
    for fn in (kernel, unrolled):
        # First order, and second order: d/dw of |dL/dp|^2 + |dL/dh0|^2.
        with tf.GradientTape() as outer:
            with tf.GradientTape() as tape:
                tape.watch([p, h0])
                hs = fn()
                loss = tf.reduce_sum(tf.cos(hs) * weights)
            grads = tape.gradient(loss, [p, h0, w])
            penalty = tf.reduce_sum(grads[0] ** 2) + tf.reduce_sum(grads[1] ** 2)
        results.append([hs, *grads, outer.gradient(penalty, w)])
    for got, want in zip(*results, strict=True):
        scale = float(np.max(np.abs(want))) or 1.0
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)


@tf_only
def test_recurrence_refuses_an_activation_without_a_written_derivative():
    from keras_rnninit.layers.recurrence import recurrence

    x = np.zeros((2, 1, 3), "float32")
    with pytest.raises(ValueError, match="`activation` must be one of tanh, relu"):
        recurrence(x, x[0], np.zeros((3, 3), "float32"), "gelu")


def test_a_time_by_batch_mask_means_the_same_on_every_backend():
    # B == H == 3, so a mask broadcast along the wrong axis would still run.
    from keras_rnninit.layers.recurrence import recurrence

    rng = np.random.default_rng(2)
    p = rng.normal(size=(6, 3, 3)).astype("float32")
    h0 = rng.normal(size=(3, 3)).astype("float32")
    w = (rng.normal(size=(3, 3)) / 2).astype("float32")
    mask = rng.random((6, 3)) > 0.5
    flat = recurrence(p, h0, w, "tanh", mask=mask)
    expected = h0.astype("float64")
    for t in range(6):
        new = np.tanh(p[t] + expected @ w)
        expected = np.where(mask[t][:, None], new, expected)
        np.testing.assert_allclose(flat[t], expected, atol=1e-5)


@tf_only
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("quantity", [gradient_penalty, hessian_vector_product])
def test_second_order_matches_simple_rnn_eagerly(quantity, kwargs, training):
    fast, slow = twins(**kwargs)
    assert_close(quantity(fast, X, training), quantity(slow, X, training), rtol=1e-4)


@pytest.mark.slow
@tf_only
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("quantity", [gradient_penalty, hessian_vector_product])
def test_second_order_matches_simple_rnn_in_tf_function(quantity, training):
    import tensorflow as tf

    fast, slow = twins(return_sequences=True, recurrent_dropout=0.2)
    results = [
        tf.function(lambda layer=layer: quantity(layer, X, training))()
        for layer in (fast, slow)
    ]
    assert_close(*results, rtol=1e-4)


@pytest.mark.slow
@tf_only
def test_second_order_with_a_mask():
    tokens = np.array([[0, 0, 3, 4, 5], [1, 2, 3, 0, 0], [7, 0, 0, 0, 0]], "int32")
    results = []
    for layer in twins(return_sequences=True):
        embedding = keras.layers.Embedding(10, 3, mask_zero=True)
        embedding.build((None, 5))
        embedding.set_weights([np.sin(np.arange(30.0)).reshape(10, 3).astype("f")])

        masked = Masked(layer, embedding.compute_mask(tokens))
        embedded = keras.ops.copy(embedding(tokens))  # mask passed explicitly
        results.append(gradient_penalty(masked, embedded, True))
    assert_close(*results, rtol=1e-4)


@pytest.mark.slow
@tf_only
def test_second_order_in_a_custom_train_step():
    results = []
    for layer in twins():
        inputs = keras.Input((None, 3))
        model = PenalizedModel(inputs, keras.layers.Dense(1)(layer(inputs)))
        model.layers[-1].set_weights(
            [np.linspace(-1, 1, 6)[:, None].astype("f"), np.zeros(1, "f")]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        history = model.fit(
            X, np.ones((4, 1), "f"), batch_size=4, epochs=3, shuffle=False, verbose=0
        )
        results.append([history.history["loss"], model.get_weights()])
    assert_close(*results, rtol=1e-4)


@tf_only
@pytest.mark.parametrize(
    "jit_compile, training, expected",
    [
        ("auto", True, True),
        ("auto", False, False),
        (False, True, False),
        (True, True, True),
        (True, False, False),
    ],
)
def test_which_calls_compile(fresh_cache, jit_compile, training, expected):
    fast, slow = twins(jit_compile=jit_compile)
    assert fast.uses_xla(training) is expected
    assert_close(fast(X, training=training), slow(X, training=training))
    assert len(fresh_cache) == int(expected)


@pytest.mark.slow
@tf_only
def test_compiled_shapes_are_capped(fresh_cache):
    fast, slow = twins(return_sequences=True)
    for steps in (3, 4):
        fast(X[:, :steps], training=True)
    assert len(fresh_cache) == 2
    with pytest.warns(UserWarning, match="2 input shapes already have an XLA"):
        got = fast(X[:, :5], training=True)
    assert len(fresh_cache) == 2
    assert_close(got, slow(X[:, :5], training=True))
    # A length unknown at trace time never compiles.
    import tensorflow as tf

    fresh_cache.clear()
    run = tf.function(
        lambda x: fast(x, training=True),
        input_signature=[tf.TensorSpec((4, None, 3), "float32")],
    )
    assert_close(run(X), slow(X, training=True))
    assert not fresh_cache


@pytest.mark.slow
@tf_only
@pytest.mark.parametrize("mode", ["determinism", "mirrored"])
def test_fit_under_determinism_and_mirrored_strategy(mode):
    done = run_python("-c", SCRIPT, mode, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["vs_simple_rnn"] < 1e-5
    assert result["repeat_identical"]
    if mode == "determinism":
        assert result["uses_xla"] is False and result["compiled"] == 0
    else:
        assert result["replicas"] == 2
        assert result["uses_xla"] is True and result["compiled"] >= 1


@tf_only
def test_explicit_true_compiles_even_under_determinism():
    layer = FastSimpleRNN(3, jit_compile=True)
    assert layer.uses_xla(True)
    assert FastSimpleRNN.from_config(layer.get_config()).jit_compile is True
