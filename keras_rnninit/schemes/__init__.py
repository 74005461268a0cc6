"""Named initialization schemes and what chooses and applies them.

- `bundles.py`: the schemes themselves, (Wxh, Whh, Why) initializers plus an
  activation, by name (`get`, `names`, `register`), and the models they
  build (`Scheme.build_model`, `ModelSpec`);
- `guidance.py`: `recommend(task, length)`, the scheme the length sweep
  measured best (standard library only; reads `evidence/length_sweep.json`);
- `redraw.py`: `reinitialize(model, scheme, seed)`, a user's model
  re-drawn by a scheme.

Every name is importable from `keras_rnninit.schemes`. The package is lazy
(PEP 562), as the root is: `recommend` (and `keras-rnninit recommend`) import
neither Keras nor TensorFlow; the other names load Keras when first used.

Example:

    >>> from keras_rnninit import schemes
    >>> schemes.names()[:3]
    ['critical_tanh', 'he', 'irnn']
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for readers and the API reference; imported lazily below
    from keras_rnninit.schemes.bundles import (
        CELLS,
        GATES,
        LAYERS,
        ModelSpec,
        Scheme,
        SchemeInitializers,
        chrono,
        chrono_length,
        get,
        names,
        register,
    )
    from keras_rnninit.schemes.guidance import (
        EVIDENCE,
        REAL_DATA_EVIDENCE,
        Recommendation,
        recommend,
    )
    from keras_rnninit.schemes.redraw import Reinitialized, reinitialize

# Public name -> the module that defines it.
_WHERE = {
    **dict.fromkeys(
        (
            "CELLS",
            "GATES",
            "LAYERS",
            "ModelSpec",
            "Scheme",
            "SchemeInitializers",
            "chrono",
            "chrono_length",
            "get",
            "names",
            "register",
        ),
        "keras_rnninit.schemes.bundles",
    ),
    **dict.fromkeys(
        ("EVIDENCE", "REAL_DATA_EVIDENCE", "Recommendation", "recommend"),
        "keras_rnninit.schemes.guidance",
    ),
    **dict.fromkeys(("Reinitialized", "reinitialize"), "keras_rnninit.schemes.redraw"),
}

__all__ = [
    "CELLS",
    "EVIDENCE",
    "GATES",
    "LAYERS",
    "ModelSpec",
    "REAL_DATA_EVIDENCE",
    "Recommendation",
    "Reinitialized",
    "Scheme",
    "SchemeInitializers",
    "chrono",
    "chrono_length",
    "get",
    "names",
    "recommend",
    "register",
    "reinitialize",
]


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_WHERE})
