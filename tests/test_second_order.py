"""Second-order gradients of FastSimpleRNN against keras.layers.SimpleRNN
(autodiff of Keras' loop) with the same weights: gradient penalties and
Hessian-vector products, eagerly, in tf.function and in a custom train_step,
on the plain (training=False) and the XLA-compiled (training=True) loops."""

import keras
import numpy as np
import pytest

from tests.test_layers import X, assert_close, twins

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the kernel is TensorFlow's"
)

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


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("kwargs", CONFIGS)
@pytest.mark.parametrize("quantity", [gradient_penalty, hessian_vector_product])
def test_second_order_matches_simple_rnn_eagerly(quantity, kwargs, training):
    fast, slow = twins(**kwargs)
    assert_close(quantity(fast, X, training), quantity(slow, X, training), rtol=1e-4)


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


class Masked(keras.layers.Layer):
    """Calls an RNN layer with a fixed mask."""

    def __init__(self, rnn, mask):
        super().__init__()
        self.rnn, self.mask = rnn, mask

    def call(self, x, training=None):
        return self.rnn(x, mask=self.mask, training=training)


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
