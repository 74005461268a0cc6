"""Suite-wide settings: the Hypothesis tests are deterministic like the rest.

With `derandomize=True` Hypothesis draws its examples from a fixed seed (and
keeps no example database), so every run of the suite tries the same inputs.
"""

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")
