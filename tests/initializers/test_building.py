"""Per-gate initializers (`gates=k`) and `ChronoBias` on Keras' LSTM and GRU."""

import keras
import numpy as np
import pytest

from keras_rnninit import (
    ChronoBias,
    ScaledIdentity,
    ScaledOrthogonal,
    SpectralRadius,
    XavierRNN,
)
from tests.helpers import (
    run_serialization_test,
    to_numpy,
)
from tests.initializers.helpers import GATES, LAYERS, blocks


def built(layer, input_dim=3):
    layer.build((None, None, input_dim))
    return layer


PER_GATE = [
    lambda **kw: XavierRNN(gates=4, **kw),
    lambda **kw: ScaledOrthogonal(gates=4, **kw),
    lambda **kw: SpectralRadius(gates=4, **kw),
]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_real_layer_gets_per_gate_blocks(cell):
    k, h = GATES[cell], 8
    layer = built(
        LAYERS[cell](
            h,
            kernel_initializer=XavierRNN(gates=k, seed=0),
            recurrent_initializer=ScaledOrthogonal(gates=k, seed=1),
        )
    )
    for b in blocks(to_numpy(layer.cell.recurrent_kernel), k):
        np.testing.assert_allclose(b @ b.T, np.eye(h), atol=1e-5)
    identity = built(LAYERS[cell](h, recurrent_initializer=ScaledIdentity(gates=k)))
    traces = [np.trace(b) for b in blocks(to_numpy(identity.cell.recurrent_kernel), k)]
    assert traces == [h] * k
    radius = built(LAYERS[cell](h, recurrent_initializer=SpectralRadius(0.9, gates=k)))
    for b in blocks(to_numpy(radius.cell.recurrent_kernel), k):
        assert abs(np.abs(np.linalg.eigvals(b)).max() - 0.9) < 1e-4


@pytest.mark.parametrize("make", PER_GATE)
def test_per_gate_seed_semantics(make):
    shape = (8, 32)
    a = make(seed=7)
    np.testing.assert_array_equal(to_numpy(a(shape)), to_numpy(make(seed=7)(shape)))
    assert not np.array_equal(to_numpy(a(shape)), to_numpy(make(seed=8)(shape)))
    fresh = make(seed=keras.random.SeedGenerator(3))
    assert not np.array_equal(to_numpy(fresh(shape)), to_numpy(fresh(shape)))


@pytest.mark.parametrize(
    "init, config",
    [
        (XavierRNN(gain=2.0, seed=1, gates=4), {"gain": 2.0, "seed": 1, "gates": 4}),
        (ScaledOrthogonal(seed=3, gates=3), {"gain": 1.0, "seed": 3, "gates": 3}),
        (ScaledIdentity(gain=0.5, gates=4), {"gain": 0.5, "gates": 4}),
        (SpectralRadius(1.5, seed=4, gates=4), {"radius": 1.5, "seed": 4, "gates": 4}),
        (ChronoBias(50, seed=2), {"max_length": 50.0, "seed": 2, "cell": None}),
        (
            ChronoBias(50, seed=2, cell="lstm"),
            {"max_length": 50.0, "seed": 2, "cell": "lstm"},
        ),
        (
            ChronoBias(10.5, cell="gru"),
            {"max_length": 10.5, "seed": None, "cell": "gru"},
        ),
    ],
)
def test_get_config_round_trip(init, config):
    assert init.get_config() == config
    rebuilt = run_serialization_test(init)
    shape = (16,) if isinstance(init, ChronoBias) else (3, 12)
    if config.get("seed") is not None:
        np.testing.assert_array_equal(to_numpy(init(shape)), to_numpy(rebuilt(shape)))


def test_gates_1_config_is_unchanged():
    # `gates=1` configs are the configs saved before `gates` existed.
    assert ScaledOrthogonal(seed=1, gates=1).get_config() == {"gain": 1.0, "seed": 1}
    assert ScaledIdentity(gates=1).get_config() == {"gain": 1.0}
    assert SpectralRadius(seed=1).get_config() == {"radius": 1.0, "seed": 1}
    # SpectralRadius' default is gates=None (from the cell); an explicit 1 stays.
    assert SpectralRadius.from_config({"radius": 1.0, "seed": 1}).gates is None
    assert SpectralRadius(seed=1, gates=1).get_config() == {
        "radius": 1.0,
        "seed": 1,
        "gates": 1,
    }


@pytest.mark.parametrize(
    "init, shape",
    [
        (XavierRNN(gates=4, seed=0), (8, 30)),
        (ScaledOrthogonal(gates=3, seed=0), (8, 16)),
        (ScaledIdentity(gates=4), (8, 6)),
    ],
)
def test_shape_that_does_not_split_into_gates(init, shape):
    name = type(init).__name__
    with pytest.raises(
        ValueError,
        match=rf"^`shape` must split into `gates` equal blocks along its last axis "
        rf"for {name}\. Received: shape=\(\d+, \d+\), gates=\d$",
    ):
        init(shape)


@pytest.mark.parametrize(
    "cls", [XavierRNN, ScaledOrthogonal, ScaledIdentity, SpectralRadius]
)
def test_bad_gates(cls):
    # SpectralRadius takes gates=None: k from the LSTM or GRU cell building it.
    optional = r" or None" if cls is SpectralRadius else ""
    for value in [0, -4]:
        with pytest.raises(
            ValueError,
            match=rf"^`gates` must be a positive int{optional}\. "
            rf"Received: gates={value}$",
        ):
            cls(gates=value)
    for value in [4.0, "4", True] + ([] if optional else [None]):
        with pytest.raises(
            TypeError, match=rf"^`gates` must be a positive int{optional}\. "
        ):
            cls(gates=value)
