"""The comparison runner and the report writer, on tiny real runs."""

import re

import keras
import pytest

from keras_rnninit.compare import compare

# The LSTM and GRU comparisons diagnose gated cells: TensorFlow only.
gated_tf_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="gated diagnostics: TensorFlow"
)


@pytest.mark.slow
@gated_tf_only
def test_resumed_fused_seed_counts_only_new_runs():
    import io

    options = dict(seeds=[0], length=6, units=4, steps=100, eval_every=100)
    first = compare(["xavier_rnn", "uniform01"], progress=False, **options)
    stream = io.StringIO()
    again = compare(
        ["xavier_rnn", "uniform01"],
        progress=stream,
        completed={("xavier_rnn", 0): first[0]},
        **options,
    )
    assert again[0] is first[0]
    counts = re.findall(r"runs (\d+)/(\d+) done", stream.getvalue())
    assert counts[-1] == ("2", "2")
