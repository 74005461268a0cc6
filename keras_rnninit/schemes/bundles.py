"""Named initialization schemes: (Wxh, Whh, Why) initializers plus activation.

A scheme is what the comparison runner and the CLI speak of. Each call to
`Scheme.initializers(units, seed)` builds fresh, seeded initializer objects,
and `Scheme.build_model(...)` a fresh SimpleRNN (or, with `cell="lstm"` /
`"gru"`, LSTM / GRU) + Dense model, so every scheme is trained on exactly the
same architecture. `Scheme.cells` lists the cells a scheme supports.

Example:

    >>> from keras_rnninit import schemes
    >>> schemes.names()[:3]
    ['critical_tanh', 'he', 'irnn']
    >>> model = schemes.get("xavier_rnn").build_model(input_dim=2, units=8, seed=0)
    >>> [w.shape for w in model.get_weights()]
    [(2, 8), (8, 8), (8,), (8, 1), (1,)]
    >>> lstm = schemes.get("orthogonal").build_model(input_dim=2, units=8, cell="lstm")
    >>> [w.shape for w in lstm.get_weights()][:3]
    [(2, 32), (8, 32), (32,)]
"""

import dataclasses
import math
from collections.abc import Callable

import keras

from keras_rnninit.initializers import (
    ChronoBias,
    HeRNN,
    NpRNN,
    ScaledIdentity,
    ScaledOrthogonal,
    SpectralRadius,
    Uniform01,
    UniformDiagonal,
    XavierRNN,
)
from keras_rnninit.utils.seeding import derive_seed
from keras_rnninit.utils.validation import check_int

__all__ = [
    "CELLS",
    "GATES",
    "LAYERS",
    "ModelSpec",
    "Scheme",
    "SchemeInitializers",
    "chrono",
    "chrono_length",
    "get",
    "names",
    "register",
]

# A factory gets (units, seed) and returns a fresh initializer. For a gated
# cell it is called as factory(units, seed, cell="lstm" | "gru"), so only the
# factories of schemes that list a gated cell in `Scheme.cells` take `cell`.
Factory = Callable[..., keras.initializers.Initializer]

# The gate blocks of each cell's kernels, along their last axis.
GATES = {"gru": 3, "lstm": 4, "simple": 1}
CELLS = tuple(sorted(GATES))
# The Keras layer `build_model` makes for each cell.
LAYERS = {
    "gru": keras.layers.GRU,
    "lstm": keras.layers.LSTM,
    "simple": keras.layers.SimpleRNN,
}


def _zeros(units, seed, cell="simple"):
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
        kernel: Factory `(units, seed) -> initializer` for Wxh.
        recurrent: The same for Whh.
        output: The same for Why.
        activation: Activation of the recurrence (`"tanh"`, `"relu"`,
            `"linear"`).
        bias: Factory for the recurrent layer's bias (zeros by default).
        output_bias: Factory for the output layer's bias (zeros by default).
        cells: The cells the scheme supports, among `"gru"`, `"lstm"`,
            `"simple"` (default: `("simple",)`). For a gated cell the
            factories are called with `cell=` too (see `Factory`).
        unit_forget_bias: Passed to Keras' LSTM. False by default: the
            scheme's `bias` factory then sets the whole (4H,) bias; True
            adds Keras' forget-gate bias of 1 to it (`keras_default`).
        at_length: None, or for a length-aware scheme a function
            `length -> Scheme` that gives the scheme for dependencies of
            `length` steps (`chrono_length`: T_max = 3T/2). Such a scheme
            builds nothing until `for_length` has set it for a length.
        length: The length a length-aware scheme is set for (by
            `for_length`), else None.
    """

    name: str
    description: str
    kernel: Factory
    recurrent: Factory
    output: Factory
    activation: str = "tanh"
    bias: Factory = _zeros
    output_bias: Factory = _zeros
    cells: tuple = ("simple",)
    unit_forget_bias: bool = False
    at_length: Callable[[int], "Scheme"] | None = None
    length: int | None = None

    @property
    def length_aware(self) -> bool:
        """True if the scheme's weights depend on the task's length T."""
        return self.at_length is not None

    @property
    def needs_length(self) -> bool:
        """True for a length-aware scheme not yet set for a length."""
        return self.at_length is not None and self.length is None

    def for_length(self, length: int) -> "Scheme":
        """The scheme for dependencies of `length` steps: itself unless it is
        length-aware, else `at_length(length)` with the same name (a scheme
        set for another length is set again)."""
        length = check_int("length", length, 1)
        if self.at_length is None:
            return self
        scheme = self.at_length(length)
        return dataclasses.replace(
            scheme, name=self.name, at_length=self.at_length, length=length
        )

    def check_cell(self, cell):
        """Return `cell` if this scheme supports it, else raise one clear line."""
        if not isinstance(cell, str):
            raise TypeError(
                f"`cell` must be one of {', '.join(CELLS)}. "
                f"Received: cell={cell!r} of type {type(cell).__name__}"
            )
        supported = sorted(self.cells)
        if cell not in supported:
            raise ValueError(
                f"`cell` must be one of {', '.join(supported)} for scheme "
                f"{self.name!r}. Received: cell={cell!r}"
            )
        return cell

    def initializers(self, units, seed=0, cell="simple"):
        """Fresh initializers, each with its own seed derived from `seed`.

        A length-aware scheme has none until it knows T: use
        `scheme.for_length(T).initializers(...)`.
        """
        if self.needs_length:
            raise ValueError(
                f"`scheme` must be set for a length first: {self.name!r} is "
                f"length-aware; use `schemes.get({self.name!r}).for_length(T)`. "
                f"Received: scheme={self.name!r}"
            )
        cell = self.check_cell(cell)
        extra = {} if cell == "simple" else {"cell": cell}
        factories = (
            self.kernel,
            self.recurrent,
            self.bias,
            self.output,
            self.output_bias,
        )
        return SchemeInitializers(
            *(f(units, derive_seed(seed, i), **extra) for i, f in enumerate(factories))
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
        cell="simple",
    ):
        """`SimpleRNN | LSTM | GRU -> Dense` initialized by this scheme.

        Returns the output tensor for `inputs`; `build_model` wraps it in a
        model, the fused comparison applies several schemes to one input.
        The architecture is a `ModelSpec`, given as one (`apply(inputs,
        spec, seed=...)`) or by its fields (`units`, `output_units`,
        `return_sequences`, `output_activation`, `rnn_layer`, `cell`).
        `cell` picks `keras.layers.SimpleRNN` (`"simple"`), `LSTM` or `GRU`
        (Keras' defaults otherwise: GRU `reset_after=True`). `rnn_layer`
        replaces the SimpleRNN class (the comparison runner passes
        `FastSimpleRNN`: same weights and numbers, faster); it is for
        `cell="simple"` only.
        """
        spec = ModelSpec.of(
            units,
            output_units=output_units,
            return_sequences=return_sequences,
            output_activation=output_activation,
            rnn_layer=rnn_layer,
            cell=cell,
        )
        inits = self.initializers(spec.units, seed, spec.cell)
        extra = (
            {"unit_forget_bias": self.unit_forget_bias} if spec.cell == "lstm" else {}
        )
        hidden = (spec.rnn_layer or LAYERS[spec.cell])(
            spec.units,
            activation=self.activation,
            kernel_initializer=inits.kernel,
            recurrent_initializer=inits.recurrent,
            bias_initializer=inits.bias,
            return_sequences=spec.return_sequences,
            name=rnn_name,
            **extra,
        )(inputs)
        return keras.layers.Dense(
            spec.output_units,
            activation=spec.output_activation,
            kernel_initializer=inits.output_kernel,
            bias_initializer=inits.output_bias,
            name=output_name,
        )(hidden)

    def build_model(
        self,
        input_dim: int,
        units: "int | ModelSpec",
        output_units: int = 1,
        *,
        seed: int = 0,
        seq_len: int | None = None,
        batch_size: int | None = None,
        return_sequences: bool = False,
        output_activation=None,
        rnn_layer=None,
        cell: str = "simple",
    ) -> keras.Model:
        """A fresh `Input -> SimpleRNN | LSTM | GRU -> Dense` model of this scheme.

        The input layer is named ``"sequence"`` (it becomes the input name of an
        exported TFLite signature), the recurrent layer ``"rnn"`` and the output
        layer ``"output"``. The architecture is a `ModelSpec` or its fields, as
        in `apply`; `cell` is `"simple"`, `"lstm"` or `"gru"`, one of
        `self.cells`. The model is not compiled.
        """
        spec = ModelSpec.of(
            units,
            output_units=output_units,
            return_sequences=return_sequences,
            output_activation=output_activation,
            rnn_layer=rnn_layer,
            cell=cell,
        )
        inputs = keras.Input(
            shape=(seq_len, input_dim), batch_size=batch_size, name="sequence"
        )
        outputs = self.apply(inputs, spec, seed=seed)
        suffix = "rnn" if spec.cell == "simple" else spec.cell
        return keras.Model(inputs, outputs, name=f"{self.name}_{suffix}")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """The architecture every scheme of a comparison initializes:
    `SimpleRNN | LSTM | GRU(units) -> Dense(output_units)`.

    One object for `Scheme.apply`, `Scheme.build_model` and the comparison's
    model builders (`ModelSpec.of` also takes the fields one by one, as the
    0.1 signatures did).

    Attributes:
        units: The recurrent layer's units.
        output_units: The Dense head's units.
        cell: "simple", "lstm" or "gru".
        return_sequences: The recurrent layer returns every step.
        output_activation: The head's activation (None: linear).
        rnn_layer: A class that replaces `keras.layers.SimpleRNN` (the
            comparison passes `FastSimpleRNN`); SimpleRNN cells only.
    """

    units: int
    output_units: int = 1
    cell: str = "simple"
    return_sequences: bool = False
    output_activation: object = None
    rnn_layer: object = None

    def __post_init__(self):
        # An unknown cell is the scheme's to refuse (it names what it supports).
        if self.rnn_layer is not None and self.cell != "simple":
            raise ValueError(
                "`rnn_layer` must be None for a gated cell (it replaces the "
                f"SimpleRNN class). Received: rnn_layer={self.rnn_layer!r}, "
                f"cell={self.cell!r}"
            )

    @classmethod
    def of(cls, units, **fields):
        """`units` itself when it is a `ModelSpec` (then every field must be
        left at its default), else a `ModelSpec(units, **fields)`."""
        if not isinstance(units, ModelSpec):
            return cls(units, **fields)
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        changed = sorted(k for k, v in fields.items() if v != defaults[k])
        if changed:
            raise TypeError(
                "Pass the architecture as a ModelSpec or as its fields, not both. "
                f"Received: a ModelSpec and {', '.join(changed)}"
            )
        return units


def _pytorch_uniform(units, seed, cell="simple"):
    # PyTorch's nn.RNN, nn.LSTM, nn.GRU and nn.Linear(units, ...) all draw every
    # weight and bias U(-1/sqrt(H), 1/sqrt(H)).
    bound = 1.0 / math.sqrt(units)
    return keras.initializers.RandomUniform(-bound, bound, seed=seed)


def _per_gate(cls):
    """A factory of `cls(gates=GATES[cell], seed=seed)`."""

    def factory(units, seed, cell="simple"):
        return cls(gates=GATES[cell], seed=seed)

    return factory


def _xavier_output(units, seed, cell="simple"):
    return XavierRNN(seed=seed)


def chrono(max_length=100, name="chrono"):
    """A chrono `Scheme` for LSTM and GRU with the given `max_length` (T_max).

    Wxh per-gate XavierRNN, Whh per-gate ScaledOrthogonal, bias
    `ChronoBias(max_length)` (LSTM with `unit_forget_bias=False`), Why
    XavierRNN. The registered `"chrono"` scheme is `chrono(100)`; use
    `schemes.get(chrono(T, name=...))` for another dependency range.
    """
    max_length = ChronoBias(max_length, seed=0).max_length

    def bias(units, seed, cell):
        return ChronoBias(max_length, seed=seed, cell=cell)

    return Scheme(
        name,
        f"chrono gate biases (T_max={max_length:g}), orthogonal Whh per gate; LSTM/GRU",
        kernel=_per_gate(XavierRNN),
        recurrent=_per_gate(ScaledOrthogonal),
        output=_xavier_output,
        bias=bias,
        cells=("gru", "lstm"),
    )


def chrono_length(length):
    """`chrono` with T_max = 3T/2 for dependencies of `length` (T) steps, as
    Tallec & Ollivier (2018) set it for the copy task; the registered
    `"chrono_length"` scheme takes T from the task's `length`."""
    length = check_int("length", length, 2)
    scheme = chrono(1.5 * length, name="chrono_length")
    return dataclasses.replace(
        scheme,
        description=f"chrono gate biases (T_max = 3T/2 = {1.5 * length:g} for "
        f"T={length}), orthogonal Whh per gate; LSTM/GRU",
    )


_REGISTRY = {}


def register(scheme: "Scheme") -> "Scheme":
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


def names(cell: str | None = "simple") -> list[str]:
    """Sorted names of the registered schemes that support `cell`.

    The default, `"simple"`, lists what the CLI and the comparison runner can
    build (they train SimpleRNNs); `"lstm"` / `"gru"` list the schemes for
    those cells (`chrono` supports only them); `None` lists all.
    """
    if cell is None:
        return sorted(_REGISTRY)
    if cell not in CELLS:
        raise ValueError(
            f"`cell` must be one of {', '.join(CELLS)} or None. Received: cell={cell!r}"
        )
    return sorted(name for name, s in _REGISTRY.items() if cell in s.cells)


def get(name: "str | Scheme") -> "Scheme":
    """The `Scheme` called `name` (a `Scheme` is returned as is)."""
    if isinstance(name, Scheme):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"`name` must be a scheme name (str). Received: name={name!r} "
            f"of type {type(name).__name__}"
        )
    if name not in _REGISTRY:
        # The SimpleRNN schemes: what the CLI and the comparison runner accept.
        raise ValueError(
            f"`name` must be one of {', '.join(names())}. Received: name={name!r}"
        )
    return _REGISTRY[name]


def _seeded(cls, *args, **kwargs):
    """A factory `(units, seed) -> cls(*args, seed=seed, **kwargs)`."""
    return lambda units, seed: cls(*args, seed=seed, **kwargs)


def _small_normal(stddev):
    """A factory of `RandomNormal(0, stddev²)`: small input weights."""
    return _seeded(keras.initializers.RandomNormal, stddev=stddev)


def _keras(cls):
    """A factory of a Keras initializer, for every cell (Keras' own layers
    use one whole-matrix initializer whatever the gates)."""
    return lambda units, seed, cell="simple": cls(seed=seed)


def _identity(units, seed):
    """A factory of the IRNN recurrent kernel (the identity needs no seed)."""
    return ScaledIdentity()


# Every built-in scheme, one row each. The long-range ones
# (docs/long_range.md) start the recurrence at, or just below, norm
# preservation; most keep their papers' small input weights (the state starts
# in the near-linear regime of the activation), irnn_xavier and uniform_diag
# full-size ones.
SCHEMES = (
    Scheme(
        "xavier_rnn",
        "N(0, 1/fan_in) for Wxh, Whh, Why; tanh",
        kernel=_per_gate(XavierRNN),
        recurrent=_per_gate(XavierRNN),
        output=_xavier_output,
        cells=CELLS,
    ),
    Scheme(
        "uniform01",
        "naive U[0, 1] for Wxh, Whh, Why; tanh (saturates)",
        kernel=_seeded(Uniform01),
        recurrent=_seeded(Uniform01),
        output=_seeded(Uniform01),
    ),
    Scheme(
        "he",
        "N(0, 2/fan_in) for Wxh, Whh, Why; tanh",
        kernel=_seeded(HeRNN),
        recurrent=_seeded(HeRNN),
        output=_seeded(HeRNN),
    ),
    Scheme(
        "orthogonal",
        "orthogonal Whh (per gate), N(0, 1/fan_in) Wxh and Why; tanh",
        kernel=_per_gate(XavierRNN),
        recurrent=_per_gate(ScaledOrthogonal),
        output=_xavier_output,
        cells=CELLS,
    ),
    Scheme(
        "irnn",
        "identity Whh, N(0, 0.001^2) Wxh, N(0, 1/fan_in) Why; relu",
        kernel=_small_normal(0.001),
        recurrent=_identity,
        output=_seeded(XavierRNN),
        activation="relu",
    ),
    Scheme(
        "keras_default",
        "Keras SimpleRNN/LSTM/GRU/Dense defaults: glorot_uniform, orthogonal",
        kernel=_keras(keras.initializers.GlorotUniform),
        recurrent=_keras(keras.initializers.Orthogonal),
        output=_keras(keras.initializers.GlorotUniform),
        cells=CELLS,
        unit_forget_bias=True,
    ),
    Scheme(
        "pytorch_default",
        "PyTorch nn.RNN/LSTM/GRU/Linear defaults: U(±1/sqrt(units)) "
        "for all weights and biases",
        kernel=_pytorch_uniform,
        recurrent=_pytorch_uniform,
        output=_pytorch_uniform,
        bias=_pytorch_uniform,
        output_bias=_pytorch_uniform,
        cells=CELLS,
    ),
    chrono(),
    # Length-aware: `for_length(T)` sets T_max = 3T/2; the registered row
    # itself builds nothing (`Scheme.initializers` refuses).
    dataclasses.replace(
        chrono_length(100),
        description="chrono gate biases, T_max = 3T/2 from the task's length "
        "(Tallec & Ollivier); orthogonal Whh per gate; LSTM/GRU",
        at_length=chrono_length,
    ),
    Scheme(
        "np_rnn",
        "np-RNN: Whh = R / max eig(R), R = AᵀA/n + I, A ~ N(0, 1); "
        "N(0, 0.001^2) Wxh; relu",
        kernel=_small_normal(0.001),
        recurrent=_seeded(NpRNN),
        output=_seeded(XavierRNN),
        activation="relu",
    ),
    Scheme(
        "critical_tanh",
        "orthogonal Whh (gain 1, zero bias), N(0, 0.01^2) Wxh: critical tanh; tanh",
        kernel=_small_normal(0.01),
        recurrent=_seeded(ScaledOrthogonal),
        output=_seeded(XavierRNN),
    ),
    Scheme(
        "spectral_095",
        "random Whh with spectral radius 0.95, N(0, 0.01^2) Wxh; tanh",
        kernel=_small_normal(0.01),
        recurrent=_seeded(SpectralRadius, 0.95),
        output=_seeded(XavierRNN),
    ),
    # Henaff, Szlam & LeCun's LT-ORNN: a linear recurrence that a random
    # rotation starts at exact norm preservation, the start their explicit
    # copy solution calls for (a clock over the delay); the softmax head is
    # the only nonlinearity.
    Scheme(
        "orthogonal_linear",
        "orthogonal Whh (gain 1), N(0, 1/fan_in) Wxh and Why; linear (no "
        "activation): Henaff et al.'s LT-ORNN",
        kernel=_seeded(XavierRNN),
        recurrent=_seeded(ScaledOrthogonal),
        output=_seeded(XavierRNN),
        activation="linear",
    ),
    # The two relu schemes with full-size (XavierRNN) input weights; irnn and
    # np_rnn keep their papers' N(0, 0.001²) (docs/long_range.md).
    Scheme(
        "irnn_xavier",
        "identity Whh, N(0, 1/fan_in) Wxh and Why; relu",
        kernel=_seeded(XavierRNN),
        recurrent=_identity,
        output=_seeded(XavierRNN),
        activation="relu",
    ),
    Scheme(
        "uniform_diag",
        "diag(λ) Whh, λ ~ U[0, 1] (one self-loop per unit), "
        "N(0, 1/fan_in) Wxh and Why; relu",
        kernel=_seeded(XavierRNN),
        recurrent=_seeded(UniformDiagonal),
        output=_seeded(XavierRNN),
        activation="relu",
    ),
    # uniform_diag with headroom: Adam's first steps raise the radius by
    # 0.1-0.55 (benchmarks/drift_probe.py), past 1 from U[0, 1] at T=400.
    Scheme(
        "uniform_diag_half",
        "diag(λ) Whh, λ ~ U[0, 0.5] (headroom below 1 for training's drift), "
        "N(0, 1/fan_in) Wxh and Why; relu",
        kernel=_seeded(XavierRNN),
        recurrent=_seeded(UniformDiagonal, 0.0, 0.5),
        output=_seeded(XavierRNN),
        activation="relu",
    ),
)
for _scheme in SCHEMES:
    register(_scheme)
