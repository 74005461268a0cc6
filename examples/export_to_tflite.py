"""Train, export float32 and float16 TFLite, run both in LiteRT, compare with Keras.

    python examples/export_to_tflite.py
    python examples/export_to_tflite.py --quick

Writes <out>/adding.keras, <out>/adding_f32.tflite, <out>/adding_f16.tflite
(with .json sidecars) and <out>/export_parity.png (Keras vs LiteRT outputs).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


import keras  # noqa: E402
import numpy as np  # noqa: E402
from _common import parse_args  # noqa: E402

from keras_rnninit import schemes  # noqa: E402
from keras_rnninit.export import TFLiteRunner, export_tflite  # noqa: E402
from keras_rnninit.tasks import adding_problem  # noqa: E402


def main():
    args = parse_args(__doc__)
    length, epochs = (10, 1) if args.quick else (30, 15)
    x, y = adding_problem(100 * 64, length, seed=0)
    x_test, _ = adding_problem(200, length, seed=1)
    model = schemes.get("xavier_rnn").build_model(input_dim=2, units=32, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    source = os.path.join(args.out, "adding.keras")
    model.save(source)
    expected = model.predict(x_test, verbose=0)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    print(f"{'file':<22} {'KiB':>6} {'max abs err':>12} {'LiteRT ms':>10}")
    for quantize, name in (
        (None, "adding_f32.tflite"),
        ("float16", "adding_f16.tflite"),
    ):
        path = os.path.join(args.out, name)
        report = export_tflite(source, path, quantize=quantize, overwrite=True)
        got = TFLiteRunner(path)(x_test)
        err = float(np.abs(got - expected).max())
        print(
            f"{name:<22} {report.size_bytes / 1024:>6.1f} {err:>12.2e} "
            f"{report.latency_ms:>10.3f}"
        )
        ax.scatter(expected[:, 0], got[:, 0], s=6, label=f"{quantize or 'float32'}")
    ax.set(
        xlabel="Keras prediction",
        ylabel="LiteRT prediction",
        title="Exported model vs Keras (200 test sequences)",
    )
    ax.legend()
    fig.tight_layout()
    figure = os.path.join(args.out, "export_parity.png")
    fig.savefig(figure, dpi=110)
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
