"""Seed derivation: the one place a model's seed becomes per-weight seeds.

NumPy only (no Keras), so every layer of the package can use it: the cells
seed their default initializers with it, the schemes each weight of a model,
`reinitialize` every layer of a user's model and the comparison each batch of
a data stream.
"""

import numpy as np

__all__ = ["derive_seed"]


def derive_seed(seed, index):
    """A well-mixed 31-bit seed for weight (or batch) `index` of a model seeded `seed`.

    Seeds 0 and 1 of a scheme must not share weights (a naive `seed + index`
    would give model 1's Wxh the seed of model 0's Whh), so the pair goes
    through NumPy's `SeedSequence` hash.

    Example:

        >>> from keras_rnninit.utils.seeding import derive_seed
        >>> derive_seed(0, 1) == derive_seed(1, 0)
        False
        >>> derive_seed(0, 1) == derive_seed(0, 1)
        True
    """
    state = np.random.SeedSequence([int(seed) % 2**64, index]).generate_state(1)
    return int(state[0] >> 1)
