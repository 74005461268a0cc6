"""Norm-preserving recurrent kernels: scaled (semi-)orthogonal and identity."""

import keras
from keras import ops

from keras_rnninit.initializers.base import (
    Seed,
    SeededInitializer,
    _check_gates,
    _compute_dtype,
    _float_dtype,
    _gate_block_shape,
    _gates_config,
    _per_gate,
)
from keras_rnninit.initializers.gain import check_gain

__all__ = ["ScaledIdentity", "ScaledOrthogonal"]


@keras.saving.register_keras_serializable(package="keras_rnninit")
class ScaledOrthogonal(SeededInitializer):
    """A Haar-random (semi-)orthogonal matrix times `gain`.

    For a (rows, cols) shape let n = max, m = min. Draw A ~ N(0, 1) of shape
    (n, m), factor A = QR, and flip the sign of each column of Q by
    sign(R[i, i]) so that Q is Haar-distributed (plain QR is not: its signs
    follow the algorithm, Mezzadri 2007). Then W = gain * Q (transposed when
    rows < cols), so that on the short side W Wᵀ = gain² I (rows <= cols)
    or Wᵀ W = gain² I (rows >= cols).

    Why: every singular value of an orthogonal Whh is exactly 1, so the
    linear part of h_t = tanh(x_t Wxh + h_{t-1} Whh) neither shrinks nor
    grows the state; gradients through time then decay only through tanh'.

    Gated cells: Keras' LSTM and GRU keep their gate matrices side by side,
    Whh = [W_1 | ... | W_k] of shape (H, k * H). With `gates=k` the last axis
    is split into k equal blocks and each block is an independent Haar
    (semi-)orthogonal matrix times `gain`, so each gate's recurrence is
    norm-preserving (with `gates=1`, the (H, 4H) whole would be orthogonal
    and no single (H, H) block would be).

    Example:

        >>> import keras, numpy as np
        >>> from keras_rnninit import ScaledOrthogonal
        >>> w = keras.ops.convert_to_numpy(ScaledOrthogonal(seed=0)(shape=(8, 8)))
        >>> bool(np.allclose(w @ w.T, np.eye(8), atol=1e-5))
        True
        >>> w = keras.ops.convert_to_numpy(ScaledOrthogonal(gates=4, seed=0)((8, 32)))
        >>> all(np.allclose(b.T @ b, np.eye(8), atol=1e-5) for b in np.split(w, 4, 1))
        True

    Args:
        gain: Positive multiplier; every singular value of W (of each gate
            block) equals `gain`. Or an activation name (`"tanh"`) for its
            `calculate_gain` value.
        gates: Positive int, the number of gate blocks along the last axis
            (4 for an LSTM kernel, 3 for a GRU kernel).
        seed: None, an int, or a `keras.random.SeedGenerator`.

    Reference:
        - [Saxe et al., 2014](https://arxiv.org/abs/1312.6120)
        - [Mezzadri, 2007](https://arxiv.org/abs/math-ph/0609050)
    """

    def __init__(
        self, gain: float | str = 1.0, seed: Seed = None, gates: int = 1
    ) -> None:
        self.gain = check_gain(gain)
        self.gates = _check_gates(gates)
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        rows, cols = _gate_block_shape(shape, self.gates, type(self).__name__)
        dtype = _float_dtype(dtype)
        tall = (max(rows, cols), min(rows, cols))

        def draw(draw_shape):
            return keras.random.normal(
                draw_shape, dtype=_compute_dtype(dtype), seed=self.seed
            )

        def orthogonal(a):
            q, r = ops.qr(a)  # reduced: q is (n, m)
            # Haar correction: make diag(R) positive (sign 0 never happens a.s.).
            q = q * ops.cast(ops.where(ops.diagonal(r) < 0, -1, 1), q.dtype)
            return ops.transpose(q) if rows < cols else q

        return ops.cast(
            self.gain * _per_gate(draw, tall, self.gates, orthogonal), dtype
        )

    def get_config(self):
        return {"gain": self.gain, **super().get_config(), **_gates_config(self)}


@keras.saving.register_keras_serializable(package="keras_rnninit")
class ScaledIdentity(keras.initializers.Initializer):
    """W = gain * I: the IRNN recurrent kernel.

    With a ReLU recurrence and zero input, h_t = relu(gain * h_{t-1}) keeps
    the state (gain = 1), so gradients pass through time unchanged: the
    vanishing ratio ||dL/dh_1|| / ||dL/dh_T|| starts at 1. A rectangular
    shape gets ones on the main diagonal. Unlike `keras.initializers.Identity`,
    the `gain` is part of `get_config()` and so survives save/load.

    Gated cells: with `gates=k` the last axis is split into k equal blocks
    and every block is gain * I, so each gate of an LSTM (k=4) or GRU (k=3)
    recurrent kernel of shape (H, k * H) gets the identity: the block traces
    are [gain * H] * k, not [k * H, 0, ...] as with `gates=1`.

    Example:

        >>> import keras
        >>> from keras_rnninit import ScaledIdentity
        >>> keras.ops.convert_to_numpy(ScaledIdentity(gain=0.5)(shape=(2, 2))).tolist()
        [[0.5, 0.0], [0.0, 0.5]]
        >>> keras.ops.convert_to_numpy(ScaledIdentity(gates=2)(shape=(1, 2))).tolist()
        [[1.0, 1.0]]

    Args:
        gain: Positive value of the diagonal, or an activation name
            (`"tanh"`) for its `calculate_gain` value.
        gates: Positive int, the number of gate blocks along the last axis
            (4 for an LSTM kernel, 3 for a GRU kernel).

    Reference:
        - [Le, Jaitly & Hinton, 2015](https://arxiv.org/abs/1504.00941)
    """

    def __init__(self, gain: float | str = 1.0, gates: int = 1) -> None:
        self.gain = check_gain(gain)
        self.gates = _check_gates(gates)

    def __call__(self, shape, dtype=None):
        rows, cols = _gate_block_shape(shape, self.gates, type(self).__name__)
        eye = ops.eye(rows, cols, dtype=_float_dtype(dtype))
        if self.gates > 1:
            eye = ops.concatenate([eye] * self.gates, axis=-1)
        return self.gain * eye

    def get_config(self):
        return {"gain": self.gain, **_gates_config(self)}
