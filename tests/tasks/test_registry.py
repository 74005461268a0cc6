import numpy as np
import pytest

from keras_rnninit import tasks  # noqa: E402
from keras_rnninit.tasks import (  # noqa: E402
    char_windows,
)


def test_task_registry():
    assert tasks.names() == [
        "acsf1",
        "adding",
        "chars",
        "copy",
        "digits",
        "digits_permuted",
        "japanese_vowels",
        "osuleaf",
    ]
    assert tasks.get("adding").mode == "min" and tasks.get("digits").mode == "max"
    task = tasks.get("copy")
    x, y = task.train_data(3, 5, seed=0)
    xt, _ = task.test_data(3, 5, seed=0)
    assert x.shape == (3, 25, 10) and not np.array_equal(x, xt)
    assert task.return_sequences and task.classification
    with pytest.raises(ValueError, match="`task` must be one of acsf1, adding, chars"):
        tasks.get("parity")
    with pytest.raises(ValueError, match="`split` must be one of test, train"):
        char_windows(2, 5, split="valid")


def test_task_monitor_decides_the_direction():
    import dataclasses

    adding = tasks.get("adding")
    assert (adding.monitor, adding.mode, adding.metrics()) == ("loss", "min", [])
    assert dataclasses.replace(adding, monitor="accuracy").mode == "max"
    with pytest.raises(
        ValueError, match="`monitor` must be one of accuracy, loss. Received: mon"
    ):
        dataclasses.replace(adding, monitor="f1")
