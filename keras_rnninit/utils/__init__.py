"""The ground floor: small helpers that import nothing else of ours.

- `validation`: argument checks with one wording (Keras style).
- `seeding`: seed derivation (`derive_seed`).
- `files`: atomic writes with the user's umask, temporary folders, the
  overwrite check.
- `activations`: each activation's derivative written in terms of its output.

(The package's own plumbing stays at the root: `_registration.py` registers
our classes with Keras, `_moved.py` keeps the 0.1 import paths.)
"""
