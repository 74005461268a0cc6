"""Quickstart: XavierRNN in a standard Keras model, fit, save, reload.

    python examples/quickstart.py           # ~2000 steps on the adding problem
    python examples/quickstart.py --quick   # a few seconds, used by the smoke test

Writes `<out>/quickstart_simple_rnn.keras` and `<out>/quickstart_cell.keras`
(default out: runs/examples) and prints the test MSE before and after training
and after reloading.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _common import parse_args  # noqa: E402

import keras_rnninit  # noqa: E402, F401  (registers the classes for load_model)
from keras_rnninit import XavierRNN, XavierRNNCell  # noqa: E402
from keras_rnninit.tasks import adding_problem  # noqa: E402


def build(kind, units, seed):
    if kind == "simple_rnn":
        rnn = keras.layers.SimpleRNN(
            units,
            kernel_initializer=XavierRNN(seed=seed),
            recurrent_initializer=XavierRNN(seed=seed + 1),
        )
    else:
        rnn = keras.layers.RNN(XavierRNNCell(units, seed=seed))
    model = keras.Sequential(
        [
            keras.Input((None, 2)),
            rnn,
            keras.layers.Dense(1, kernel_initializer=XavierRNN()),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def main():
    args = parse_args(__doc__)
    length, epochs = (8, 2) if args.quick else (30, 20)
    keras.utils.set_random_seed(0)
    x, y = adding_problem(6400, length, seed=0)
    x_test, y_test = adding_problem(1024, length, seed=1)
    for kind in ("simple_rnn", "cell"):
        model = build(kind, units=32, seed=0)
        before = model.evaluate(x_test, y_test, verbose=0)
        model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
        after = model.evaluate(x_test, y_test, verbose=0)
        path = os.path.join(args.out, f"quickstart_{kind}.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)  # no custom_objects needed
        same = np.array_equal(
            model.predict(x_test, verbose=0), reloaded.predict(x_test, verbose=0)
        )
        print(
            f"{kind:>10}: test MSE {before:.4f} -> {after:.4f} "
            f"(constant-1.0 baseline 0.1667); saved {path}; "
            f"reloaded predictions identical: {same}"
        )


if __name__ == "__main__":
    main()
