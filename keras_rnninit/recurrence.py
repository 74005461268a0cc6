"""The simple recurrence h_t = act(p_t + h_{t-1} W) with a hand-written
backward pass on TensorFlow: the kernel of `FastSimpleRNN`.

p_t = x_t Wxh + b is computed by the caller for all t at once (`project`).

Why hand-written: autodiff of a TF while loop keeps every intermediate of the
step and computes dW += h_{t-1}^T dz_t inside the backward loop, one small
matmul per step. Here the forward loop keeps only h_t; the backward loop does
dz_t = (dL/dh_t + dh) * act'(h_t), dh = dz_t W^T; and dW = H_prev^T dZ is one
large matmul after it. act' is read from h_t itself, so only activations whose
derivative is a function of their output qualify (`DERIVATIVES`; see
`supported`). `recurrence` refuses anything else; `FastSimpleRNN` then runs
Keras' own loop (autodiff), as it does for masks, `unroll` and every backend
but TensorFlow.

With `compile=True` both loops run XLA-compiled (one compilation per input
shape and activation, shared by every layer that uses it).
"""

import functools

import keras
from keras import ops

__all__ = ["DERIVATIVES", "project", "recurrence", "supported"]

# act'(z) written in terms of h = act(z).
DERIVATIVES = {
    "tanh": lambda h: 1.0 - h * h,
    "relu": lambda h: ops.cast(h > 0, h.dtype),
    "sigmoid": lambda h: h * (1.0 - h),
    "linear": None,
}


def _name(activation):
    """The Keras name of a built-in activation, else None."""
    if activation is None:
        return "linear"
    try:
        function = keras.activations.get(activation)
        name = getattr(function, "__name__", None)
        return name if keras.activations.get(name) is function else None
    except (ValueError, TypeError):
        return None


def supported(activation):
    """True when `activation` runs on the hand-written TensorFlow kernel."""
    return keras.backend.backend() == "tensorflow" and _name(activation) in DERIVATIVES


def project(sequences, kernel, bias=None):
    """x_t Wxh + b for every step at once, as one 2-D matmul (a batched matmul
    over a broadcast kernel costs more, and so does its gradient)."""
    shape = ops.shape(sequences)
    projected = ops.matmul(ops.reshape(sequences, (-1, shape[-1])), kernel)
    if bias is not None:
        projected = projected + bias
    return ops.reshape(projected, (shape[0], shape[1], ops.shape(kernel)[-1]))


def recurrence(projected, initial, kernel, activation, compile=False):
    """h_t = act(p_t + h_{t-1} W) for t = 0..T-1, on TensorFlow.

    Args:
        projected: (T, B, H), time-major: p_t = x_t Wxh + b.
        initial: (B, H), h_{-1}.
        kernel: (H, H) recurrent kernel W (a variable or tensor).
        activation: One of `DERIVATIVES` (see `supported`).
        compile: Run both time loops XLA-compiled.

    Returns:
        (T, B, H): h_t for every step; its gradient is the hand-written one.
    """
    if not supported(activation):
        raise ValueError(
            "`activation` must be one of "
            f"{', '.join(DERIVATIVES)} on the tensorflow backend. Received: "
            f"activation={activation!r}, backend={keras.backend.backend()!r}"
        )
    import tensorflow as tf

    name = _name(activation)
    forward, backward = _loops(compile)

    @tf.custom_gradient
    def run(p, h0, w):
        # stop_gradient: no tape may trace into the loops (`grad` is their
        # gradient; an eager tape would otherwise ask XLA for a while loop
        # with autodiff accumulators, which it cannot compile).
        p, h0, w = (tf.stop_gradient(a) for a in (p, h0, w))
        outputs = forward(p, h0, w, name)

        def grad(upstream):
            return backward(upstream, outputs, h0, w, name)

        return outputs, grad

    # The kernel enters as a tensor so its gradient flows through `run`.
    return run(
        tf.convert_to_tensor(projected),
        tf.convert_to_tensor(initial),
        tf.identity(tf.convert_to_tensor(kernel)),
    )


@functools.cache
def _loops(compile):
    """(forward, backward), made once per process so that their traces and XLA
    compilations are shared by every call with the same shapes."""
    if not compile:
        return _forward, _backward
    import tensorflow as tf

    return (
        tf.function(_forward, jit_compile=True),
        tf.function(_backward, jit_compile=True),
    )


def _forward(projected, initial, kernel, name):
    import tensorflow as tf

    act = keras.activations.get(name)
    steps = tf.shape(projected)[0]

    def step(t, h, outputs):
        h = act(projected[t] + tf.matmul(h, kernel))
        return t + 1, h, outputs.write(t, h)

    outputs = tf.TensorArray(projected.dtype, size=steps, element_shape=initial.shape)
    _, _, outputs = tf.while_loop(lambda t, *_: t < steps, step, (0, initial, outputs))
    return outputs.stack()


def _backward(upstream, outputs, initial, kernel, name):
    """(dL/dp, dL/dh_{-1}, dL/dW) given dL/dh_t for every t."""
    import tensorflow as tf

    derivative = DERIVATIVES[name]
    slopes = None if derivative is None else derivative(outputs)  # all t at once
    steps = tf.shape(outputs)[0]

    def step(t, dh, dzs):
        t = t - 1
        dz = upstream[t] + dh
        if slopes is not None:
            dz = dz * slopes[t]
        return t, tf.matmul(dz, kernel, transpose_b=True), dzs.write(t, dz)

    dzs = tf.TensorArray(outputs.dtype, size=steps, element_shape=initial.shape)
    _, d_initial, dzs = tf.while_loop(
        lambda t, *_: t > 0, step, (steps, tf.zeros_like(initial), dzs)
    )
    d_projected = dzs.stack()
    # sum_t h_{t-1}^T dz_t as one (H, T*B) x (T*B, H) matmul.
    units = tf.shape(initial)[-1]
    previous = tf.concat([initial[None], outputs[:-1]], axis=0)
    d_kernel = tf.matmul(
        tf.reshape(previous, (-1, units)),
        tf.reshape(d_projected, (-1, units)),
        transpose_a=True,
    )
    return d_projected, d_initial, d_kernel
