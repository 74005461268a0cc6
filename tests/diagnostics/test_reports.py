"""diagnose() and signal_propagation() return dataclasses; the 0.1 dict
access still answers, with a DeprecationWarning, until 0.3."""

import dataclasses
import json

import keras
import numpy as np
import pytest

from keras_rnninit import schemes
from keras_rnninit.diagnostics import (
    DiagnoseReport,
    SignalReport,
    diagnose,
    signal_propagation,
)
from keras_rnninit.diagnostics.reports import _GATED

TF = keras.backend.backend() == "tensorflow"
RNG = np.random.default_rng(5)


def simple_report():
    model = schemes.get("xavier_rnn").build_model(input_dim=2, units=4, seed=0)
    x = RNG.normal(size=(3, 6, 2)).astype("float32")
    return diagnose(model, x, np.zeros((3, 1), "float32"))


def test_fields_are_the_attributes_and_to_dict_leaves_out_what_does_not_apply():
    report = simple_report()
    assert isinstance(report, DiagnoseReport)
    fields = report.to_dict()
    names = {f.name for f in dataclasses.fields(report)}
    # A SimpleRNN has no gate: those fields are None and absent, as in 0.1.
    assert set(fields) == names - _GATED
    assert all(getattr(report, name) is None for name in _GATED)
    for name, value in fields.items():
        assert value is getattr(report, name)
    assert report.grad_norms.shape == (6,) and report.layer == "rnn"


def test_key_access_warns_and_gives_the_attribute():
    report = simple_report()
    with pytest.warns(DeprecationWarning, match=r"report\['log10_ratio'\].*0\.3"):
        assert report["log10_ratio"] == report.log10_ratio
    with pytest.warns(DeprecationWarning):
        assert "spectral_radius" in report and "forget_gate" not in report
    with pytest.warns(DeprecationWarning):
        assert report.get("forget_gate", "none") == "none"
    with pytest.warns(DeprecationWarning):
        assert sorted(report) == sorted(report.to_dict())
    with pytest.warns(DeprecationWarning), pytest.raises(KeyError):
        report["forget_gate"]  # a SimpleRNN's 0.1 dict had no such key


@pytest.mark.skipif(not TF, reason="LSTM diagnostics: TensorFlow only")
def test_an_lstm_report_has_its_gate_fields():
    model = schemes.get("chrono").build_model(input_dim=2, units=4, seed=0, cell="lstm")
    x = RNG.normal(size=(3, 6, 2)).astype("float32")
    report = diagnose(model, x, np.zeros((3, 1), "float32"))
    assert report.cell == "lstm" and report.forget_gate == "f"
    assert set(report.to_dict()) == {f.name for f in dataclasses.fields(report)}


def test_signal_report_carries_its_arguments_and_serializes():
    report = signal_propagation("xavier_rnn", units=8, length=5, draws=1, seed=3)
    assert isinstance(report, SignalReport)
    assert (report.scheme, report.units, report.length, report.seed) == (
        "xavier_rnn",
        8,
        5,
        3,
    )
    assert report.variance.shape == (5,)
    row = {
        k: v.tolist() if hasattr(v, "tolist") else v
        for k, v in report.to_dict().items()
    }
    assert json.loads(json.dumps(row))["scheme"] == "xavier_rnn"
    with pytest.warns(DeprecationWarning):
        assert report["log10_ratio"] == report.log10_ratio
