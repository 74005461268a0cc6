"""The recurrence kernel behind FastSimpleRNN: its hand-written gradients
(first and second order) against autodiff of an unrolled loop, with and
without XLA, masks and recurrent dropout."""

import keras
import numpy as np
import pytest

TF = keras.backend.backend() == "tensorflow"
tf_only = pytest.mark.skipif(not TF, reason="the kernel is TensorFlow's")


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
