"""benchmarks/export_latency.py --quick: its LSTM rows are the paths they name."""

import json

from tests.helpers import load_benchmark


def test_export_latency_quick_has_fused_while_and_unrolled_lstm_rows(tmp_path):
    benchmark = load_benchmark("export_latency")
    out = tmp_path / "result.json"
    assert benchmark.main(["--quick", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["lstm"]["rows"]
    assert set(rows) == {
        "keras_eager",
        "tf_function",
        "litert_fused",
        "litert_while",
        "litert_unrolled",
        "litert_fused_int8",
    }
    ops = {
        name: (row["fused_ops"], row["while_ops"])
        for name, row in rows.items()
        if "size_bytes" in row
    }
    assert ops == {
        "litert_fused": (1, 0),
        "litert_fused_int8": (1, 0),
        "litert_while": (0, 1),
        "litert_unrolled": (0, 0),
    }
    for name in ("litert_fused", "litert_while", "litert_unrolled"):
        assert rows[name]["max_abs_error"] <= 1e-5, name
    # The fused file is smaller than the loop's (no loop body subgraph).
    assert rows["litert_fused"]["size_bytes"] < rows["litert_while"]["size_bytes"]
