import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rnninit import ScaledIdentity, XavierRNN, schemes
from keras_rnninit.diagnostics import (
    signal_propagation,
)


def tape_signal(scheme, units, length, input_dim=8, batch=32, draws=2, seed=0):
    """signal_propagation's setup rebuilt, with the gradients by tf.GradientTape
    on a float64 unroll of each model's weights: (log10 ratio, Var(h_t))
    averaged over the draws."""
    scheme = schemes.get(scheme)
    rng = np.random.default_rng(seed)
    ratios, variances = [], []
    for draw in range(draws):
        model = scheme.build_model(input_dim=input_dim, units=units, seed=seed + draw)
        x = tf.constant(rng.normal(size=(batch, length, input_dim)), tf.float32)
        y = tf.constant(rng.normal(size=(batch, 1)), tf.float32)
        rnn, head = model.get_layer("rnn"), model.get_layer("output")
        w, u, b = (tf.constant(v, tf.float64) for v in rnn.get_weights())
        wy, by = (tf.constant(v, tf.float64) for v in head.get_weights())
        act = {"tanh": tf.tanh, "relu": tf.nn.relu}[rnn.cell.activation.__name__]
        seq = tf.cast(x, tf.float64)
        with tf.GradientTape(persistent=True) as tape:
            h, states = tf.zeros((batch, units), tf.float64), []
            for t in range(length):
                h = act(seq[:, t] @ w + h @ u + b)
                tape.watch(h)
                states.append(h)
            pred = h @ wy + by
            loss = tf.reduce_mean((pred - tf.cast(y, tf.float64)) ** 2)
        first, last = (np.linalg.norm(tape.gradient(loss, states[i])) for i in (0, -1))
        with np.errstate(divide="ignore"):
            ratios.append(np.log10(first) - np.log10(last))
        variances.append([np.var(s.numpy()) for s in states])
    return float(np.mean(ratios)), np.mean(variances, axis=0)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["xavier_rnn", "irnn", "keras_default"])
def test_signal_propagation_matches_autodiff(scheme):
    report = signal_propagation(scheme, units=32, length=40, draws=2)
    ratio, variance = tape_signal(scheme, units=32, length=40, draws=2)
    assert math.isclose(report["log10_ratio"], ratio, rel_tol=1e-6, abs_tol=1e-9)
    np.testing.assert_allclose(report["variance"], variance, rtol=1e-5)


@pytest.mark.slow
def test_signal_propagation_reproduces_design_facts():
    uniform = signal_propagation("uniform01", units=64, length=100, draws=2)
    assert uniform["saturated"][5:].min() > 0.99
    assert uniform["log10_ratio"] == float("-inf")
    # Perron root of a 64x64 U[0, 1) matrix: 64 * E[u] = 32, sd about
    # sqrt(Var(u) / ...) well under 1 (row sums have sd sqrt(64 / 12) = 2.3,
    # and the root is their weighted average).
    assert abs(uniform["spectral_radius"] - 32) < 2.3
    xavier = signal_propagation("xavier_rnn", units=64, length=100, draws=2)
    flat = xavier["variance"][9:]  # t = 10..100
    # Flat: no drift between t = 10..55 and t = 56..100 (each a mean of 45
    # steps; single steps of 32 x 64 x 2 samples wander by about +-0.02).
    assert abs(flat[:46].mean() - flat[46:].mean()) < 0.02
    identity_tanh = schemes.Scheme(
        "identity_tanh",
        "test",
        kernel=lambda u, s: keras.initializers.RandomNormal(stddev=0.001, seed=s),
        recurrent=lambda u, s: ScaledIdentity(),
        output=lambda u, s: XavierRNN(seed=s),
    )
    # Identity Whh, inputs of scale 1e-3: tanh' = 1 - h^2 with h ~ 1e-3 * sqrt(8 t),
    # so log10 ratio = sum_t log10(1 - h_t^2) ~ -log10(e) * 1e-6 * 8 * T^2 / 2.
    ratio = signal_propagation(identity_tanh, units=64, length=100, draws=2)[
        "log10_ratio"
    ]
    assert -0.05 < ratio <= 0.0
