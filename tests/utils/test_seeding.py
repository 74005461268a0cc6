"""derive_seed: a model's seed and a weight's index to a well-mixed seed."""

import numpy as np
import pytest

from keras_rnninit.utils.seeding import derive_seed


def test_the_pair_goes_through_numpys_seed_sequence():
    # The reference: NumPy's SeedSequence hash of (seed, index), top 31 bits.
    for seed, index in [(0, 0), (0, 1), (1, 0), (12345, 7), (2**40, 3)]:
        expected = np.random.SeedSequence([seed, index]).generate_state(1)[0] >> 1
        assert derive_seed(seed, index) == int(expected)


def test_seeds_fit_every_backends_int32_and_repeat():
    seeds = [derive_seed(s, i) for s in range(30) for i in range(30)]
    assert all(isinstance(s, int) and 0 <= s < 2**31 for s in seeds)
    assert seeds == [derive_seed(s, i) for s in range(30) for i in range(30)]


def test_neighbouring_models_share_no_weight_seed():
    # `seed + index` would give model 1's weight 0 the seed of model 0's
    # weight 1; the hash gives 900 distinct seeds to 30 models x 30 weights.
    seeds = {derive_seed(s, i) for s in range(30) for i in range(30)}
    assert len(seeds) == 900


@pytest.mark.parametrize("seed", [-1, 2**64 + 5])
def test_seeds_outside_64_bits_wrap_as_numpy_ints_do(seed):
    assert derive_seed(seed, 2) == derive_seed(seed % 2**64, 2)
