"""Named initialization schemes: (Wxh, Whh, Why) initializers plus activation.

A scheme is what the comparison runner and the CLI speak of. Each call to
`Scheme.initializers(units, seed)` builds fresh, seeded initializer objects,
and `Scheme.build_model(...)` a fresh SimpleRNN + Dense model, so every scheme
is trained on exactly the same architecture.

Example:

>>> from keras_rnninit import schemes
>>> schemes.names()[:3]
['he', 'irnn', 'keras_default']
>>> model = schemes.get("xavier_rnn").build_model(input_dim=2, units=8, seed=0)
>>> [w.shape for w in model.get_weights()]
[(2, 8), (8, 8), (8,), (8, 1), (1,)]
"""

import dataclasses
import math
from collections.abc import Callable

import keras

from keras_rnninit.initializers import (
    HeRNN,
    ScaledIdentity,
    ScaledOrthogonal,
    Uniform01,
    XavierRNN,
)
from keras_rnninit.initializers.base import derive_seed

__all__ = ["Scheme", "SchemeInitializers", "get", "names", "register"]

# A factory gets (units, seed) and returns a fresh initializer.
Factory = Callable[[int, int], keras.initializers.Initializer]


def _zeros(units, seed):
    return keras.initializers.Zeros()


@dataclasses.dataclass(frozen=True)
class SchemeInitializers:
    """Fresh initializer objects for one model: RNN (kernel, recurrent, bias)
    and output layer (kernel, bias)."""

    kernel: keras.initializers.Initializer
    recurrent: keras.initializers.Initializer
    bias: keras.initializers.Initializer
    output_kernel: keras.initializers.Initializer
    output_bias: keras.initializers.Initializer


@dataclasses.dataclass(frozen=True)
class Scheme:
    """A named bundle of initializers for Wxh, Whh, Why and the activation.

    Args:
        name: Identifier used by the CLI and reports.
        description: One line for tables and `--help`.
        kernel, recurrent, output: factories `(units, seed) -> initializer`
            for Wxh, Whh and Why.
        activation: Activation of the recurrence (`"tanh"`, `"relu"`).
        bias, output_bias: factories for the two biases (zeros by default).
    """

    name: str
    description: str
    kernel: Factory
    recurrent: Factory
    output: Factory
    activation: str = "tanh"
    bias: Factory = _zeros
    output_bias: Factory = _zeros

    def initializers(self, units, seed=0):
        """Fresh initializers, each with its own seed derived from `seed`."""
        factories = (
            self.kernel,
            self.recurrent,
            self.bias,
            self.output,
            self.output_bias,
        )
        return SchemeInitializers(
            *(f(units, derive_seed(seed, i)) for i, f in enumerate(factories))
        )

    def apply(
        self,
        inputs,
        units,
        output_units=1,
        *,
        seed=0,
        return_sequences=False,
        output_activation=None,
        rnn_name="rnn",
        output_name="output",
        rnn_layer=None,
    ):
        """`SimpleRNN -> Dense` initialized by this scheme, applied to `inputs`.

        Returns the output tensor; `build_model` wraps it in a model, the fused
        comparison applies several schemes to one input. `rnn_layer` is the
        recurrent layer class (default `keras.layers.SimpleRNN`; the comparison
        runner passes `FastSimpleRNN`: same weights and numbers, faster).
        """
        inits = self.initializers(units, seed)
        hidden = (rnn_layer or keras.layers.SimpleRNN)(
            units,
            activation=self.activation,
            kernel_initializer=inits.kernel,
            recurrent_initializer=inits.recurrent,
            bias_initializer=inits.bias,
            return_sequences=return_sequences,
            name=rnn_name,
        )(inputs)
        return keras.layers.Dense(
            output_units,
            activation=output_activation,
            kernel_initializer=inits.output_kernel,
            bias_initializer=inits.output_bias,
            name=output_name,
        )(hidden)

    def build_model(
        self,
        input_dim,
        units,
        output_units=1,
        *,
        seed=0,
        seq_len=None,
        batch_size=None,
        return_sequences=False,
        output_activation=None,
        rnn_layer=None,
    ):
        """A fresh `Input -> SimpleRNN -> Dense` model initialized by this scheme.

        The input layer is named ``"sequence"`` (it becomes the input name of an
        exported TFLite signature), the recurrent layer ``"rnn"`` and the output
        layer ``"output"``. The model is not compiled.
        """
        inputs = keras.Input(
            shape=(seq_len, input_dim), batch_size=batch_size, name="sequence"
        )
        outputs = self.apply(
            inputs,
            units,
            output_units,
            seed=seed,
            return_sequences=return_sequences,
            output_activation=output_activation,
            rnn_layer=rnn_layer,
        )
        return keras.Model(inputs, outputs, name=f"{self.name}_rnn")


def _pytorch_uniform(units, seed):
    # PyTorch's nn.RNN and nn.Linear(units, ...) both draw U(-1/sqrt(H), 1/sqrt(H)).
    bound = 1.0 / math.sqrt(units)
    return keras.initializers.RandomUniform(-bound, bound, seed=seed)


_REGISTRY = {}


def register(scheme):
    """Add a `Scheme` so that `get(scheme.name)` and the CLI find it."""
    if not isinstance(scheme, Scheme):
        raise TypeError(
            f"`scheme` must be a `Scheme`. Received: scheme={scheme!r} "
            f"of type {type(scheme).__name__}"
        )
    if scheme.name in _REGISTRY:
        raise ValueError(
            f"`scheme.name` must be unique; {scheme.name!r} is already registered. "
            f"Received: scheme.name={scheme.name!r}"
        )
    _REGISTRY[scheme.name] = scheme
    return scheme


def names():
    """Sorted names of all registered schemes."""
    return sorted(_REGISTRY)


def get(name):
    """The `Scheme` called `name` (a `Scheme` is returned as is)."""
    if isinstance(name, Scheme):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"`name` must be a scheme name (str). Received: name={name!r} "
            f"of type {type(name).__name__}"
        )
    if name not in _REGISTRY:
        raise ValueError(
            f"`name` must be one of {', '.join(names())}. Received: name={name!r}"
        )
    return _REGISTRY[name]


register(
    Scheme(
        "xavier_rnn",
        "N(0, 1/fan_in) for Wxh, Whh, Why; tanh",
        kernel=lambda u, s: XavierRNN(seed=s),
        recurrent=lambda u, s: XavierRNN(seed=s),
        output=lambda u, s: XavierRNN(seed=s),
    )
)
register(
    Scheme(
        "uniform01",
        "naive U[0, 1] for Wxh, Whh, Why; tanh (saturates)",
        kernel=lambda u, s: Uniform01(seed=s),
        recurrent=lambda u, s: Uniform01(seed=s),
        output=lambda u, s: Uniform01(seed=s),
    )
)
register(
    Scheme(
        "he",
        "N(0, 2/fan_in) for Wxh, Whh, Why; tanh",
        kernel=lambda u, s: HeRNN(seed=s),
        recurrent=lambda u, s: HeRNN(seed=s),
        output=lambda u, s: HeRNN(seed=s),
    )
)
register(
    Scheme(
        "orthogonal",
        "orthogonal Whh, N(0, 1/fan_in) Wxh and Why; tanh",
        kernel=lambda u, s: XavierRNN(seed=s),
        recurrent=lambda u, s: ScaledOrthogonal(seed=s),
        output=lambda u, s: XavierRNN(seed=s),
    )
)
register(
    Scheme(
        "irnn",
        "identity Whh, N(0, 0.001^2) Wxh, N(0, 1/fan_in) Why; relu",
        kernel=lambda u, s: keras.initializers.RandomNormal(stddev=0.001, seed=s),
        recurrent=lambda u, s: ScaledIdentity(),
        output=lambda u, s: XavierRNN(seed=s),
        activation="relu",
    )
)
register(
    Scheme(
        "keras_default",
        "Keras SimpleRNN/Dense defaults: glorot_uniform, orthogonal",
        kernel=lambda u, s: keras.initializers.GlorotUniform(seed=s),
        recurrent=lambda u, s: keras.initializers.Orthogonal(seed=s),
        output=lambda u, s: keras.initializers.GlorotUniform(seed=s),
    )
)
register(
    Scheme(
        "pytorch_default",
        "PyTorch nn.RNN/nn.Linear defaults: U(±1/sqrt(units)) "
        "for all weights and biases",
        kernel=_pytorch_uniform,
        recurrent=_pytorch_uniform,
        output=_pytorch_uniform,
        bias=_pytorch_uniform,
        output_bias=_pytorch_uniform,
    )
)
