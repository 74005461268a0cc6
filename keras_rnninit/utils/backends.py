"""Which Keras backend a job runs on, chosen before Keras is imported.

Keras fixes its backend when it is first imported, from `KERAS_BACKEND` or
else `~/.keras/keras.json` (which Keras writes by itself, "tensorflow", on
its first import; so it says nothing about the user's wish). The command line
and the scripts that start training choose for each job, in this order:

1. `--backend` (`requested`);
2. the `KERAS_BACKEND` environment variable;
3. the backend of a Keras already imported in this process (it cannot
   change; a Python caller's jobs stay on it);
4. TensorFlow when the job needs it (`needs`: why, e.g. "LSTM and GRU
   diagnostics need TensorFlow");
5. else JAX when it is installed: the fastest trainer of this project's
   models on CPU (`docs/performance.md`); else TensorFlow.

Pure Python: nothing here imports Keras, JAX or TensorFlow.

Example:

    >>> choose(requested="tensorflow").backend
    'tensorflow'
    >>> choose(needs="tf.distribute needs TensorFlow", environ={}, loaded=None)
    Choice(backend='tensorflow', reason='tf.distribute needs TensorFlow')
"""

import dataclasses
import importlib.util
import os
import sys

__all__ = [
    "BACKENDS",
    "Choice",
    "choose",
    "installed",
    "loaded_backend",
    "require_installed",
    "use",
]

BACKENDS = ("jax", "tensorflow")


@dataclasses.dataclass(frozen=True)
class Choice:
    """The backend of a job and why (one phrase, shown on request)."""

    backend: str
    reason: str

    def __str__(self):
        return f"{self.backend} ({self.reason})"


def installed(backend: str) -> bool:
    """True if `backend`'s package can be imported (without importing it)."""
    return importlib.util.find_spec(backend) is not None


def require_installed(backend: str) -> None:
    """Refuse in one line a backend whose package is missing."""
    if not installed(backend):
        raise ValueError(
            f"`backend` must be an installed backend ({backend} is not "
            f"installed; pip install {backend}). Received: backend={backend!r}"
        )


def loaded_backend():
    """The backend of the Keras already imported in this process, or None."""
    keras = sys.modules.get("keras")
    if keras is None or not hasattr(keras, "backend"):
        return None
    return keras.backend.backend()


_UNSET = object()


def choose(requested=None, needs=None, environ=None, loaded=_UNSET) -> Choice:
    """The backend of a job (see the module docstring for the order).

    Args:
        requested: "jax" or "tensorflow" (`--backend`), or None.
        needs: Why the job needs TensorFlow, a phrase ("LSTM and GRU
            diagnostics need TensorFlow"), or None.
        environ: The environment to read `KERAS_BACKEND` from (default
            `os.environ`).
        loaded: The backend of an imported Keras (default: this process's).
    """
    environ = os.environ if environ is None else environ
    loaded = loaded_backend() if loaded is _UNSET else loaded
    if requested is not None:
        if requested not in BACKENDS:
            raise ValueError(
                f"`backend` must be one of {', '.join(BACKENDS)}. "
                f"Received: backend={requested!r}"
            )
        return Choice(requested, "--backend")
    if environ.get("KERAS_BACKEND"):
        return Choice(environ["KERAS_BACKEND"], "KERAS_BACKEND")
    if loaded is not None:
        return Choice(loaded, "Keras is already imported")
    if needs:
        return Choice("tensorflow", needs)
    if installed("jax"):
        return Choice("jax", "the fastest installed trainer")
    return Choice("tensorflow", "JAX is not installed")


def use(choice: Choice) -> None:
    """Make `choice` this process's backend: set `KERAS_BACKEND` before Keras
    is imported (child processes and Ray workers inherit it). Refused in one
    line when Keras is already imported with another backend or the backend's
    package is missing."""
    loaded = loaded_backend()
    if loaded is not None and loaded != choice.backend:
        raise ValueError(
            f"`backend` must be {loaded}, the backend of the Keras already "
            f"imported in this process. Received: backend={choice.backend!r}"
        )
    require_installed(choice.backend)
    os.environ["KERAS_BACKEND"] = choice.backend
