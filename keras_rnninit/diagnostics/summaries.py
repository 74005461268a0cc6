"""TensorBoard summaries of one diagnosis, for `RNNDiagnostics(log_dir=...)`.

Per diagnosis, at the optimizer step it was taken:

- images `{prefix}grad_through_time` (log10 ||dL/dh_t|| against t) and
  `{prefix}state_variance` (Var[h_t] against t), drawn with matplotlib;
- a histogram `{prefix}recurrent_singular_values` of the recurrent kernel;
- every scalar the callback also writes into Keras' `logs`.

`tensorboard --logdir DIR` shows them (Images, Histograms, Scalars). Writing
needs the `tensorboard` package (`pip install keras_rnninit[tensorboard]`):
TensorFlow's `tf.summary` delegates images and histograms to it.
"""

import io

import numpy as np

__all__ = ["SummaryLog"]


def _require_tensorboard():
    try:
        import tensorboard  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "`log_dir` needs the tensorboard package: "
            "pip install 'keras_rnninit[tensorboard]'"
        ) from error


def _profile_png(values, title, ylabel):
    """A (1, H, W, 4) uint8 image of `values` against t = 1..T."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3), dpi=80)
    steps = np.arange(1, len(values) + 1)
    axes.plot(steps, np.where(np.isfinite(values), values, np.nan))
    axes.set(title=title, xlabel="t", ylabel=ylabel)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


class SummaryLog:
    """Writes diagnoses as TensorBoard summaries into `log_dir`."""

    def __init__(self, log_dir):
        _require_tensorboard()
        import tensorflow as tf

        self.log_dir = str(log_dir)
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def write(self, step, prefix, report, scalars, recurrent_kernel):
        import tensorflow as tf

        log10 = np.asarray(report.log10_grad_norms, dtype="float64")
        variance = np.asarray(report.variance, dtype="float64")
        singular = np.linalg.svd(
            np.asarray(recurrent_kernel, dtype="float64"), compute_uv=False
        )
        images = {
            "grad_through_time": _profile_png(
                log10, "gradient through time", "log10 ||dL/dh_t||"
            ),
            "state_variance": _profile_png(variance, "state variance", "Var[h_t]"),
        }
        with self._writer.as_default(step=int(step)):
            for name, png in images.items():
                image = tf.image.decode_png(png, channels=4)[tf.newaxis]
                tf.summary.image(f"{prefix}{name}", image)
            tf.summary.histogram(f"{prefix}recurrent_singular_values", singular)
            for key, value in scalars.items():
                tf.summary.scalar(key, float(value))
        self._writer.flush()

    def close(self):
        self._writer.close()
