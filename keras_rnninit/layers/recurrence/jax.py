"""The recurrence of `keras_rnninit.layers.recurrence` on JAX: `lax.scan` forwards and
a hand-written backward scan (`jax.custom_vjp`), dW as one large matmul.

Same function, same masks and the same backward arithmetic as the TensorFlow
kernel (see `keras_rnninit.layers.recurrence` for the formulas). Higher-order
reverse-mode gradients are JAX's differentiation of these two scans, which
are ordinary traceable JAX code; forward-mode (`jax.jvp`) is not defined for
a `custom_vjp` function and JAX says so if asked.
"""

import functools

import keras

__all__ = ["recurrence"]


def recurrence(projected, initial, kernel, name, mask=None, recurrent_mask=None):
    """States s_t for t = 0..T-1 (time-major), as `recurrence.recurrence`.

    `name` is a key of `recurrence.DERIVATIVES`; `mask` (T, B, 1) booleans and
    `recurrent_mask` (B, H) are constants (zero gradient).
    """
    import jax.numpy as jnp

    run = _kernel(name, mask is not None, recurrent_mask is not None)
    constants = []
    if mask is not None:
        constants.append(jnp.asarray(mask, projected.dtype))
    if recurrent_mask is not None:
        constants.append(recurrent_mask)
    return run(projected, initial, kernel, *constants)


@functools.cache
def _kernel(name, masked, dropped, unroll=1):
    """The custom-vjp function for one activation and set of constants.

    `unroll` is `lax.scan`'s steps per loop iteration in both scans; the
    layer runs 1 (`benchmarks/loop_time.py` measures the others: no gain).
    """
    import jax
    import jax.numpy as jnp
    from jax import lax

    from keras_rnninit.utils.activations import DERIVATIVES

    # Keras' own activation (on JAX: jnp.tanh, jax.nn.relu, ...), so the fast
    # path runs exactly the function the layer would.
    act = keras.activations.get(name)
    derivative = DERIVATIVES[name]

    def unpack(constants):
        constants = list(constants)
        mask = constants.pop(0) if masked else None
        r = constants.pop(0) if dropped else None
        return mask, r

    def forward(projected, initial, kernel, *constants):
        mask, r = unpack(constants)

        def step(s, inputs):
            p_t, m_t = inputs
            new = act(p_t + (s if r is None else s * r) @ kernel)
            if m_t is not None:
                new = jnp.where(m_t > 0, new, s)
            return new, new

        return lax.scan(step, initial, (projected, mask), unroll=unroll)[1]

    @jax.custom_vjp
    def run(projected, initial, kernel, *constants):
        return forward(projected, initial, kernel, *constants)

    def run_forward(projected, initial, kernel, *constants):
        states = forward(projected, initial, kernel, *constants)
        return states, (initial, kernel, states, constants)

    def run_backward(residuals, upstream):
        initial, kernel, states, constants = residuals
        mask, r = unpack(constants)
        slopes = None if derivative is None else derivative(states).astype(states.dtype)
        if mask is not None:
            ones = jnp.ones_like(states) if slopes is None else slopes
            slopes = jnp.where(mask > 0, ones, 0.0)

        def step(carry, inputs):
            g_t, slope_t, m_t = inputs
            g = g_t + carry
            dz = g if slope_t is None else g * slope_t
            back = dz @ kernel.T
            if r is not None:
                back = back * r
            if m_t is not None:
                back = back + jnp.where(m_t > 0, 0.0, g)
            return back, dz

        d_initial, dzs = lax.scan(
            step,
            jnp.zeros_like(initial),
            (upstream, slopes, mask),
            reverse=True,
            unroll=unroll,
        )
        previous = jnp.concatenate([initial[None], states[:-1]], axis=0)
        if r is not None:
            previous = previous * r
        units = initial.shape[-1]
        d_kernel = previous.reshape(-1, units).T @ dzs.reshape(-1, units)
        return (dzs, d_initial, d_kernel, *(jnp.zeros_like(c) for c in constants))

    run.defvjp(run_forward, run_backward)
    return run
