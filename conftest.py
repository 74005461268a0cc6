"""Repository-wide pytest set-up (also applies to the doctests in the package)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Importing __main__ would run the CLI.
collect_ignore = ["keras_rnninit/__main__.py"]
