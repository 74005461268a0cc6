"""Same seed, same numbers: across calls, processes, save/load and export."""

import json
import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_rnninit import (
    HeRNN,
    ScaledIdentity,
    ScaledOrthogonal,
    SpectralRadius,
    Uniform01,
    XavierRNN,
    schemes,
)
from keras_rnninit.compare import compare
from tests.helpers import (
    Z,
    run_python,
    run_serialization_test,
    tiny_compare_argv,
    to_numpy,
)

PROBE = """
import sys, numpy as np
from keras_rnninit import schemes
weights = {}
for name in schemes.names():
    model = schemes.get(name).build_model(input_dim=3, units=8, seed=7)
    for i, w in enumerate(model.get_weights()):
        weights[f"{name}_{i}"] = w
np.savez(sys.argv[1], **weights)
"""


@pytest.mark.slow
def test_initial_weights_bit_identical_across_processes(tmp_path):
    """Every scheme's seeded model, built in a fresh process, has this
    process's weights bit for bit (this process has run other tests first,
    so no global random state leaks into a seeded build either)."""
    done = run_python("-c", PROBE, str(tmp_path / "theirs"), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = np.load(tmp_path / "theirs.npz")
    assert len(theirs.files) == 5 * len(schemes.names())
    ours = {}
    for name in schemes.names():
        model = schemes.get(name).build_model(input_dim=3, units=8, seed=7)
        for i, w in enumerate(model.get_weights()):
            ours[f"{name}_{i}"] = w
    assert sorted(theirs.files) == sorted(ours)
    for key in theirs.files:
        np.testing.assert_array_equal(theirs[key], ours[key], err_msg=key)


@pytest.mark.slow
def test_comparison_records_identical_across_processes(tmp_path):
    out = tmp_path / "cmp"
    done = run_python(*tiny_compare_argv(out, "he", "3"), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads((out / "report.json").read_text())["records"][0]
    ours = compare(["he"], seeds=[3], progress=None, length=6, units=4, steps=200)[0]
    assert theirs["curve"]["test"] == ours["curve"]["test"]  # float32 losses, exact
    assert theirs["curve"]["train"] == ours["curve"]["train"]
    assert theirs["steps_to_threshold"] == ours["steps_to_threshold"]


# ------------------------------------------------------------ property-based

SEEDED = [XavierRNN, HeRNN, Uniform01, ScaledOrthogonal]
shapes = st.tuples(st.integers(1, 48), st.integers(1, 48))
seeds = st.integers(0, 2**31 - 1)
gains = st.floats(0.05, 20.0, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(cls=st.sampled_from(SEEDED), shape=shapes, seed=seeds)
def test_any_shape_and_seed(cls, shape, seed):
    init = cls(seed=seed)
    w = to_numpy(init(shape=shape))
    assert w.shape == shape and np.all(np.isfinite(w))
    np.testing.assert_array_equal(w, to_numpy(init(shape=shape)))
    rebuilt = run_serialization_test(init)
    np.testing.assert_array_equal(w, to_numpy(rebuilt(shape=shape)))


@settings(max_examples=30, deadline=None)
@given(fan_in=st.integers(16, 64), units=st.integers(16, 64), gain=gains, seed=seeds)
def test_xavier_statistics_within_sample_size_tolerance(fan_in, units, gain, seed):
    w = to_numpy(XavierRNN(gain=gain, seed=seed)(shape=(fan_in, units)))
    std, n = gain / math.sqrt(fan_in), w.size
    assert abs(w.mean()) < Z * std / math.sqrt(n)
    assert abs(w.var() - std**2) < Z * math.sqrt(2 * std**4 / n)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 48), gain=gains, seed=seeds)
def test_orthogonal_and_identity_for_any_gain(n, gain, seed):
    w = to_numpy(ScaledOrthogonal(gain=gain, seed=seed)(shape=(n, n)))
    np.testing.assert_allclose(w @ w.T / gain**2, np.eye(n), atol=1e-5)
    np.testing.assert_array_equal(
        to_numpy(ScaledIdentity(gain)(shape=(n, n))), np.float32(gain) * np.eye(n)
    )


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 48), radius=st.floats(0.1, 10.0), seed=seeds)
def test_spectral_radius_for_any_radius(n, radius, seed):
    w = to_numpy(SpectralRadius(radius=radius, seed=seed)(shape=(n, n)))
    assert abs(np.abs(np.linalg.eigvals(w)).max() - radius) < 1e-4 * radius


@pytest.mark.slow
def test_export_does_not_change_weights(tmp_path):
    from keras_rnninit.export import export_tflite

    model = schemes.get("xavier_rnn").build_model(input_dim=2, units=4, seed=0)
    before = [w.copy() for w in model.get_weights()]
    export_tflite(model, tmp_path / "m.tflite")
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert keras.backend.backend() == "tensorflow"
