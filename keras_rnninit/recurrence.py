"""The simple recurrence with a hand-written backward pass on TensorFlow: the
kernel of `FastSimpleRNN`.

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

import functools
import warnings

import keras
from keras import ops

from keras_rnninit.activations import DERIVATIVES

__all__ = ["DERIVATIVES", "MAX_COMPILED_SHAPES", "project", "recurrence", "supported"]

# How many distinct (shape, activation, mask, dropout) loops one process
# compiles with XLA; `benchmarks/xla_cache_memory.py` measures what each costs.
MAX_COMPILED_SHAPES = 32
_compiled = set()

# act'(z) written in terms of h = act(z): `keras_rnninit/activations.py`.


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
    """True when `activation` runs on a hand-written kernel (TensorFlow's here,
    JAX's in `keras_rnninit.recurrence_jax`)."""
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
    (or JAX: `keras_rnninit.recurrence_jax`).

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
        from keras_rnninit import recurrence_jax

        return recurrence_jax.recurrence(
            *(ops.convert_to_tensor(t) for t in (projected, initial, kernel)),
            name,
            mask,
            recurrent_mask,
        )
    import tensorflow as tf

    constants = _constants(mask, recurrent_mask)
    projected = tf.convert_to_tensor(projected)
    compile = compile and _may_compile(projected, name, constants)
    forward, backward = _loops(compile)

    @tf.custom_gradient
    def run(p, h0, w):
        # stop_gradient: no tape may trace into the loops (`grad` is their
        # gradient; an eager tape would otherwise ask XLA for a while loop
        # with autodiff accumulators, which it cannot compile).
        states = forward(*_stopped(p, h0, w), *constants, name)

        def grad(upstream):
            return _first_order(upstream, p, h0, w, states, constants, name, backward)

        return states, grad

    # The kernel enters as a tensor so its gradient flows through `run`.
    return run(
        projected,
        tf.convert_to_tensor(initial),
        tf.identity(tf.convert_to_tensor(kernel)),
    )


def _may_compile(projected, name, constants):
    """Whether this call may use (and, if new, add) an XLA compilation."""
    shape = tuple(projected.shape)
    if shape[0] is None:
        return False  # a length only known at run time: unbounded compilations
    key = (shape, projected.dtype.name, name, *(c is not None for c in constants))
    if key in _compiled:
        return True
    if len(_compiled) >= MAX_COMPILED_SHAPES:
        warnings.warn(
            f"keras_rnninit: {MAX_COMPILED_SHAPES} input shapes already have an "
            f"XLA-compiled recurrence in this process; shape {shape} runs the "
            "plain loop (same numbers, slower). Pad sequences to a few lengths "
            "to stay compiled.",
            stacklevel=3,
        )
        return False
    _compiled.add(key)
    return True


def _constants(mask, recurrent_mask):
    """(mask as (T, B, 1) booleans or None, recurrent mask or None), both cut
    off from every tape: they are data, not parameters."""
    import tensorflow as tf

    if mask is not None:
        mask = tf.stop_gradient(tf.cast(mask, "bool"))
        if mask.shape.rank == 2:
            mask = mask[:, :, None]
    if recurrent_mask is not None:
        recurrent_mask = tf.stop_gradient(tf.convert_to_tensor(recurrent_mask))
    return mask, recurrent_mask


def _stopped(*tensors):
    import tensorflow as tf

    return [tf.stop_gradient(t) for t in tensors]


def _first_order(upstream, p, h0, w, states, constants, name, backward):
    """(dL/dp, dL/ds_{-1}, dL/dW) by the fast loops, as a function that is
    itself differentiable (for gradient penalties, Hessian-vector products)."""
    import tensorflow as tf

    @tf.custom_gradient
    def vjp(u, p, h0, w):
        grads = backward(*_stopped(u, states, h0, w), *constants, name)

        def second_order(*cotangents):
            # Autodiff of the plain loops: the reference computation itself.
            sources = [u, p, h0, w]
            with tf.GradientTape() as tape:
                tape.watch(sources)
                again = _backward(
                    u, _forward(p, h0, w, *constants, name), h0, w, *constants, name
                )
            cotangents = [
                tf.zeros_like(a) if c is None else c
                for a, c in zip(again, cotangents, strict=True)
            ]
            found = tape.gradient(again, sources, output_gradients=cotangents)
            return [
                tf.zeros_like(s) if g is None else g
                for s, g in zip(sources, found, strict=True)
            ]

        return grads, second_order

    return vjp(tf.convert_to_tensor(upstream), p, h0, w)


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


def _forward(projected, initial, kernel, mask, recurrent_mask, name):
    import tensorflow as tf

    act = keras.activations.get(name)
    steps = tf.shape(projected)[0]

    def step(t, s, states):
        previous = s if recurrent_mask is None else s * recurrent_mask
        new = act(projected[t] + tf.matmul(previous, kernel))
        if mask is not None:
            new = tf.where(mask[t], new, s)
        return t + 1, new, states.write(t, new)

    states = tf.TensorArray(projected.dtype, size=steps, element_shape=initial.shape)
    _, _, states = tf.while_loop(lambda t, *_: t < steps, step, (0, initial, states))
    return states.stack()


def _backward(upstream, states, initial, kernel, mask, recurrent_mask, name):
    """(dL/dp, dL/ds_{-1}, dL/dW) given dL/ds_t for every t."""
    import tensorflow as tf

    derivative = DERIVATIVES[name]
    # All t at once; the cast turns relu's mask into slopes (a no-op otherwise).
    slopes = None if derivative is None else tf.cast(derivative(states), states.dtype)
    if mask is not None:
        ones = tf.ones_like(states) if slopes is None else slopes
        slopes = tf.where(mask, ones, tf.zeros_like(ones))
    steps = tf.shape(states)[0]

    def step(t, carry, dzs):
        t = t - 1
        g = upstream[t] + carry
        dz = g if slopes is None else g * slopes[t]
        back = tf.matmul(dz, kernel, transpose_b=True)
        if recurrent_mask is not None:
            back = back * recurrent_mask
        if mask is not None:
            back = back + tf.where(mask[t], tf.zeros_like(g), g)
        return t, back, dzs.write(t, dz)

    dzs = tf.TensorArray(states.dtype, size=steps, element_shape=initial.shape)
    _, d_initial, dzs = tf.while_loop(
        lambda t, *_: t > 0, step, (steps, tf.zeros_like(initial), dzs)
    )
    d_projected = dzs.stack()
    # sum_t (s_{t-1} * r)^T dz_t as one (H, T*B) x (T*B, H) matmul.
    units = tf.shape(initial)[-1]
    previous = tf.concat([initial[None], states[:-1]], axis=0)
    if recurrent_mask is not None:
        previous = previous * recurrent_mask
    d_kernel = tf.matmul(
        tf.reshape(previous, (-1, units)),
        tf.reshape(d_projected, (-1, units)),
        transpose_a=True,
    )
    return d_projected, d_initial, d_kernel
