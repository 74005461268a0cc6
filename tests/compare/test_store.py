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


def test_a_resume_on_another_backend_is_refused_in_one_line(records, tmp_path):
    """A resumed comparison trains on its finished runs' backend: mixing
    TensorFlow and JAX runs in one report would mix their arithmetic."""
    import dataclasses

    from keras_rnninit.compare import CompareConfig, RunStore
    from keras_rnninit.utils.files import ResumeMismatch

    record = dataclasses.replace(records[0])
    record.versions = {**record.versions, "backend": "another"}
    config = CompareConfig(**record.config)
    with RunStore(tmp_path / "c", config) as store:
        store.save(record)
    with pytest.raises(ResumeMismatch) as error:
        RunStore(tmp_path / "c", config, resume=True)
    message = error.value.cli_message()
    assert message.startswith("`--resume` must train on the backend of the interrupted")
    assert f"backend={keras.backend.backend()!r} (its runs used 'another')" in message
    assert "\n" not in message
    with RunStore(tmp_path / "d", config) as store:  # the same backend resumes
        store.save(records[0])
    with RunStore(tmp_path / "d", config, resume=True) as store:
        assert list(store.completed) == [(records[0].scheme, records[0].seed)]
