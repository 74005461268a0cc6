"""`FastSimpleRNN`: a SimpleRNN with the input projection hoisted out of the
loop and a hand-written backward pass (`keras_rnninit.recurrence`)."""

import keras
from keras import ops

from keras_rnninit.cells import XavierRNNCell, xavier_defaults
from keras_rnninit.recurrence import project, recurrence, supported

__all__ = ["FastSimpleRNN"]


class _ProjectedCell(XavierRNNCell):
    """XavierRNNCell whose step gets p_t = x_t Wxh + b already computed:
    h_t = act(p_t + h_{t-1} Whh). Used only inside `FastSimpleRNN`."""

    def call(self, sequence, states, training=False):
        previous = states[0] if isinstance(states, (list, tuple)) else states
        output = sequence + ops.matmul(previous, self.recurrent_kernel)
        if self.activation is not None:
            output = self.activation(output)
        new_state = [output] if isinstance(states, (list, tuple)) else output
        return output, new_state


@keras.saving.register_keras_serializable(package="keras_rnninit")
class FastSimpleRNN(keras.layers.SimpleRNN):
    """`keras.layers.SimpleRNN` with a faster training step.

    h_t = act(x_t Wxh + b + h_{t-1} Whh), exactly as SimpleRNN, but all the
    x_t Wxh + b are computed as one (B·T, D) x (D, H) matmul before the time
    loop, and (TensorFlow; tanh, relu, sigmoid or linear; no mask) the
    gradient is hand-written (`keras_rnninit.recurrence`): one matmul per step
    each way and dWhh as one large matmul, with both time loops XLA-compiled
    in training. Measured 1.2-1.4x SimpleRNN's training steps/s
    (`benchmarks/step_time.py`). Same weights, same `get_config` as SimpleRNN,
    same numbers and gradients to float32 rounding, kernels defaulting to
    `XavierRNN`; saves to `.keras` and exports to builtins-only TFLite
    (inference runs the plain loop). Dropout on the inputs or the state is
    not supported (use `SimpleRNN` or `RNN(XavierRNNCell)`).

    Example:

    >>> import keras
    >>> from keras_rnninit.layers import FastSimpleRNN
    >>> layer = FastSimpleRNN(16, seed=0)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 16)

    Args:
        units: Positive int, size of the state.
        kernel_initializer, recurrent_initializer: default `XavierRNN`.
        seed: When an int, seeds the default initializers.
        **kwargs: Any other `keras.layers.SimpleRNN` argument except dropout.
    """

    def __init__(
        self,
        units,
        kernel_initializer=None,
        recurrent_initializer=None,
        seed=None,
        **kwargs,
    ):
        for name in ("dropout", "recurrent_dropout"):
            if kwargs.get(name):
                raise ValueError(
                    f"`{name}` must be 0 for FastSimpleRNN (use SimpleRNN or "
                    f"RNN(XavierRNNCell) for dropout). Received: {name}={kwargs[name]}"
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
        config = self.cell.get_config()
        config.pop("name", None)
        self.cell = _ProjectedCell(**config, name=self.cell.name)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if mask is not None or self.unroll or not supported(cell.activation):
            # Keras' own loop (autodiff), still with the projection hoisted.
            return super().inner_loop(
                project(sequences, cell.kernel, cell.bias),
                initial_state,
                mask,
                training=training,
            )
        time_major = ops.transpose(sequences, (1, 0, 2))
        if self.go_backwards:
            time_major = ops.flip(time_major, axis=0)
        outputs = recurrence(
            project(time_major, cell.kernel, cell.bias),
            initial_state[0],
            cell.recurrent_kernel,
            cell.activation,
            compile=training is True,
        )
        last = outputs[-1]
        return last, ops.transpose(outputs, (1, 0, 2)), [last]
