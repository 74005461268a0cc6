"""Per-gate initializers (`gates=k`) and `ChronoBias` on Keras' LSTM and GRU."""

import math

import keras
import numpy as np
import pytest

from keras_rnninit import (
    ChronoBias,
    XavierGRUCell,
)
from tests.helpers import (
    assert_mean,
    assert_variance,
    to_numpy,
)
from tests.initializers.helpers import built_in_subclassed_model


def built(layer, input_dim=3):
    layer.build((None, None, input_dim))
    return layer


def uniform_checks(u, low, high):
    """u ~ U[low, high]: bounds, mean, variance (fourth central moment w^4/80)."""
    width = high - low
    assert u.min() >= low - 1e-4 and u.max() <= high + 1e-4
    assert_mean(u, (low + high) / 2, width / math.sqrt(12))
    assert_variance(u, width**2 / 12, width**4 / 80)


def assert_chrono(bias, kind, max_length, reset_after=False):
    """The module docstring's layout, checked on a bias read from Keras.

    Keras' gate order: LSTM i, f, c, o with b_f = log(u), b_i = -b_f,
    b_c = b_o = 0; GRU z, r, h with b_z = +log(u), b_r = b_h = 0, and for
    reset_after=True a (2, 3H) bias whose recurrent row 1 is zero;
    u ~ U[1, max_length - 1].
    """
    b = to_numpy(bias)
    if kind == "gru" and reset_after:
        assert b.shape[0] == 2 and not np.any(b[1])
        b = b[0]
    assert b.ndim == 1
    if kind == "lstm":
        b_i, slow, b_c, b_o = np.split(b, 4)
        np.testing.assert_array_equal(b_i, -slow)
        rest = [b_c, b_o]
    else:
        slow, b_r, b_h = np.split(b, 3)
        rest = [b_r, b_h]
    assert not any(np.any(r) for r in rest)
    uniform_checks(np.exp(slow), 1.0, max_length - 1.0)


H = 256


ZERO_KERNELS = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros"}


def _lstm(init):
    return keras.layers.LSTM(
        H, bias_initializer=init, unit_forget_bias=False, **ZERO_KERNELS
    )


def _gru(init, reset_after=True):
    return keras.layers.GRU(
        H, bias_initializer=init, reset_after=reset_after, **ZERO_KERNELS
    )


# (kind, reset_after, layer of a ChronoBias): Keras' gated layers, wrapped too.
CHRONO_LAYERS = {
    "LSTM": ("lstm", False, _lstm),
    "GRU(reset_after=True)": ("gru", True, _gru),
    "GRU(reset_after=False)": ("gru", False, lambda i: _gru(i, reset_after=False)),
    "Bidirectional(LSTM)": (
        "lstm",
        False,
        lambda i: keras.layers.Bidirectional(_lstm(i)),
    ),
    "Bidirectional(GRU)": ("gru", True, lambda i: keras.layers.Bidirectional(_gru(i))),
    "RNN(LSTMCell)": (
        "lstm",
        False,
        lambda i: keras.layers.RNN(
            keras.layers.LSTMCell(
                H, bias_initializer=i, unit_forget_bias=False, **ZERO_KERNELS
            )
        ),
    ),
    "RNN(XavierGRUCell)": (  # a GRUCell subclass
        "gru",
        False,
        lambda i: keras.layers.RNN(
            XavierGRUCell(H, bias_initializer=i, reset_after=False, **ZERO_KERNELS)
        ),
    ),
}


def cells_of(layer):
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer.cell, layer.backward_layer.cell]
    return [layer.cell]


def test_chrono_bias_is_registered():
    name = keras.saving.get_registered_name(ChronoBias)
    assert name == "keras_rnninit>ChronoBias"
    assert keras.saving.get_registered_object(name) is ChronoBias


@pytest.mark.parametrize("max_length", [10, 1000])
def test_chrono_lstm_gate_statistics(max_length):
    h = 16384
    b = to_numpy(ChronoBias(max_length, seed=0)((4 * h,)))
    b_i, b_f, b_c, b_o = np.split(b, 4)
    # exp(b_f) = u ~ U[1, T - 1], so the forget time 1 + e^{b_f} spans [2, T].
    uniform_checks(np.exp(b_f), 1.0, max_length - 1.0)
    np.testing.assert_array_equal(b_i, -b_f)
    assert not np.any(b_c) and not np.any(b_o)


@pytest.mark.parametrize("reset_after", [True, False])
def test_chrono_gru_gate_statistics(reset_after):
    h, max_length = 16384, 100
    shape = (2, 3 * h) if reset_after else (3 * h,)
    b = to_numpy(ChronoBias(max_length, seed=0, cell="gru")(shape))
    assert b.shape == shape
    if reset_after:
        assert not np.any(b[1])  # recurrent row: zero, the input row holds b_z
        b = b[0]
    b_z, b_r, b_h = np.split(b, 3)
    uniform_checks(np.exp(b_z), 1.0, max_length - 1.0)  # b_z = +log(u) >= 0
    assert not np.any(b_r) and not np.any(b_h)


def test_chrono_lstm_real_layer_keeps_cell_state_per_forget_bias():
    # Zero kernels, zero input, c_0 = 1: Keras' LSTM gives c_t = f^t with
    # f = sigmoid(b_f) (the candidate tanh(0) is 0), so the memory time
    # 1 / (1 - f) = 1 + e^{b_f} lies in [2, T].
    h, steps, max_length = 32, 5, 50
    layer = keras.layers.LSTM(
        h,
        kernel_initializer="zeros",
        recurrent_initializer="zeros",
        bias_initializer=ChronoBias(max_length, seed=1),
        unit_forget_bias=False,
        return_state=True,
    )
    x = np.zeros((1, steps, 2), dtype="float32")
    ones = np.ones((1, h), dtype="float32")
    _, _, c = layer(x, initial_state=[np.zeros_like(ones), ones])
    b_f = to_numpy(layer.cell.bias)[h : 2 * h]
    f = 1 / (1 + np.exp(-b_f))
    np.testing.assert_allclose(to_numpy(c)[0], f**steps, rtol=1e-5)
    memory = 1 / (1 - f)
    assert memory.min() >= 2 - 1e-4 and memory.max() <= max_length + 1e-3


@pytest.mark.parametrize("reset_after", [True, False])
def test_chrono_gru_real_layer_keeps_state_per_update_bias(reset_after):
    # Zero kernels and input, h_0 = 1: Keras' GRU gives h_t = z^t (hh = 0),
    # z = sigmoid(b_z) >= 1/2 with the documented sign b_z = +log(u).
    h, steps, max_length = 32, 5, 50
    layer = keras.layers.GRU(
        h,
        kernel_initializer="zeros",
        recurrent_initializer="zeros",
        bias_initializer=ChronoBias(max_length, seed=1, cell="gru"),
        reset_after=reset_after,
    )
    out = layer(np.zeros((1, steps, 2), "float32"), initial_state=np.ones((1, h)))
    bias = to_numpy(layer.cell.bias)
    b_z = (bias.sum(axis=0) if reset_after else bias)[:h]
    z = 1 / (1 + np.exp(-b_z))
    np.testing.assert_allclose(to_numpy(out)[0], z**steps, rtol=1e-5)
    memory = 1 / (1 - z)
    assert memory.min() >= 2 - 1e-4 and memory.max() <= max_length + 1e-3


@pytest.mark.parametrize("units", [3, 8])
def test_chrono_with_unit_forget_bias_is_refused(units):
    # Keras' default unit_forget_bias=True calls the initializer on (units,)
    # and (2 * units,) pieces; units = 8 would pass a shape-only check.
    layer = keras.layers.LSTM(units, bias_initializer=ChronoBias(100, seed=0))
    with pytest.raises(
        ValueError,
        match=r"^`unit_forget_bias` must be False on an LSTM whose `bias_initializer` "
        r"is ChronoBias .* Received: unit_forget_bias=True$",
    ):
        built(layer)


def test_chrono_seed_semantics():
    a = ChronoBias(100, seed=5)
    np.testing.assert_array_equal(to_numpy(a((8,))), to_numpy(a((8,))))
    np.testing.assert_array_equal(to_numpy(a((8,))), to_numpy(ChronoBias(100, 5)((8,))))
    assert not np.array_equal(to_numpy(a((8,))), to_numpy(ChronoBias(100, 6)((8,))))
    fresh = ChronoBias(100, seed=keras.random.SeedGenerator(1))
    assert not np.array_equal(to_numpy(fresh((8,))), to_numpy(fresh((8,))))
    keras.utils.set_random_seed(3)
    first = to_numpy(ChronoBias(100)((8,)))
    keras.utils.set_random_seed(3)
    np.testing.assert_array_equal(first, to_numpy(ChronoBias(100)((8,))))


@pytest.mark.parametrize(
    "cell, shape",
    [
        ("lstm", (10,)),
        ("lstm", (2, 12)),
        ("lstm", (0,)),
        ("lstm", (4, 4, 4)),
        ("gru", (8,)),
        ("gru", (3, 12)),
        ("gru", (2, 10)),
    ],
)
def test_chrono_bad_shape(cell, shape):
    with pytest.raises(
        ValueError,
        match=rf"^`shape` must be the {cell.upper()} bias shape .* "
        rf"for ChronoBias\(cell='{cell}'\)\. Received: shape=",
    ):
        ChronoBias(100, seed=0, cell=cell)(shape)


@pytest.mark.parametrize("value", [2, 1.5, 0, -10, float("nan"), float("inf")])
def test_chrono_bad_max_length_value(value):
    with pytest.raises(
        ValueError,
        match=rf"^`max_length` must be a finite number > 2\. "
        rf"Received: max_length={value}$",
    ):
        ChronoBias(value)


@pytest.mark.parametrize("value", ["100", None, True])
def test_chrono_bad_max_length_type(value):
    with pytest.raises(TypeError, match=r"^`max_length` must be a finite number > 2\."):
        ChronoBias(value)


def test_chrono_bad_cell():
    with pytest.raises(
        ValueError,
        match=r"^`cell` must be one of gru, lstm or None\. Received: cell='simple'$",
    ):
        ChronoBias(100, cell="simple")
    with pytest.raises(TypeError, match=r"^`cell` must be one of gru, lstm or None\. "):
        ChronoBias(100, cell=4)


@pytest.mark.parametrize("given", [None, "kind"])
@pytest.mark.parametrize("name", sorted(CHRONO_LAYERS))
def test_chrono_on_every_keras_gated_layer(name, given):
    kind, reset_after, make = CHRONO_LAYERS[name]
    cell = kind if given == "kind" else None
    layer = built(make(ChronoBias(100, seed=0, cell=cell)))
    for c in cells_of(layer):
        assert_chrono(c.bias, kind, 100, reset_after=reset_after)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHRONO_LAYERS))
def test_chrono_in_a_subclassed_model_gets_the_cells_layout(name):
    # Deferred initialization: no add_weight on the stack. A GRU(reset_after=
    # False) bias (768,) also fits 4 LSTM blocks of 192 and was refused.
    kind, reset_after, make = CHRONO_LAYERS[name]
    layer = built_in_subclassed_model(make(ChronoBias(100, seed=0)))
    for c in cells_of(layer):
        assert_chrono(c.bias, kind, 100, reset_after=reset_after)


@pytest.mark.slow
@pytest.mark.parametrize("units", [3, 8])
def test_chrono_with_unit_forget_bias_in_a_subclassed_model_is_refused(units):
    # Review of issue 40: here the (units,) pieces were taken for a whole
    # LSTM bias of units / 4 cells: b_f = 1 everywhere, b_i = -b_c (units=8).
    layer = keras.layers.LSTM(units, bias_initializer=ChronoBias(100, seed=0))
    # JAX's tracing swallows the error and Keras retries eagerly, which fails
    # on the weights already initialized; TensorFlow surfaces ours.
    ours = keras.backend.backend() == "tensorflow"
    message = "`unit_forget_bias` must be False" if ours else "already initialized"
    try:
        with pytest.raises(
            ValueError,
            match=message,
        ):
            built_in_subclassed_model(layer)
    finally:
        # Keras keeps the weights whose deferred initialization failed in its
        # global list and retries them in the next model built.
        keras.utils.clear_session()


def test_chrono_gru_without_cell_gets_the_gru_layout():
    # Issue 40: `cell` defaulted to "lstm", so this GRU got 48 of 64 update
    # biases negative (min -4.59) and 32 of 64 reset biases non-zero.
    layer = built(
        keras.layers.GRU(
            64, reset_after=False, bias_initializer=ChronoBias(100, seed=0)
        )
    )
    assert_chrono(layer.cell.bias, "gru", 100)


@pytest.mark.parametrize(
    "make, given, real, cell_class",
    [
        # Issue 40: this LSTM got mean b_i = +3.58, b_f = +1.13, b_i != -b_f.
        (
            lambda i: keras.layers.LSTM(48, unit_forget_bias=False, bias_initializer=i),
            "gru",
            "lstm",
            "LSTMCell",
        ),
        (
            lambda i: keras.layers.GRU(64, reset_after=False, bias_initializer=i),
            "lstm",
            "gru",
            "GRUCell",
        ),
        (
            lambda i: keras.layers.Bidirectional(
                keras.layers.GRU(8, bias_initializer=i)
            ),
            "lstm",
            "gru",
            "GRUCell",
        ),
    ],
)
def test_chrono_cell_that_disagrees_with_the_layer_is_refused(
    make, given, real, cell_class
):
    with pytest.raises(
        ValueError,
        match=rf"^`cell` must be '{real}' or None for ChronoBias initializing the "
        rf"bias of {cell_class} '\w+'\. Received: cell='{given}'$",
    ):
        built(make(ChronoBias(100, seed=0, cell=given)))


def test_chrono_on_a_weight_that_is_not_the_cells_bias():
    cell = keras.layers.LSTMCell(4, kernel_initializer=ChronoBias(100, seed=0))
    with pytest.raises(
        ValueError,
        match=r"^`shape` must be the bias shape \(16,\) of LSTMCell '\w+' "
        r"\(units=4\) that ChronoBias initializes\. Received: shape=\(3, 16\)$",
    ):
        keras.layers.RNN(cell).build((None, None, 3))


def test_chrono_outside_a_cell_refuses_a_shape_that_fits_both():
    message = (
        r"^`cell` must be 'gru' or 'lstm' for ChronoBias called outside an LSTM "
        r"or GRU cell on a shape that fits both, \(48,\) = 4 x 12 \(LSTM\) = "
        r"3 x 16 \(GRU\): pass cell=\. Received: cell=None$"
    )
    with pytest.raises(ValueError, match=message):
        ChronoBias(100, seed=0)((48,))
    # Dense is no recurrent cell: its (48,) bias is just as ambiguous.
    with pytest.raises(ValueError, match=message):
        keras.layers.Dense(48, bias_initializer=ChronoBias(100, seed=0)).build(
            (None, 3)
        )
    # With `cell`, a direct call works as before.
    assert_chrono(ChronoBias(100, seed=0, cell="lstm")((4 * 300,)), "lstm", 100)
    assert_chrono(ChronoBias(100, seed=0, cell="gru")((3 * 400,)), "gru", 100)


@pytest.mark.parametrize(
    "shape, kind, reset_after",
    [
        ((4 * 1000,), "lstm", False),
        ((3 * 1001,), "gru", False),
        ((2, 3000), "gru", True),
    ],
)
def test_chrono_outside_a_cell_takes_the_one_layout_the_shape_fits(
    shape, kind, reset_after
):
    b = ChronoBias(100, seed=0)(shape)
    assert tuple(b.shape) == shape
    assert_chrono(b, kind, 100, reset_after=reset_after)


@pytest.mark.parametrize("shape", [(10,), (3, 12), (2, 10), ()])
def test_chrono_outside_a_cell_shape_of_no_gated_bias(shape):
    with pytest.raises(
        ValueError,
        match=r"^`shape` must be an LSTM bias shape \(4 \* units,\) or a GRU one, "
        r"\(3 \* units,\) or \(2, 3 \* units\), for ChronoBias\. Received: shape=",
    ):
        ChronoBias(100, seed=0)(shape)


@pytest.mark.parametrize("cell", [None, "gru"])
def test_chrono_keras_file_round_trip(cell, tmp_path):
    init = ChronoBias(100, seed=3, cell=cell)
    model = keras.Sequential(
        [
            keras.Input((5, 2)),
            keras.layers.Bidirectional(
                keras.layers.GRU(16, reset_after=False, bias_initializer=init)
            ),
        ]
    )
    path = tmp_path / "chrono.keras"
    model.save(path)
    loaded = keras.saving.load_model(path).layers[0]
    config = {"max_length": 100.0, "seed": 3, "cell": cell}
    for c in cells_of(loaded):
        assert c.bias_initializer.get_config() == config
        assert_chrono(c.bias, "gru", 100)
    # A fresh build from the loaded config draws the saved numbers.
    rebuilt = built(keras.layers.GRU.from_config(loaded.forward_layer.get_config()), 2)
    np.testing.assert_array_equal(
        to_numpy(rebuilt.cell.bias), to_numpy(cells_of(model.layers[0])[0].bias)
    )


def test_chrono_gru_file_saved_with_cell_lstm_still_loads(tmp_path):
    # keras_rnninit 0.1 saved ChronoBias(cell="lstm") (its default) for a GRU
    # too. Loading such a file builds the GRU, which asks the initializer for
    # a bias; that must not refuse: the saved weights replace it.
    import json
    import zipfile

    model = keras.Sequential(
        [keras.Input((5, 2)), keras.layers.GRU(16, bias_initializer=ChronoBias(100))]
    )
    model.layers[0].cell.bias.assign(np.arange(96, dtype="float32").reshape(2, 48))
    path, old = tmp_path / "new.keras", tmp_path / "saved_by_0.1.keras"
    model.save(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                text = data.decode()
                assert text.count('"cell": null') == 1
                data = text.replace('"cell": null', '"cell": "lstm"').encode()
            dst.writestr(item, data)
    with pytest.warns(UserWarning, match=r"the cell's 'gru' layout is used"):
        loaded = keras.saving.load_model(old)
    np.testing.assert_array_equal(
        to_numpy(loaded.layers[0].cell.bias), to_numpy(model.layers[0].cell.bias)
    )
    assert (
        json.loads(json.dumps(loaded.layers[0].cell.bias_initializer.get_config()))[
            "cell"
        ]
        == "lstm"
    )
    # Built from a user's own config, the disagreement is refused as before.
    with pytest.raises(ValueError, match=r"^`cell` must be 'gru' or None"):
        built(keras.layers.GRU(8, bias_initializer=ChronoBias(100, cell="lstm")))
