"""compare(model=..., data=...): schemes compared on your own model and arrays.

References are independent of the runner: batches from the documented
stream of seeded permutations, a model re-initialized by
`schemes.reinitialize` and trained step by step with `train_on_batch`, the
monitored value recomputed with `evaluate`, the saved file reloaded.
"""

import keras
import pytest

from keras_rnninit.compare.own import monitor_mode
from tests.compare.own.helpers import XV, YV, classifier


@pytest.mark.slow
@pytest.mark.parametrize(
    "monitor, mode", [("val_loss", "min"), ("val_accuracy", "max"), ("loss", "min")]
)
def test_direction_is_inferred_as_early_stopping_does(monitor, mode):
    model = classifier()
    model.evaluate(XV, YV, verbose=0)  # builds the compiled metrics
    assert monitor_mode(model, monitor) == mode
    stopping = keras.callbacks.EarlyStopping(monitor=monitor)
    stopping.set_model(model)
    stopping._set_monitor_op()  # Keras' own inference, as the reference
    assert (stopping.monitor_op == keras.ops.greater) == (mode == "max")


@pytest.mark.slow
def test_monitor_with_no_direction_needs_mode():
    model = classifier()
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=[lambda t, p: p[:, 0]]
    )
    model.evaluate(XV, YV, verbose=0)
    name = next(k for k in model.get_metrics_result() if k != "loss")
    with pytest.raises(ValueError, match=r"^`mode` must be 'max' or 'min' for monit"):
        monitor_mode(model, f"val_{name}")
    assert monitor_mode(model, f"val_{name}", mode="max") == "max"
