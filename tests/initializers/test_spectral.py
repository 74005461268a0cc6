import numpy as np
import pytest

from keras_rnninit import (
    SpectralRadius,
)
from tests.helpers import (
    to_numpy,
)
from tests.initializers.helpers import (
    GATES,
    LAYERS,
    N,
    blocks,
    built_in_subclassed_model,
)


@pytest.mark.parametrize("radius", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("n", [8, N])
def test_spectral_radius_is_exact(radius, n):
    w = to_numpy(SpectralRadius(radius=radius, seed=5)(shape=(n, n)))
    rho = np.abs(np.linalg.eigvals(w)).max()
    assert abs(rho - radius) < 1e-4 * radius


def test_spectral_radius_needs_square_shape():
    with pytest.raises(
        ValueError,
        match=r"`shape` must be a square 2-D shape .*"
        r"Received: shape=\(3, 4\)",
    ):
        SpectralRadius(seed=0)(shape=(3, 4))


@pytest.mark.parametrize("gates", [3, 4])
@pytest.mark.parametrize("radius", [0.5, 1.2])
def test_spectral_radius_each_gate_block(gates, radius):
    n = 16
    w = to_numpy(SpectralRadius(radius, gates=gates, seed=2)((n, gates * n)))
    bs = blocks(w, gates)
    for b in bs:
        assert abs(np.abs(np.linalg.eigvals(b)).max() - radius) < 1e-4 * radius
    assert not np.allclose(bs[0], bs[1])


def test_spectral_radius_gate_blocks_must_be_square():
    with pytest.raises(
        ValueError,
        match=r"^`shape` must be `gates` square blocks side by side, "
        r"\(n, gates \* n\), for SpectralRadius\. Received: shape=\(8, 36\), gates=4$",
    ):
        SpectralRadius(gates=4, seed=0)((8, 36))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_spectral_radius_by_name_in_a_subclassed_model(kind):
    layer = LAYERS[kind](8, recurrent_initializer="spectral_radius")
    built_in_subclassed_model(layer)
    for block in blocks(to_numpy(layer.cell.recurrent_kernel), GATES[kind]):
        rho = np.abs(np.linalg.eigvals(block)).max()
        np.testing.assert_allclose(rho, 1.0, rtol=1e-5)
