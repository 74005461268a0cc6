"""The recurrence kernel behind FastSimpleRNN: its hand-written gradients
against autodiff of an unrolled loop, with and without XLA."""

import keras
import numpy as np
import pytest


def test_hand_written_backward_covers_the_usual_activations():
    from keras_rnninit.recurrence import supported

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


@pytest.mark.parametrize("compile", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_recurrence_matches_autodiff_of_an_unrolled_loop(activation, compile):
    import tensorflow as tf

    from keras_rnninit.recurrence import recurrence

    rng = np.random.default_rng(1)
    p = tf.constant(rng.normal(size=(7, 3, 5)), "float32")
    h0 = tf.constant(rng.normal(size=(3, 5)), "float32")
    w = tf.Variable(rng.normal(size=(5, 5)) / np.sqrt(5), dtype="float32")
    weights = tf.constant(rng.normal(size=(7, 3, 5)), "float32")
    act = keras.activations.get(activation)

    def unrolled():
        h, hs = h0, []
        for t in range(7):
            h = act(p[t] + tf.matmul(h, w))
            hs.append(h)
        return tf.stack(hs)

    results = []
    for fn in (lambda: recurrence(p, h0, w, activation, compile=compile), unrolled):
        with tf.GradientTape() as tape:
            tape.watch([p, h0])
            hs = fn()
            loss = tf.reduce_sum(tf.cos(hs) * weights)
        results.append([hs, *tape.gradient(loss, [p, h0, w])])
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_recurrence_refuses_an_activation_without_a_written_derivative():
    from keras_rnninit.recurrence import recurrence

    x = np.zeros((2, 1, 3), "float32")
    with pytest.raises(ValueError, match="`activation` must be one of tanh, relu"):
        recurrence(x, x[0], np.zeros((3, 3), "float32"), "gelu")
