"""When FastSimpleRNN's training loops are XLA-compiled: `jit_compile`, op
determinism, MirroredStrategy, and the bound on compiled shapes."""

import json

import keras
import pytest

from keras_rnninit.layers import FastSimpleRNN
from keras_rnninit.layers.recurrence import tensorflow as recurrence
from tests.helpers import run_python
from tests.test_layers import X, assert_close, twins

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the kernel is TensorFlow's"
)


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty set of compiled shapes, capped at 2."""
    monkeypatch.setattr(recurrence, "_compiled", set())
    monkeypatch.setattr(recurrence, "MAX_COMPILED_SHAPES", 2)
    return recurrence._compiled


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


def test_explicit_true_compiles_even_under_determinism():
    layer = FastSimpleRNN(3, jit_compile=True)
    assert layer.uses_xla(True)
    assert FastSimpleRNN.from_config(layer.get_config()).jit_compile is True
