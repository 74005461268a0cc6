"""The stacked engine (compare/stacked.py) against the runner's own `fit`.

The reference is `training.train_one`: one Keras model and one `fit` per
run. Every record the engine writes must be that run's record to float32
rounding: curves, steps to threshold, diagnostics, divergence, the saved
model. Runs on JAX (the engine's backend); on TensorFlow it refuses.
"""

import dataclasses

import keras
import numpy as np
import pytest

from keras_rnninit import schemes
from keras_rnninit.compare import CompareConfig, compare, training
from keras_rnninit.compare.own import OwnRuns
from keras_rnninit.compare.runner import check_engine
from tests.helpers import TINY

jax_only = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="the stacked engine runs on JAX"
)

# Two relu schemes and a tanh one: two programs; with blocks of 4 the relu
# group (4 runs) fills one block and the tanh group (2 runs) is padded.
SCHEMES = ["uniform_diag", "irnn", "xavier_rnn"]
SEEDS = [0, 1]
CONFIG = dict(TINY, steps=300, clipnorm=1.0)
# A comparison on the user's model, as far as the refusals look at it.
OWN = OwnRuns(
    model=None, data=(np.zeros((64, 3, 1)),), validation_data=None, monitor="loss"
)


def runs(names, seeds):
    return [(schemes.get(n), s) for n in names for s in seeds]


def without_loss(diverged):
    return None if diverged is None else {**diverged, "loss": None}


def assert_same_run(mine, theirs, rtol=1e-5):
    """The engine's record equals `train_one`'s to float32 rounding."""
    assert (mine.scheme, mine.seed) == (theirs.scheme, theirs.seed)
    assert mine.curve["step"] == theirs.curve["step"]
    for curve in ("test", "train"):
        np.testing.assert_allclose(
            mine.curve[curve], theirs.curve[curve], rtol=rtol, err_msg=curve
        )
    assert mine.steps_to_threshold == theirs.steps_to_threshold
    assert mine.steps_run == theirs.steps_run
    assert without_loss(mine.diverged) == without_loss(theirs.diverged)
    if mine.diverged is not None:  # the non-finite loss: NaN or the same Inf
        assert str(mine.diverged["loss"]) == str(theirs.diverged["loss"])
    assert [d["step"] for d in mine.diagnostics] == [
        d["step"] for d in theirs.diagnostics
    ]
    for a, b in zip(mine.diagnostics, theirs.diagnostics, strict=True):
        for key in (
            "grad_norms",
            "variance",
            "rnn_spectral_radius",
            "rnn_grad_norm_whh",
        ):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-7)
    # Everything else but the clock and the file name is the same.
    skip = {"wall_seconds", "model_path", "diagnostics", "curve", "diverged"}
    left = {k: v for k, v in mine.to_dict().items() if k not in skip}
    right = {k: v for k, v in theirs.to_dict().items() if k not in skip}
    for key in ("best_test", "final_test"):
        if left[key] is not None:
            assert np.isclose(left.pop(key), right.pop(key), rtol=rtol), key
    assert left == right


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from keras_rnninit.compare.stacked import train_stacked

    config = CompareConfig(**CONFIG)
    saved = tmp_path_factory.mktemp("stacked")
    reference = tmp_path_factory.mktemp("one")
    mine = train_stacked(runs(SCHEMES, SEEDS), config, save_dir=str(saved), block=4)
    theirs = [
        training.train_one(scheme, seed, config, save_dir=str(reference))
        for scheme, seed in runs(SCHEMES, SEEDS)
    ]
    return mine, theirs


# The tests that read `both` share one pytest-xdist worker, so the module
# fixture is built once, not once per worker.
READS_BOTH = pytest.mark.xdist_group("test_stacked-both")


@jax_only
@pytest.mark.slow
@READS_BOTH
def test_each_stacked_run_is_its_fit_run(both):
    mine, theirs = both
    assert len(mine) == len(SCHEMES) * len(SEEDS)
    for a, b in zip(mine, theirs, strict=True):
        assert_same_run(a, b)


@jax_only
@pytest.mark.slow
@READS_BOTH
def test_the_saved_models_hold_the_fit_weights(both):
    # The .keras files load, and hold the weights and optimizer state that
    # fit would have saved (the optimizer's step count included).
    for a, b in zip(*both, strict=True):
        ours, reference = (keras.saving.load_model(r.model_path) for r in (a, b))
        for x, y in zip(ours.get_weights(), reference.get_weights(), strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)
        assert int(ours.optimizer.iterations) == int(reference.optimizer.iterations)


@jax_only
@pytest.mark.slow
@pytest.mark.parametrize("block", [1, 4])
def test_a_diverging_run_stops_where_fit_stops_and_its_block_goes_on(block):
    # At Adam 3.0, np_rnn's seed 0 turns non-finite at step 4; the other three
    # relu runs train on (with it in one vmapped block of 4, or one at a time
    # through the plain program), as they do alone with fit.
    from keras_rnninit.compare.stacked import train_stacked

    config = CompareConfig(
        **{**CONFIG, "learning_rate": 3.0, "steps": 200, "clipnorm": None}
    )
    chosen = runs(["np_rnn", "uniform_diag"], SEEDS)
    mine = train_stacked(chosen, config, block=block)
    theirs = [training.train_one(s, seed, config) for s, seed in chosen]
    assert theirs[0].diverged is not None and theirs[0].diverged["step"] == 4
    assert [r.diverged is None for r in theirs[1:]] == [True] * 3
    for a, b in zip(mine, theirs, strict=True):
        assert_same_run(a, b, rtol=1e-4)


@jax_only
def test_runs_of_one_architecture_share_one_program():
    from keras_rnninit.compare.stacked import _prepare, _signature

    config = CompareConfig(**CONFIG)
    built = {n: _prepare(schemes.get(n), 0, config).model for n in SCHEMES}
    # relu schemes differ only in their initializers; tanh is another program.
    assert _signature(built["uniform_diag"]) == _signature(built["irnn"])
    assert _signature(built["uniform_diag"]) != _signature(built["xavier_rnn"])


def test_the_stacked_engine_refuses_another_backend():
    if keras.backend.backend() == "jax":
        pytest.skip("the refusal is for the other backends")
    from keras_rnninit.compare.stacked import train_stacked

    config = dataclasses.replace(CompareConfig(**CONFIG))
    with pytest.raises(ValueError) as raised:
        train_stacked(runs(["irnn"], [0]), config)
    assert str(raised.value) == (
        "`train_stacked` must run on the jax backend. "
        f"Received: backend={keras.backend.backend()!r}"
    )


@jax_only
@pytest.mark.slow
def test_compare_with_the_stacked_engine_gives_the_sequential_records(tmp_path):
    # The runner's path (executors.run_stacked): the records, in order, of
    # compare(fused=False), each run through its own fit.
    settings = dict(CONFIG, steps=200)
    mine = compare(SCHEMES, SEEDS, progress=None, engine="stacked", **settings)
    theirs = compare(SCHEMES, SEEDS, progress=None, fused=False, **settings)
    for a, b in zip(mine, theirs, strict=True):
        assert_same_run(a, b)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            dict(engine="vmap"),
            "`engine` must be one of keras, stacked. Received: engine='vmap'",
        ),
        (
            dict(engine="stacked", distribute="mirrored"),
            "`engine='stacked'` needs no `distribute`. Received: distribute='mirrored'",
        ),
        (
            dict(engine="stacked", config=OWN),
            "`engine='stacked'` needs a built-in task (not your own model). "
            "Received: model=<your model>",
        ),
    ],
)
def test_an_engine_that_cannot_run_is_one_line(arguments, message):
    if keras.backend.backend() != "jax" and arguments["engine"] == "stacked":
        message = (
            "`engine='stacked'` needs the jax backend. "
            f"Received: backend={keras.backend.backend()!r}"
        )
    with pytest.raises(ValueError) as raised:
        check_engine(**arguments)
    assert str(raised.value) == message


def test_a_ray_task_refuses_the_stacked_engine_on_your_own_model():
    # What a Ray task runs (executors.train_unit), refusing before it trains.
    from keras_rnninit.compare.executors import train_unit

    with pytest.raises(ValueError) as raised:
        train_unit([schemes.get("irnn")], 0, OWN, fused=False, engine="stacked")
    assert str(raised.value) == (
        "`engine='stacked'` needs a built-in task (not your own model). "
        "Received: model=<your model>"
    )


def test_a_stacked_block_is_a_seeds_pending_runs():
    from keras_rnninit.compare.runner import blocks

    irnn, xavier = schemes.get("irnn"), schemes.get("xavier_rnn")
    done = {("irnn", 0): object(), ("irnn", 1): object(), ("xavier_rnn", 1): object()}
    assert blocks([irnn, xavier], [0, 1, 2], done) == [
        ([xavier], 0),
        ([irnn, xavier], 2),
    ]


def test_a_refused_engine_leaves_no_folder(tmp_path):
    from keras_rnninit.compare import compare_to_folder

    out = tmp_path / "cmp"
    with pytest.raises(ValueError, match="`engine` must be one of keras, stacked"):
        compare_to_folder(
            str(out), ["irnn"], [0], CompareConfig(**CONFIG), engine="vmap"
        )
    assert list(tmp_path.iterdir()) == []


@jax_only
@pytest.mark.parametrize("block", [0, -1])
def test_a_block_that_is_not_a_positive_int_is_one_line(block):
    from keras_rnninit.compare.stacked import train_stacked

    with pytest.raises(ValueError) as raised:
        train_stacked(runs(["irnn"], [0]), CompareConfig(**CONFIG), block=block)
    assert str(raised.value) == (
        f"`block` must be a positive int. Received: block={block}"
    )


def test_the_logged_loss_overflows_as_keras_mean_does():
    # NaNGuard reads fit's running mean, a float32 total of loss x batch size
    # (keras/src/backend/jax/trainer.py): finite losses of 3e36 overflow it at
    # the second step of a batch of 64, as Keras' own Mean does.
    from keras_rnninit.compare.stacked import _running

    values = np.array([[3e36], [3e36], [1.0]], dtype=np.float32)
    mean = keras.metrics.Mean()
    logged = []
    for value in values[:, 0]:
        mean.update_state(value, sample_weight=64)
        logged.append(float(mean.result()))
    running = _running(values, 64)[:, 0]
    assert np.isfinite(running[0]) and not np.isfinite(running[1])
    np.testing.assert_array_equal(running, np.asarray(logged, dtype=np.float32))
