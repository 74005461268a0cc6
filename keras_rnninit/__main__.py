"""`python -m keras_rnninit` runs the command line."""

import sys

from keras_rnninit.cli import main

sys.exit(main())
