"""Hidden states and gradients through time of a SimpleRNN-style layer.

For h_t = act(a_t), a_t = x_t Wxh + h_{t-1} Whh + b (Keras' row convention),
the Jacobian is dh_t/dh_{t-1} = Whh diag(act'(a_t)) applied on the right, so

    g_{t-1} = d_{t-1} + (g_t * act'(a_t)) Whhᵀ,   g_T = d_T,

where g_t = dL/dh_t is the total gradient and d_t the direct one (from the
layers after the RNN; nonzero only at t = T unless it returns sequences).
Everything here runs in float64 numpy from the layer's weights and the stored
states, so ||g_t|| is exact down to 1e-300 (float32 squares underflow near
1e-20), and tanh'(a) is exactly 0 where tanh is saturated to float precision.
Only the direct gradient d comes from the backend's autodiff.
"""

import dataclasses

import keras
import numpy as np

__all__ = [
    "RecurrentParts",
    "backprop_through_time",
    "direct_gradient",
    "find_recurrent_layer",
    "forward",
    "head_gradients",
    "recurrent_parts",
    "recurrent_weight_gradients",
    "unroll",
]

# Elementwise activations as (forward, derivative given (a, h)), in float64.
_ACTIVATIONS = {
    "tanh": (np.tanh, lambda a, h: 1.0 - h * h),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(a.dtype)),
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), lambda a, h: h * (1.0 - h)),
    "linear": (lambda a: a, lambda a, h: np.ones_like(a)),
}


def _is_simple_rnn(layer):
    return isinstance(layer, keras.layers.RNN) and isinstance(
        layer.cell, keras.layers.SimpleRNNCell
    )


def find_recurrent_layer(model, layer=None):
    """The SimpleRNN-style layer to diagnose: `layer` (a layer or its name) or
    the first `SimpleRNN` / `RNN(SimpleRNNCell)` of the model."""
    if layer is not None:
        found = model.get_layer(layer) if isinstance(layer, str) else layer
        if not _is_simple_rnn(found):
            raise ValueError(
                "`layer` must be a keras.layers.SimpleRNN or an RNN of a "
                f"SimpleRNNCell. Received: layer={found.name!r} "
                f"({type(found).__name__})"
            )
        return found
    for candidate in model.layers:
        if _is_simple_rnn(candidate):
            return candidate
    names = ", ".join(f"{x.name} ({type(x).__name__})" for x in model.layers)
    raise ValueError(
        "`model` must contain a SimpleRNN-style layer (keras.layers.SimpleRNN or "
        f"keras.layers.RNN(SimpleRNNCell)). Received: model with layers [{names}]"
    )


@dataclasses.dataclass
class RecurrentParts:
    """A model split around its recurrent layer, with the layer's weights."""

    layer: keras.layers.Layer
    before: keras.Model  # model inputs -> the RNN layer's input
    after: keras.Model  # the RNN layer's output -> model output
    kernel: np.ndarray  # Wxh (D, H), float64
    recurrent_kernel: np.ndarray  # Whh (H, H), float64
    bias: np.ndarray  # b (H,), zeros when the cell has none
    activation: str
    return_sequences: bool


def recurrent_parts(model, layer=None):
    """Split `model` around its SimpleRNN-style layer (see `find_recurrent_layer`)."""
    layer = find_recurrent_layer(model, layer)
    cell = layer.cell
    name = getattr(cell.activation, "__name__", str(cell.activation))
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"`activation` of {layer.name!r} must be one of "
            f"{', '.join(sorted(_ACTIVATIONS))} for the diagnostics. "
            f"Received: activation={name!r}"
        )
    kernel = np.asarray(keras.ops.convert_to_numpy(cell.kernel), dtype="float64")
    units = kernel.shape[1]
    bias = (
        np.asarray(keras.ops.convert_to_numpy(cell.bias), dtype="float64")
        if cell.use_bias
        else np.zeros(units)
    )
    return RecurrentParts(
        layer=layer,
        before=keras.Model(model.inputs[0], layer.input),
        after=keras.Model(layer.output, model.outputs[0]),
        kernel=kernel,
        recurrent_kernel=np.asarray(
            keras.ops.convert_to_numpy(cell.recurrent_kernel), dtype="float64"
        ),
        bias=bias,
        activation=name,
        return_sequences=bool(layer.return_sequences),
    )


def forward(parts, x):
    """The RNN's inputs x_t (from the layers before it), pre-activations a_t
    and states h_t: float64 arrays (N, T, D), (N, T, H), (N, T, H).

    `x` is the model input; the layers before the RNN run in the backend, the
    recurrence in float64 numpy from zero initial state.
    """
    inputs = np.asarray(keras.ops.convert_to_numpy(parts.before(x)), dtype="float64")
    activation, _ = _ACTIVATIONS[parts.activation]
    n, steps, _ = inputs.shape
    projected = inputs @ parts.kernel + parts.bias  # all x_t Wxh + b at once
    pre = np.empty((n, steps, parts.kernel.shape[1]))
    states = np.empty_like(pre)
    h = np.zeros((n, parts.kernel.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            pre[:, t] = projected[:, t] + h @ parts.recurrent_kernel
            h = states[:, t] = activation(pre[:, t])
    return inputs, pre, states


def unroll(parts, x):
    """Pre-activations a and states h, float64 arrays of shape (N, T, H)."""
    _, pre, states = forward(parts, x)
    return pre, states


def head_gradients(parts, states, y, loss):
    """Gradients from the layers after the RNN, L = mean over the batch of
    `loss`: dL/dh as (N, T, H) (zeros before T unless the layer returns
    sequences) and {variable path: dL/dW} for those layers' weights."""
    output = states if parts.return_sequences else states[:, -1]
    h = keras.ops.convert_to_tensor(output.astype("float32"))
    y = keras.ops.convert_to_tensor(np.asarray(y))
    variables = parts.after.trainable_variables
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(h)
            value = keras.ops.mean(loss(y, parts.after(h)))
        grad_h, *grad_w = tape.gradient(value, [h, *variables])
    elif backend == "jax":
        import jax

        fixed = [v.value for v in parts.after.non_trainable_variables]

        def objective(hidden, trainable):
            prediction, _ = parts.after.stateless_call(trainable, fixed, hidden)
            return keras.ops.mean(loss(y, prediction))

        grad_h, grad_w = jax.grad(objective, argnums=(0, 1))(
            h, [v.value for v in variables]
        )
    else:
        raise ValueError(
            "the diagnostics need the tensorflow or jax backend. "
            f"Received: backend={backend!r}"
        )
    grad_h = np.asarray(grad_h, dtype="float64")
    weights = {
        v.path: np.asarray(g, dtype="float64")
        for v, g in zip(variables, grad_w, strict=True)
    }
    if parts.return_sequences:
        return grad_h, weights
    direct = np.zeros_like(states)
    direct[:, -1] = grad_h
    return direct, weights


def direct_gradient(parts, states, y, loss):
    """dL/dh from the layers after the RNN, (N, T, H); see `head_gradients`."""
    return head_gradients(parts, states, y, loss)[0]


def backprop_through_time(parts, pre, states, direct):
    """Total gradients g_t = dL/dh_t, float64 (N, T, H), by the recursion above."""
    _, derivative = _ACTIVATIONS[parts.activation]
    grads = np.empty_like(states)
    g = direct[:, -1]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(states.shape[1] - 1, -1, -1):
            grads[:, t] = g
            if t > 0:
                delta = g * derivative(pre[:, t], states[:, t])
                g = direct[:, t - 1] + delta @ parts.recurrent_kernel.T
    return grads


def recurrent_weight_gradients(parts, inputs, pre, states, grads):
    """dL/dWxh, dL/dWhh, dL/db from the total gradients g_t (float64):

    with delta_t = g_t * act'(a_t), dL/dWxh = sum_t x_tᵀ delta_t,
    dL/dWhh = sum_t h_{t-1}ᵀ delta_t (h_0 = 0), dL/db = sum_t delta_t.
    """
    _, derivative = _ACTIVATIONS[parts.activation]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        delta = grads * derivative(pre, states)
        previous = np.concatenate([np.zeros_like(states[:, :1]), states[:, :-1]], 1)
        return {
            "kernel": np.einsum("ntd,nth->dh", inputs, delta),
            "recurrent_kernel": np.einsum("ntk,nth->kh", previous, delta),
            "bias": delta.sum(axis=(0, 1)),
        }
