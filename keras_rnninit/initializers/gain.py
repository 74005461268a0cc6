"""`calculate_gain`: the recommended gain for an activation, as in `torch.nn.init`."""

import math

from keras_rnninit.utils.validation import check_positive_number

__all__ = ["calculate_gain", "check_gain"]

# The values of `torch.nn.init.calculate_gain`.
_GAINS = {
    "linear": 1.0,
    "identity": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4.0,
}


def calculate_gain(activation: str, param: float | None = None) -> float:
    """The recommended gain for `activation`, as `torch.nn.init.calculate_gain`.

    linear, identity, sigmoid: 1; tanh: 5/3; relu: sqrt(2); selu: 3/4;
    leaky_relu: sqrt(2 / (1 + slope²)) with `param` the negative slope
    (default 0.01).

    Example:

        >>> from keras_rnninit import calculate_gain
        >>> round(calculate_gain("tanh"), 4)
        1.6667

    Args:
        activation: The activation's name.
        param: The negative slope of `leaky_relu`; no other activation takes one.
    """
    if not isinstance(activation, str):
        raise TypeError(
            "`activation` must be a string. "
            f"Received: activation={activation!r} of type {type(activation).__name__}"
        )
    if activation == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise TypeError(
                "`param` must be a number (the negative slope). "
                f"Received: param={param!r} of type {type(param).__name__}"
            )
        return math.sqrt(2.0 / (1.0 + slope**2))
    if activation not in _GAINS:
        raise ValueError(
            "`activation` must be one of "
            f"{', '.join(sorted([*_GAINS, 'leaky_relu']))}. "
            f"Received: activation={activation!r}"
        )
    if param is not None:
        raise ValueError(
            f"`param` is only for leaky_relu. Received: param={param!r} "
            f"with activation={activation!r}"
        )
    return _GAINS[activation]


def check_gain(gain: float | str) -> float:
    """A positive finite float, or an activation name turned into its gain."""
    if isinstance(gain, str):
        if gain not in _GAINS and gain != "leaky_relu":
            raise ValueError(
                "`gain` must be a positive finite float or an activation name "
                f"({', '.join(sorted([*_GAINS, 'leaky_relu']))}). "
                f"Received: gain={gain!r}"
            )
        return calculate_gain(gain)
    return check_positive_number("gain", gain)
