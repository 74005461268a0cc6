"""One validator for positive numbers: same types, same one-line messages."""

import numpy as np
import pytest

from keras_rnninit import XavierRNN
from keras_rnninit.compare import CompareConfig
from keras_rnninit.diagnostics.callbacks import RNNDiagnostics
from keras_rnninit.export import export_tflite
from keras_rnninit.tasks import adding_problem
from keras_rnninit.utils.validation import (
    check_int,
    check_number,
    check_positive_int,
    check_positive_number,
)

PROBE = (np.zeros((2, 3, 1), "float32"), np.zeros((2, 1), "float32"))


def test_check_positive_int():
    assert check_positive_int("n", np.int64(3)) == 3
    assert check_positive_int("n", None, optional=True) is None
    with pytest.raises(
        ValueError, match=r"^`n` must be a positive int\. Received: n=0$"
    ):
        check_positive_int("n", 0)
    with pytest.raises(TypeError, match=r"^`n` must be a positive int or None\. "):
        check_positive_int("n", 2.0, optional=True)
    with pytest.raises(TypeError, match="of type bool"):
        check_positive_int("n", True)


def test_check_int():
    assert check_int("length", np.int32(2), 2) == 2
    with pytest.raises(
        ValueError, match=r"^`length` must be an int >= 2\. Received: length=1$"
    ):
        check_int("length", 1, 2)
    with pytest.raises(
        TypeError, match=r"^`length` must be an int >= 0\. .* of type float"
    ):
        check_int("length", 3.0, 0)
    # The tasks check with it: the same message from their public functions.
    with pytest.raises(ValueError, match=r"^`length` must be an int >= 2\. "):
        adding_problem(4, 1)


def test_check_positive_number():
    assert check_positive_number("x", 2) == 2.0
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"^`x` must be a positive finite float"):
            check_positive_number("x", bad)
    with pytest.raises(TypeError, match="of type str"):
        check_positive_number("x", "1")


def test_check_number():
    assert check_number("x", -3) == -3.0 and check_number("x", 0, minimum=0) == 0.0
    assert check_number("x", np.float32(2.5), minimum=2, exclusive=True) == 2.5
    for bad, minimum, exclusive, text in [
        (float("nan"), None, False, "a finite number"),
        (float("-inf"), None, False, "a finite number"),
        (-0.5, 0, False, "a finite number >= 0"),
        (2, 2, True, "a finite number > 2"),
    ]:
        with pytest.raises(ValueError, match=rf"^`x` must be {text}\. Received: x="):
            check_number("x", bad, minimum=minimum, exclusive=exclusive)
    with pytest.raises(
        TypeError, match=r"^`x` must be a finite number\. .*of type bool$"
    ):
        check_number("x", True)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: XavierRNN(gain=[1.0]), TypeError, "`gain` must be a positive finite"),
        (lambda: XavierRNN(gates=2.0), TypeError, "`gates` must be a positive int"),
        (lambda: CompareConfig(units=8.0), TypeError, "`units` must be a positive int"),
        (
            lambda: CompareConfig(learning_rate="1"),
            TypeError,
            "`learning_rate` must be a positive finite float",
        ),
        (
            lambda: RNNDiagnostics(PROBE, every="3"),
            TypeError,
            "`every` must be a positive int or None",
        ),
        (
            lambda: export_tflite("m.keras", "m.tflite", seq_len=0),
            ValueError,
            "`seq_len` must be a positive int or None",
        ),
    ],
)
def test_every_api_uses_the_same_checks(make, error, match):
    with pytest.raises(error, match=match):
        make()
