"""The comparison callbacks on one fit: gradient through time before and after.

    python examples/adding_problem.py           # adding T=50, 2000 steps
    python examples/adding_problem.py --quick

Fits SimpleRNN(64) initialized with XavierRNN on the adding problem with
`RNNDiagnostics`, `ConvergenceTracker` and `NaNGuard`, prints the logged
diagnostics per epoch and writes <out>/adding_grad_through_time.png.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


import keras  # noqa: E402
import numpy as np  # noqa: E402
from _common import parse_args  # noqa: E402

from keras_rnninit import schemes  # noqa: E402
from keras_rnninit.diagnostics.callbacks import (  # noqa: E402
    ConvergenceTracker,
    NaNGuard,
    RNNDiagnostics,
)
from keras_rnninit.tasks import adding_problem  # noqa: E402


def main():
    args = parse_args(__doc__)
    length, epochs, units = (10, 15, 16) if args.quick else (50, 20, 64)
    keras.utils.set_random_seed(0)
    x, y = adding_problem(100 * 64, length, seed=0)
    x_test, y_test = adding_problem(1000, length, seed=1)
    model = schemes.get("xavier_rnn").build_model(input_dim=2, units=units, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    diag = RNNDiagnostics((x_test[:64], y_test[:64]))
    tracker = ConvergenceTracker(threshold=0.01)
    history = model.fit(
        x,
        y,
        batch_size=64,
        epochs=epochs,
        verbose=0,
        validation_data=(x_test, y_test),
        callbacks=[diag, tracker, NaNGuard()],
    )
    print(
        f"{'epoch':>5} {'test MSE':>9} {'log10 ratio':>12} {'radius':>7} "
        f"{'|dL/dWhh|':>10}"
    )
    for epoch, mse in enumerate(history.history["val_loss"]):
        h = history.history
        print(
            f"{epoch + 1:>5} {mse:>9.4f} {h['rnn_log10_grad_ratio'][epoch]:>12.2f} "
            f"{h['rnn_spectral_radius'][epoch]:>7.3f} "
            f"{h['rnn_grad_norm_whh'][epoch]:>10.2e}"
        )
    print(f"test MSE < 0.01 first at step: {tracker.crossed_step or 'never'}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for record, label in (
        (diag.records[0], "at initialization"),
        (diag.records[-1], f"after {record_step(diag)} steps"),
    ):
        t = np.arange(1, len(record["grad_norms"]) + 1)
        ax.plot(t, record["grad_norms"], label=label)
    ax.set(
        yscale="log",
        xlabel="time step t",
        ylabel="||dL/dh_t|| (probe batch)",
        title=f"XavierRNN, adding problem T={length}: gradient through time",
    )
    ax.legend()
    fig.tight_layout()
    path = os.path.join(args.out, "adding_grad_through_time.png")
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")


def record_step(diag):
    return diag.records[-1]["step"]


if __name__ == "__main__":
    main()
