"""RNNDiagnostics(log_dir=...) writes what TensorBoard shows, read back with
TensorBoard's own event reader (the one `tensorboard --logdir` uses)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_rnninit import XavierRNN
from keras_rnninit.diagnostics.callbacks import RNNDiagnostics

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator"
)

UNITS, T, STEPS = 6, 10, 4


@pytest.mark.slow
def test_log_dir_has_profiles_histogram_and_scalars(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, T, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((T, 3)),
            keras.layers.SimpleRNN(UNITS, recurrent_initializer=XavierRNN(seed=1)),
            keras.layers.Dense(1),
        ]
    )
    model.compile("adam", "mse")
    diag = RNNDiagnostics((x[:8], y[:8]), log_dir=tmp_path)
    history = model.fit(x, y, batch_size=8, epochs=2, callbacks=[diag], verbose=0)

    events = event_accumulator.EventAccumulator(
        str(tmp_path), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    tags = set(events.Tags()["tensors"])
    assert {
        "rnn_grad_through_time",
        "rnn_state_variance",
        "rnn_recurrent_singular_values",
        "rnn_log10_grad_ratio",
        "rnn_spectral_radius",
    } <= tags
    # One entry per diagnosis: at init (step 0) and after each epoch.
    steps = [e.step for e in events.Tensors("rnn_grad_through_time")]
    assert steps == [0, STEPS, 2 * STEPS]

    # Images: [width, height, PNG] as the Images dashboard reads them.
    width, height, png = tf.make_ndarray(
        events.Tensors("rnn_state_variance")[-1].tensor_proto
    )
    image = tf.io.decode_png(png).numpy()
    assert image.shape[:2] == (int(height), int(width))
    assert image.std() > 0  # something was drawn

    # Histogram of the final kernel's singular values, against numpy's SVD.
    buckets = tf.make_ndarray(
        events.Tensors("rnn_recurrent_singular_values")[-1].tensor_proto
    )
    kernel = keras.ops.convert_to_numpy(model.layers[0].cell.recurrent_kernel)
    singular = np.linalg.svd(kernel.astype("float64"), compute_uv=False)
    assert buckets[:, 2].sum() == pytest.approx(UNITS)
    assert buckets[0, 0] == pytest.approx(singular.min(), rel=1e-5)
    assert buckets[-1, 1] == pytest.approx(singular.max(), rel=1e-5)

    # Scalars: the values Keras' own logs got at the end of each epoch.
    ratios = [
        float(tf.make_ndarray(e.tensor_proto))
        for e in events.Tensors("rnn_log10_grad_ratio")
    ]
    np.testing.assert_allclose(
        ratios[1:], history.history["rnn_log10_grad_ratio"], rtol=1e-6
    )
