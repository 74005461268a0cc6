"""`FastSimpleRNN`: a SimpleRNN with the input projection hoisted out of the
loop and a hand-written backward pass (`keras_rnninit.layers.recurrence`)."""

import platform

import keras
from keras import ops

from keras_rnninit.layers.cells import xavier_defaults
from keras_rnninit.layers.recurrence import project, recurrence, supported

__all__ = ["FastSimpleRNN"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class FastSimpleRNN(keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` with a faster training step.

    h_t = act(x_t Wxh + b + h_{t-1} Whh), exactly as SimpleRNN: same weights,
    same `cell` (a plain `keras.layers.SimpleRNNCell`), same constructor
    arguments and `get_config` plus `jit_compile`, same numbers and first- and
    second-order gradients to float32 rounding; kernels default to
    `XavierRNN`. On TensorFlow or JAX with a tanh, relu, sigmoid or linear
    activation, every x_t Wxh + b is computed as one (B·T, D) x (D, H) matmul
    before the time loop and the gradient is hand-written
    (`keras_rnninit.layers.recurrence`): one matmul per step each way and
    dWhh as one large matmul. Masks, `dropout`, `recurrent_dropout` (Keras' masks: one
    per sequence, training only), `go_backwards`, `stateful`, `return_state`
    and `initial_state` all run on that path. `unroll=True`, any other
    activation and the other backends (torch, numpy) run Keras' own SimpleRNN
    loop. Saves to
    `.keras` and exports to builtins-only TFLite (inference runs the plain
    loop).

    Example:

        >>> import keras
        >>> from keras_rnninit.layers import FastSimpleRNN
        >>> layer = FastSimpleRNN(16, seed=0)
        >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
        (2, 16)

    Args:
        units: Positive int, size of the state.
        kernel_initializer: Initializer of Wxh; default `XavierRNN`.
        recurrent_initializer: Initializer of Whh; default `XavierRNN`.
        seed: When an int, seeds the default initializers (and, as in
            SimpleRNN, the dropout masks).
        jit_compile: "auto" (default), True or False: whether the training
            time loops are XLA-compiled. "auto" compiles them unless op
            determinism is on (`tf.config.experimental.
            enable_op_determinism()`) or the platform is one where Keras'
            own XLA check says no (TensorFlow on an Apple-silicon GPU). Keras'
            `compile(jit_compile="auto")` also turns XLA off for the whole
            train step on a machine with no GPU; that is a speed heuristic,
            not an incompatibility, and the loop-level compilation here is
            what makes the layer fast on the CPU, so it does not follow it.
            False never compiles; True compiles even under op determinism.
        **kwargs: Any other `keras.layers.SimpleRNN` argument.
    """

    def __init__(
        self,
        units: int,
        kernel_initializer=None,
        recurrent_initializer=None,
        seed: int | None = None,
        jit_compile: str | bool = "auto",
        **kwargs,
    ):
        if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
            raise ValueError(
                "`jit_compile` must be one of 'auto', False, True. "
                f"Received: jit_compile={jit_compile!r}"
            )
        kernel_initializer, recurrent_initializer = xavier_defaults(
            kernel_initializer, recurrent_initializer, seed
        )
        super().__init__(
            units,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            seed=seed,
            **kwargs,
        )
        self.jit_compile = jit_compile

    def get_config(self):
        return {**super().get_config(), "jit_compile": self.jit_compile}

    def uses_xla(self, training: bool = True) -> bool:
        """Whether a call with this `training` runs the XLA-compiled loops
        (for shapes within `recurrence.MAX_COMPILED_SHAPES`)."""
        if training is not True or self.jit_compile is False:
            return False
        if self.jit_compile is True:
            return True
        return not (_op_determinism() or _xla_unsupported_platform())

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if self.unroll or not supported(cell.activation):
            return super().inner_loop(sequences, initial_state, mask, training)
        dropout, recurrent_dropout = None, None
        if training:
            # Created (and seeded) by RNN.call before inner_loop: the masks
            # SimpleRNN's cell would use.
            dropout = cell.get_dropout_mask(sequences[:, 0, :])
            recurrent_dropout = cell.get_recurrent_dropout_mask(initial_state[0])
        if dropout is not None:
            sequences = sequences * dropout[:, None, :]
        time_major = ops.transpose(sequences, (1, 0, 2))
        if mask is not None:
            mask = ops.transpose(ops.cast(mask, "bool"), (1, 0))[:, :, None]
        if self.go_backwards:
            time_major = ops.flip(time_major, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=0)
        states = recurrence(
            project(time_major, cell.kernel, cell.bias),
            initial_state[0],
            cell.recurrent_kernel,
            cell.activation,
            mask=mask,
            recurrent_mask=recurrent_dropout,
            compile=self.uses_xla(training),
        )
        outputs = states
        shown = _shown_outputs(mask, self.zero_output_for_mask)
        if shown is not None:
            outputs = ops.where(shown, states, ops.zeros_like(states))
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), [states[-1]]


def _shown_outputs(mask, zero_output_for_mask):
    """Where Keras' loop outputs the state (elsewhere zeros), or None where
    it always does. Masked steps: zeros with `zero_output_for_mask`; else the
    previous output, which Keras' TensorFlow loop starts at zeros (so zeros
    before the first unmasked step) and its JAX loop at the initial state
    (so the carried state everywhere). Each backend's SimpleRNN is matched."""
    if mask is None:
        return None
    if zero_output_for_mask:
        return mask
    if keras.backend.backend() == "tensorflow":
        return ops.cumsum(ops.cast(mask, "int32"), axis=0) > 0
    return None


def _op_determinism():
    # TensorFlow has no public getter; Keras' `model_supports_jit` reads the
    # same private one.
    from tensorflow.python.framework.config import is_op_determinism_enabled

    return is_op_determinism_enabled()


def _xla_unsupported_platform():
    """Keras' `model_supports_jit` platform rule: no XLA for TensorFlow on an
    Apple-silicon GPU."""
    if platform.system() != "Darwin" or "arm" not in platform.processor().lower():
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))
