"""The simple recurrence with a hand-written backward pass, the kernel of
`FastSimpleRNN`: this module checks and dispatches, one module per backend
computes (`tensorflow.py`: `tf.custom_gradient` and `tf.while_loop`, XLA-
compiled for a bounded number of shapes; `jax.py`: `lax.scan` with a
`custom_vjp`). The names `tensorflow` and `jax` are our modules here, as in
`keras/src/backend/`.

    a_t = act(p_t + (s_{t-1} * r) W)
    s_t = a_t            where m_t = 1 (or no mask)
    s_t = s_{t-1}        where m_t = 0 (a masked step carries the state)

p_t = x_t Wxh + b is computed by the caller for all t at once (`project`);
r is an optional recurrent-dropout mask (constant over time), m an optional
sequence mask.

Why hand-written: autodiff of a TF while loop keeps every intermediate of the
step and computes dW += s_{t-1}^T dz_t inside the backward loop, one small
matmul per step. Here the forward loop keeps only s_t; the backward loop does
dz_t = g_t * act'(s_t) * m_t, g_{t-1} = dL/ds_{t-1} + (dz_t W^T) * r +
(1 - m_t) g_t; and dW = (S_prev * r)^T dZ is one large matmul after it. act'
is read from the state itself (where m_t = 0, dz_t is 0 whatever it reads),
so only activations whose derivative is a function of their output qualify
(`DERIVATIVES`; see `supported`). `recurrence` refuses anything else;
`FastSimpleRNN` then runs Keras' own loop, as it does for `unroll` and the
backends other than TensorFlow and JAX.

Higher-order gradients are exact: the hand-written first-order pass is itself
a custom-gradient function whose gradient is autodiff of the plain (not
XLA-compiled) loops, so a gradient penalty or a Hessian-vector product sees
the same function as `keras.layers.SimpleRNN`'s autodiff. Only the first-order
pass is fast.

With `compile=True` both first-order loops run XLA-compiled: one compilation
per input shape and activation, shared by every layer that uses it, for at
most `MAX_COMPILED_SHAPES` shapes per process (a sequence length that is not
known when the call is traced, or a shape past the cap, runs the plain loops:
XLA keeps every compilation, so lengths that vary without bound would grow
memory without bound).
"""

import keras
from keras import ops

from keras_rnninit.utils.activations import DERIVATIVES

__all__ = ["DERIVATIVES", "project", "recurrence", "supported"]

# act'(z) written in terms of h = act(z): `keras_rnninit/utils/activations.py`.


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


BACKENDS = ("jax", "tensorflow")


def supported(activation):
    """True when `activation` runs on a hand-written kernel (TensorFlow's in
    `keras_rnninit.layers.recurrence.tensorflow`,
    JAX's in `keras_rnninit.layers.recurrence.jax`)."""
    return keras.backend.backend() in BACKENDS and _name(activation) in DERIVATIVES


def project(sequences, kernel, bias=None):
    """x_t Wxh + b for every step at once, as one 2-D matmul (a batched matmul
    over a broadcast kernel costs more, and so does its gradient)."""
    shape = ops.shape(sequences)
    projected = ops.matmul(ops.reshape(sequences, (-1, shape[-1])), kernel)
    if bias is not None:
        projected = projected + bias
    return ops.reshape(projected, (shape[0], shape[1], ops.shape(kernel)[-1]))


def recurrence(
    projected,
    initial,
    kernel,
    activation,
    mask=None,
    recurrent_mask=None,
    compile=False,
):
    """The states s_t of the recurrence above for t = 0..T-1, on TensorFlow
    (or JAX: `keras_rnninit.layers.recurrence.jax`).

    Args:
        projected: (T, B, H), time-major: p_t = x_t Wxh + b.
        initial: (B, H), s_{-1}.
        kernel: (H, H) recurrent kernel W (a variable or tensor).
        activation: One of `DERIVATIVES` (see `supported`).
        mask: Optional (T, B) or (T, B, 1) booleans m_t; a constant (no
            gradient).
        recurrent_mask: Optional (B, H) multiplier r of s_{t-1} (recurrent
            dropout); a constant (no gradient).
        compile: Run both first-order loops XLA-compiled (TensorFlow; JAX
            compiles the whole train step anyway).

    Returns:
        (T, B, H): s_t for every step; its gradient is the hand-written one,
        its higher-order gradients autodiff of the same loops.
    """
    if not supported(activation):
        raise ValueError(
            "`activation` must be one of "
            f"{', '.join(DERIVATIVES)} on the {' or '.join(BACKENDS)} backend. "
            f"Received: activation={activation!r}, "
            f"backend={keras.backend.backend()!r}"
        )
    name = _name(activation)
    if mask is not None and len(mask.shape) == 2:
        mask = ops.expand_dims(mask, -1)  # (T, B) -> (T, B, 1)
    if keras.backend.backend() == "jax":
        from keras_rnninit.layers.recurrence import jax

        return jax.recurrence(
            *(ops.convert_to_tensor(t) for t in (projected, initial, kernel)),
            name,
            mask,
            recurrent_mask,
        )
    from keras_rnninit.layers.recurrence import tensorflow

    return tensorflow.recurrence(
        projected, initial, kernel, name, mask, recurrent_mask, compile
    )


def __getattr__(name):
    # The cap lives with the TensorFlow kernel, the one that compiles; read
    # here for the 0.1 path `keras_rnninit.recurrence.MAX_COMPILED_SHAPES`.
    if name == "MAX_COMPILED_SHAPES":
        from keras_rnninit.layers.recurrence import tensorflow

        return tensorflow.MAX_COMPILED_SHAPES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
