"""Short names for our initializers, as Keras users write built-in ones.

Keras resolves a string identifier (`kernel_initializer="xavier_rnn"`,
`keras.initializers.get("XavierRNN")`) through its global custom objects.
`register_names()` adds two names there for every initializer registered
under the package ``keras_rnninit``: the class name and its snake_case form.
Serialization is untouched: Keras keeps writing the registered name
(``keras_rnninit>XavierRNN``), so `.keras` files stay as they were.
"""

import re

import keras

__all__ = ["PACKAGE", "register_names", "snake_case"]

PACKAGE = "keras_rnninit"


def snake_case(class_name):
    """`XavierRNN` -> `xavier_rnn`, `Uniform01` -> `uniform01`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", class_name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def register_names():
    """Add both short names of every registered `keras_rnninit` initializer.

    Idempotent, so every module that registers initializers may call it.
    A name a user registered for another object is left to the user.
    """
    custom = keras.saving.get_custom_objects()
    prefix = f"{PACKAGE}>"
    for key, obj in list(custom.items()):
        if not (
            key.startswith(prefix)
            and isinstance(obj, type)
            and issubclass(obj, keras.initializers.Initializer)
        ):
            continue
        for name in (obj.__name__, snake_case(obj.__name__)):
            custom.setdefault(name, obj)
