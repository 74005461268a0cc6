"""RunRecord: a comparison's run as named data, stored and read back as the
0.1 dict, and every reader of records free of the deprecated key access."""

import json
import warnings

import pytest

from keras_rnninit.compare import (
    CompareConfig,
    RunRecord,
    RunStore,
    compare,
    write_report,
)
from keras_rnninit.compare.records import as_record, as_records
from keras_rnninit.compare.report import jsonable
from keras_rnninit.compare.statistics import statistics
from keras_rnninit.compare.tensorboard import RunWriter
from tests.helpers import TINY

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def stored(record):
    """The record as `runs/*.json` holds it."""
    return json.loads(json.dumps(jsonable(record), allow_nan=False))


def test_compare_returns_run_records_that_store_as_the_01_dict(records):
    assert records and all(isinstance(r, RunRecord) for r in records)
    for record in records:
        plain = stored(record)
        # The 0.1 record's keys, in its order; optional ones only when set.
        assert list(plain)[:4] == ["scheme", "description", "seed", "config"]
        assert plain["fused_with"] == ["xavier_rnn", "uniform01"]
        assert "layer_diagnostics" not in plain and "changes" not in plain
        again = RunRecord.from_dict(plain)
        assert again.to_dict() == plain and list(again.to_dict()) == list(plain)
        assert again.final_test == plain["final_test"] == record.final_test


def test_a_stored_dict_reads_back_as_it_was_with_its_unknown_and_missing_keys():
    old = {"seed": 2, "scheme": "he", "config": {"steps": 10}, "dataset": "x"}
    record = as_record(old)
    assert (record.scheme, record.seed, record.extra) == ("he", 2, {"dataset": "x"})
    assert record.threshold is None and record.curve == {}
    assert record.to_dict() == old and list(record.to_dict()) == list(old)
    assert as_record(record) is record


def test_key_access_warns_and_gives_the_attribute(records):
    record = records[0]
    with pytest.warns(DeprecationWarning, match=r"record\['final_test'\].*0\.3"):
        assert record["final_test"] == record.final_test
    with pytest.warns(DeprecationWarning):
        assert "curve" in record and "changes" not in record
    with pytest.warns(DeprecationWarning):
        assert record.get("changes", "none") == "none"
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        record["changes"]  # a built-in task's record has no such key


def test_anything_else_is_refused_in_one_line():
    with pytest.raises(TypeError, match=r"^`records` must hold RunRecords .*\[1, 2\]$"):
        as_records([[1, 2]])


@pytest.mark.slow
def test_no_reader_of_records_uses_the_deprecated_key_access(records, tmp_path):
    """Run, store, resume, report, statistics and TensorBoard with the
    deprecation as an error: they read attributes, never keys."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "error", message=".*is a dataclass since 0.2", category=DeprecationWarning
        )
        fresh = compare(["xavier_rnn"], seeds=[1], progress=None, fused=False, **TINY)
        mixed = list(records) + [stored(r) for r in fresh]  # records and dicts
        report = write_report(mixed, tmp_path / "report")
        assert [r["scheme"] for r in report["records"]] == [
            r.scheme for r in as_records(mixed)
        ]
        statistics(mixed)
        RunWriter(tmp_path / "board", ["xavier_rnn"], [1]).write(fresh[0])
        config = CompareConfig(**fresh[0].config)
        with RunStore(tmp_path / "runs", config) as store:
            store.save(fresh[0])
        with RunStore(tmp_path / "runs", config, resume=True) as store:
            assert isinstance(store.completed[("xavier_rnn", 1)], RunRecord)
