"""`.keras` round-trips, loaded in a fresh Python process with no custom_objects."""

import json
import textwrap

import keras
import numpy as np

from keras_rnninit import (
    ScaledIdentity,
    SpectralRadius,
    XavierRNN,
    XavierRNNCell,
    schemes,
)
from keras_rnninit.tasks import adding_problem
from tests.helpers import run_python

LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras
    import keras_rnninit  # registers the classes; nothing else is passed to load
    model_path, ref_path = sys.argv[1], sys.argv[2]
    model = keras.saving.load_model(model_path)
    ref = np.load(ref_path)
    weights = model.get_weights()
    assert len(weights) == int(ref["n"]), "weight count differs"
    for i, w in enumerate(weights):
        assert np.array_equal(w, ref[f"w{i}"]), f"weight {i} differs"
    assert np.array_equal(model.predict(ref["x"], verbose=0), ref["y"]), "predictions"
    configs = {}
    for layer in model.layers:
        cell = getattr(layer, "cell", layer)
        for attr in ("kernel_initializer", "recurrent_initializer"):
            init = getattr(cell, attr, None)
            if init is not None:
                configs[f"{layer.name}.{attr}"] = [
                    keras.saving.get_registered_name(type(init)), init.get_config()]
    print(json.dumps(configs))
""")


def save_with_reference(model, tmp_path, name):
    x, y = adding_problem(64, length=8, seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)  # trained, not fresh, weights
    path = tmp_path / f"{name}.keras"
    model.save(path)
    weights = model.get_weights()
    ref = tmp_path / f"{name}.npz"
    np.savez(
        ref,
        x=x,
        y=model.predict(x, verbose=0),
        n=len(weights),
        **{f"w{i}": w for i, w in enumerate(weights)},
    )
    return str(path), str(ref)


def load_in_fresh_process(model_path, ref_path):
    done = run_python("-c", LOADER, model_path, ref_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_simple_rnn_with_xavier_rnn(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, 2)),
            keras.layers.SimpleRNN(
                8,
                kernel_initializer=XavierRNN(gain=0.9, seed=1),
                recurrent_initializer=XavierRNN(seed=2),
                name="rnn",
            ),
            keras.layers.Dense(1),
        ]
    )
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "simple"))
    assert configs["rnn.kernel_initializer"] == [
        "keras_rnninit>XavierRNN",
        {"gain": 0.9, "seed": 1},
    ]


def test_rnn_with_xavier_rnn_cell_and_identity_gain(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((None, 2)),
            keras.layers.RNN(
                XavierRNNCell(
                    8, recurrent_initializer=ScaledIdentity(gain=0.5), seed=3
                ),
                name="cell_rnn",
            ),
            keras.layers.Dense(1),
        ]
    )
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "cell"))
    # ScaledIdentity keeps its gain through save/load (Keras' Identity does not).
    assert configs["cell_rnn.recurrent_initializer"] == [
        "keras_rnninit>ScaledIdentity",
        {"gain": 0.5},
    ]
    assert configs["cell_rnn.kernel_initializer"][0] == "keras_rnninit>XavierRNN"


def test_scheme_model_with_spectral_radius(tmp_path):
    scheme = schemes.Scheme(
        "spectral_test",
        "test scheme",
        kernel=lambda u, s: XavierRNN(seed=s),
        recurrent=lambda u, s: SpectralRadius(radius=0.8, seed=s),
        output=lambda u, s: XavierRNN(seed=s),
    )
    model = scheme.build_model(input_dim=2, units=8, seed=0)
    configs = load_in_fresh_process(*save_with_reference(model, tmp_path, "spectral"))
    name, config = configs["rnn.recurrent_initializer"]
    assert name == "keras_rnninit>SpectralRadius" and config["radius"] == 0.8
