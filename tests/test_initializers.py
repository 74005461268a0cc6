import math

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
    Z,
    assert_fraction,
    assert_mean,
    assert_normal_ks,
    assert_variance,
    run_serialization_test,
    to_numpy,
)

N = 256  # every statistical check draws at least N x N = 65536 samples
TAIL_2SIGMA = math.erfc(2 / math.sqrt(2))  # 0.0455 for an untruncated Gaussian

SEEDED = [
    XavierRNN,
    HeRNN,
    Uniform01,
    ScaledOrthogonal,
    SpectralRadius,
    NpRNN,
    UniformDiagonal,
]


# ---------------------------------------------------------------- statistics


@pytest.mark.parametrize("gain", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("fan_in", [N, 2 * N])
def test_xavier_rnn_is_exact_untruncated_gaussian(gain, fan_in):
    std = gain / math.sqrt(fan_in)
    w = to_numpy(XavierRNN(gain=gain, seed=1)(shape=(fan_in, N)))
    assert w.shape == (fan_in, N)
    assert_mean(w, 0.0, std)
    assert_variance(w, std**2, 3 * std**4)
    assert_fraction(np.abs(w) > 2 * std, TAIL_2SIGMA)
    assert_normal_ks(w, std)


def test_tail_check_rejects_keras_truncated_lecun_normal():
    # The same variance target, truncated at 2 sigma: the tail check must see it.
    w = to_numpy(keras.initializers.LecunNormal(seed=1)(shape=(N, N)))
    std = 1 / math.sqrt(N)
    tail = float(np.mean(np.abs(w) > 2 * std))
    assert tail < TAIL_2SIGMA - Z * math.sqrt(TAIL_2SIGMA * (1 - TAIL_2SIGMA) / w.size)


def test_he_rnn_variance_is_two_over_fan_in():
    std = math.sqrt(2 / N)
    w = to_numpy(HeRNN(seed=2)(shape=(N, N)))
    assert_mean(w, 0.0, std)
    assert_variance(w, std**2, 3 * std**4)
    assert_normal_ks(w, std)


def test_uniform01_bounds_mean_variance():
    w = to_numpy(Uniform01(seed=3)(shape=(N, N)))
    assert w.min() >= 0.0 and w.max() <= 1.0
    # U[0,1]: mean 1/2, variance 1/12, fourth central moment 1/80.
    assert_mean(w, 0.5, math.sqrt(1 / 12))
    assert_variance(w, 1 / 12, 1 / 80)


def test_uniform01_accepts_any_shape():
    assert tuple(Uniform01(seed=0)(shape=(2, 3, 4)).shape) == (2, 3, 4)


@pytest.mark.parametrize("shape", [(N, N), (N, N // 2), (N // 2, N)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_scaled_orthogonal_gram_on_short_side(shape, gain):
    w = to_numpy(ScaledOrthogonal(gain=gain, seed=4)(shape=shape))
    assert w.shape == shape
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram / gain**2, np.eye(min(shape)), atol=1e-5)


def test_scaled_orthogonal_is_haar_trace_unbiased():
    # For Haar O(n), trace(Q) has the moments of N(0, 1) up to order n
    # (Diaconis & Shahshahani): mean 0, variance 1, fourth moment 3. Plain
    # (uncorrected) QR of a Gaussian gives a trace biased by several units at
    # n = 64. 400 draws: the variance is checked to Z * sqrt(2 / 400) = 0.35.
    n, draws = 64, 400
    traces = np.array(
        [
            np.trace(to_numpy(ScaledOrthogonal(seed=s)(shape=(n, n))))
            for s in range(draws)
        ]
    )
    assert_mean(traces, 0.0, 1.0)
    assert_variance(traces, 1.0, fourth_central_moment=3.0)


@pytest.mark.parametrize("gain", [1.0, 0.5, 2.0])
def test_scaled_identity(gain):
    np.testing.assert_array_equal(
        to_numpy(ScaledIdentity(gain=gain)(shape=(5, 5))), gain * np.eye(5)
    )
    np.testing.assert_array_equal(
        to_numpy(ScaledIdentity(gain=gain)(shape=(3, 5))), gain * np.eye(3, 5)
    )


@pytest.mark.parametrize("radius", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("n", [8, N])
def test_spectral_radius_is_exact(radius, n):
    w = to_numpy(SpectralRadius(radius=radius, seed=5)(shape=(n, n)))
    rho = np.abs(np.linalg.eigvals(w)).max()
    assert abs(rho - radius) < 1e-4 * radius


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


# ------------------------------------------------------------ seed semantics


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


# ------------------------------------------------------------- serialization


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


def test_registered_names():
    for cls in SEEDED + [ScaledIdentity]:
        name = keras.saving.get_registered_name(cls)
        assert name == f"keras_rnninit>{cls.__name__}"
        assert keras.saving.get_registered_object(name) is cls


def test_seed_generator_config_round_trip():
    init = XavierRNN(seed=keras.random.SeedGenerator(11))
    rebuilt = run_serialization_test(init)
    assert isinstance(rebuilt.seed, keras.random.SeedGenerator)


# --------------------------------------------------------------- error paths


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


def test_spectral_radius_needs_square_shape():
    with pytest.raises(
        ValueError,
        match=r"`shape` must be a square 2-D shape .*"
        r"Received: shape=\(3, 4\)",
    ):
        SpectralRadius(seed=0)(shape=(3, 4))


@pytest.mark.parametrize("cls", SEEDED)
def test_integer_dtype_rejected(cls):
    with pytest.raises(ValueError, match="`dtype` must be a floating point dtype"):
        cls(seed=0)(shape=(4, 4), dtype="int32")
