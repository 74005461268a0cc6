import keras
import numpy as np
import pytest

from keras_rnninit import (
    HeRNN,
    NpRNN,
    ScaledIdentity,
    ScaledOrthogonal,
    SpectralRadius,
    Uniform01,
    UniformDiagonal,
    XavierRNN,
)
from tests.helpers import (
    run_serialization_test,
    to_numpy,
)

SEEDED = [
    XavierRNN,
    HeRNN,
    Uniform01,
    ScaledOrthogonal,
    SpectralRadius,
    NpRNN,
    UniformDiagonal,
]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("cls", SEEDED + [ScaledIdentity])
def test_dtypes(cls, dtype):
    if dtype == "float64" and keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX without JAX_ENABLE_X64 has no float64")
    kwargs = {} if cls is ScaledIdentity else {"seed": 0}
    w = cls(**kwargs)(shape=(16, 16), dtype=dtype)
    assert keras.backend.standardize_dtype(w.dtype) == dtype
    assert np.all(np.isfinite(to_numpy(w)))


@pytest.mark.parametrize("cls", SEEDED)
def test_int_seed_same_values_every_call_and_instance(cls):
    a, b = cls(seed=7), cls(seed=7)
    np.testing.assert_array_equal(to_numpy(a((16, 16))), to_numpy(a((16, 16))))
    np.testing.assert_array_equal(to_numpy(a((16, 16))), to_numpy(b((16, 16))))
    assert not np.array_equal(to_numpy(a((16, 16))), to_numpy(cls(seed=8)((16, 16))))


@pytest.mark.parametrize("cls", SEEDED)
def test_none_seed_is_fixed_per_instance(cls):
    a = cls()
    np.testing.assert_array_equal(to_numpy(a((16, 16))), to_numpy(a((16, 16))))
    assert not np.array_equal(to_numpy(a((16, 16))), to_numpy(cls()((16, 16))))


def test_none_seed_follows_keras_set_random_seed():
    keras.utils.set_random_seed(123)
    a = to_numpy(XavierRNN()((16, 16)))
    keras.utils.set_random_seed(123)
    np.testing.assert_array_equal(a, to_numpy(XavierRNN()((16, 16))))


@pytest.mark.parametrize("cls", SEEDED)
def test_seed_generator_gives_fresh_values(cls):
    init = cls(seed=keras.random.SeedGenerator(3))
    assert not np.array_equal(to_numpy(init((16, 16))), to_numpy(init((16, 16))))
    # ... and the same stream from the same generator seed.
    again = cls(seed=keras.random.SeedGenerator(3))
    np.testing.assert_array_equal(
        to_numpy(cls(seed=keras.random.SeedGenerator(3))((16, 16))),
        to_numpy(again((16, 16))),
    )


def test_numpy_int_seed_is_accepted_and_serializable():
    init = XavierRNN(seed=np.int64(5))
    assert init.get_config() == {"gain": 1.0, "seed": 5}
    np.testing.assert_array_equal(
        to_numpy(init((4, 4))), to_numpy(XavierRNN(seed=5)((4, 4)))
    )


@pytest.mark.parametrize(
    "init, config",
    [
        (XavierRNN(gain=2.0, seed=1), {"gain": 2.0, "seed": 1}),
        (HeRNN(seed=1), {"seed": 1}),
        (Uniform01(seed=None), {"seed": None}),
        (ScaledOrthogonal(gain=0.5, seed=3), {"gain": 0.5, "seed": 3}),
        (ScaledIdentity(gain=0.25), {"gain": 0.25}),
        (SpectralRadius(radius=1.5, seed=4), {"radius": 1.5, "seed": 4}),
    ],
)
def test_get_config_is_exactly_the_constructor_arguments(init, config):
    assert init.get_config() == config
    assert type(init)(**config).get_config() == config
    rebuilt = run_serialization_test(init)
    if config.get("seed") is not None or isinstance(init, ScaledIdentity):
        np.testing.assert_array_equal(to_numpy(init((8, 8))), to_numpy(rebuilt((8, 8))))


def test_seed_generator_config_round_trip():
    init = XavierRNN(seed=keras.random.SeedGenerator(11))
    rebuilt = run_serialization_test(init)
    assert isinstance(rebuilt.seed, keras.random.SeedGenerator)


@pytest.mark.parametrize(
    "cls, arg",
    [
        (XavierRNN, "gain"),
        (ScaledOrthogonal, "gain"),
        (ScaledIdentity, "gain"),
        (SpectralRadius, "radius"),
    ],
)
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf")])
def test_bad_gain_or_radius_value(cls, arg, value):
    with pytest.raises(
        ValueError,
        match=f"`{arg}` must be a positive finite float. Received: {arg}={value!r}",
    ):
        cls(**{arg: value})


@pytest.mark.parametrize("value", [None, True, [1.0]])
def test_bad_gain_type(value):
    with pytest.raises(TypeError, match="`gain` must be a positive finite float"):
        XavierRNN(gain=value)


@pytest.mark.parametrize("cls", SEEDED)
@pytest.mark.parametrize("seed", ["0", 1.5, True, [1]])
def test_bad_seed_type(cls, seed):
    with pytest.raises(TypeError, match="`seed` must be None, an int or a "):
        cls(seed=seed)


@pytest.mark.parametrize(
    "cls",
    [
        XavierRNN,
        HeRNN,
        ScaledOrthogonal,
        ScaledIdentity,
        SpectralRadius,
        NpRNN,
        UniformDiagonal,
    ],
)
@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (0, 4), ("a", 4)])
def test_bad_shape(cls, shape):
    init = cls() if cls is ScaledIdentity else cls(seed=0)
    with pytest.raises(ValueError, match=r"`shape` must be a (square )?2-D shape"):
        init(shape=shape)


@pytest.mark.parametrize("cls", SEEDED)
def test_integer_dtype_rejected(cls):
    with pytest.raises(ValueError, match="`dtype` must be a floating point dtype"):
        cls(seed=0)(shape=(4, 4), dtype="int32")
