"""The one table of activation derivatives, shared by the kernels and diagnostics.

Each entry gives act'(z) in terms of h = act(z), using only arithmetic and a
comparison, so one formula serves NumPy (the float64 diagnostics), TensorFlow
and JAX (`keras_rnninit/layers/recurrence/`: `tensorflow.py`, `jax.py`).
`relu`'s entry is the boolean mask h > 0 (equal to z > 0, since relu(z) > 0
exactly when z > 0), which each user casts to h's dtype. `None` means the
identity: slope 1 everywhere.
"""

__all__ = ["DERIVATIVES"]

DERIVATIVES = {
    "tanh": lambda h: 1.0 - h * h,
    "relu": lambda h: h > 0,
    "sigmoid": lambda h: h * (1.0 - h),
    "linear": None,
}
