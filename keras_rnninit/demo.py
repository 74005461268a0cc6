"""The main job behind `make demo`: train a SimpleRNN with XavierRNN, offline."""

import time

import keras
import numpy as np

from keras_rnninit import schemes
from keras_rnninit.tasks import ADDING_BASELINE_MSE, adding_problem

__all__ = ["run_demo"]

STEPS_PER_EPOCH = 100


def run_demo(steps=2000, length=30, units=32, seed=0, batch_size=64, verbose=2):
    """Train `xavier_rnn` on the adding problem and return a summary dict.

    The data are generated from `seed` (training set of `STEPS_PER_EPOCH`
    batches, reshuffled each epoch, and a separate 1024-sequence test set), so
    two runs with the same arguments print the same numbers.
    """
    keras.utils.set_random_seed(seed)
    x, y = adding_problem(STEPS_PER_EPOCH * batch_size, length, seed=seed)
    x_test, y_test = adding_problem(1024, length, seed=seed + 1)
    model = schemes.get("xavier_rnn").build_model(input_dim=2, units=units, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    initial = float(model.evaluate(x_test, y_test, verbose=0))
    epochs = max(1, steps // STEPS_PER_EPOCH)
    start = time.perf_counter()
    history = model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_test, y_test),
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    test_mse = history.history["val_loss"]
    return {
        "scheme": "xavier_rnn",
        "task": f"adding T={length}",
        "units": units,
        "steps": epochs * STEPS_PER_EPOCH,
        "initial_test_mse": initial,
        "final_test_mse": float(test_mse[-1]),
        "best_test_mse": float(np.min(test_mse)),
        "baseline_mse": ADDING_BASELINE_MSE,
        "train_seconds": seconds,
    }
