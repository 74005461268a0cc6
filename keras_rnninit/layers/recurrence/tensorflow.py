"""The recurrence of `keras_rnninit.layers.recurrence` on TensorFlow: a custom
gradient with one matmul per step each way, dW as one large matmul after the
backward loop, and XLA-compiled loops for at most `MAX_COMPILED_SHAPES` input
shapes per process (see `keras_rnninit.layers.recurrence` for the formulas and
the reasons).
"""

import functools
import warnings

import keras

from keras_rnninit.utils.activations import DERIVATIVES

__all__ = ["MAX_COMPILED_SHAPES", "recurrence"]

# How many distinct (shape, activation, mask, dropout) loops one process
# compiles with XLA; `benchmarks/xla_cache_memory.py` measures what each costs.
MAX_COMPILED_SHAPES = 32
_compiled = set()


def recurrence(
    projected, initial, kernel, name, mask=None, recurrent_mask=None, compile=False
):
    """States s_t for t = 0..T-1 (time-major), as
    `keras_rnninit.layers.recurrence.recurrence`.

    `name` is a key of `DERIVATIVES`; `mask` (T, B, 1) booleans and
    `recurrent_mask` (B, H) are constants (zero gradient); `compile` runs both
    first-order loops XLA-compiled when the shape budget allows.
    """
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
