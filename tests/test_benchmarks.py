"""The benchmark scripts run at a tiny size, so they cannot rot.

Timings at this size are noise, so they are not compared with targets;
instead every figure a script reports must follow from its own raw samples,
and all its timed seconds must fit in the wall time this test measures
around the script (an independent clock).
"""

import json
import lzma
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_rnninit.schemes.guidance import seed_ranges
from tests.helpers import (
    REPO,
    load_benchmark,
    run_python,
)


def run_quick(script, tmp_path, out_name="result.json"):
    out = tmp_path / out_name
    start = time.perf_counter()
    done = run_python(os.path.join(REPO, "benchmarks", script), "--quick", "--out", out)
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout, wall


def assert_timed(samples, wall):
    """Positive, finite seconds that together fit in the measured wall time."""
    samples = np.asarray(samples, dtype=float)
    assert np.all(np.isfinite(samples)) and np.all(samples > 0), samples
    assert samples.sum() < wall, f"timed {samples.sum()} s in {wall} s of wall time"


def ratio(numerator, denominator):
    return float(np.median(numerator) / np.median(denominator))


def wilson(k, n, z=1.959963984540054):
    """The Wilson score interval, from its closed form (not scipy)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def cell(length, rows):
    return {
        "task": "adding",
        "length": length,
        "steps": 1000,
        "clipnorm": 1.0,
        "seeds": list(range(rows[0]["runs"])),
        "rows": rows,
    }


@pytest.mark.slow
def test_compare_adding_quick(tmp_path):
    out, stdout, _ = run_quick("compare_adding.py", tmp_path, "adding")
    # The report is kept as committed: xz-compressed (benchmarks/archive.py).
    assert not (out / "report.json").exists()
    with lzma.open(out / "report.json.xz", "rt") as file:
        report = json.load(file)
    assert [row["scheme"] for row in report["summary"]] == ["xavier_rnn", "uniform01"]
    assert "| `xavier_rnn` |" in stdout and "| scheme | solved |" in stdout
    assert {row["runs"] for row in report["statistics"].values()} == {3}  # 0-2
    assert "wall time: " in stdout and (out / "survival.png").exists()


@pytest.mark.slow
def test_callbacks_overhead_quick(tmp_path):
    out, stdout, wall = run_quick("callbacks_overhead.py", tmp_path)
    result = json.loads(out.read_text())
    plain, watched = result["fit_seconds_without"], result["fit_seconds_with"]
    assert len(plain) == len(watched) == result["pairs"] == 1
    assert_timed(plain + watched, wall)
    expected = ratio(watched, plain)
    assert math.isclose(result["overhead_ratio"], expected, rel_tol=1e-12)
    assert result["met"] == (expected <= 1.10)
    assert f"| {expected:.3f} |" in stdout


@pytest.mark.slow
def test_step_time_quick(tmp_path):
    out, stdout, wall = run_quick("step_time.py", tmp_path)
    result = json.loads(out.read_text())
    row = result["rows"][0]
    kinds = ["SimpleRNN", "XavierRNNCell", "FastSimpleRNN"]
    kinds += ["SimpleRNN+XLA", "FastSimpleRNN+XLA"]
    samples = row["samples_s"]
    assert sorted(samples) == sorted(kinds)
    assert all(len(samples[k]) == result["rounds"] == 1 for k in kinds)
    assert_timed([t * result["batches"] for k in kinds for t in samples[k]], wall)
    for kind in kinds:
        median, best = np.median(samples[kind]), np.min(samples[kind])
        assert math.isclose(row["ms_per_step_median"][kind], 1e3 * median)
        assert math.isclose(row["ms_per_step_min"][kind], 1e3 * best)
        assert math.isclose(
            row["speedup_median"][kind], ratio(samples["SimpleRNN"], samples[kind])
        )
        assert math.isclose(
            row["speedup_min"][kind], np.min(samples["SimpleRNN"]) / best
        )
    printed = [f"{row['speedup_median'][k]:.2f}x" for k in kinds[1:]]
    table_row = next(
        line for line in stdout.splitlines() if line.startswith("| 10 | 8 |")
    )
    assert all(figure in table_row for figure in printed), (printed, table_row)


@pytest.mark.slow
def test_export_latency_quick(tmp_path):
    out, _, _ = run_quick("export_latency.py", tmp_path)
    result = json.loads(out.read_text())
    assert set(result["rows"]) == {
        "keras_eager",
        "tf_function",
        "litert_while",
        "litert_unrolled",
        "litert_float16",
    }
    assert result["rows"]["litert_while"]["max_abs_error"] <= 1e-5
    # The LSTM rows are the paths they name: fused op, WHILE loop or unrolled.
    rows = result["lstm"]["rows"]
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


@pytest.mark.slow
def test_fused_compare_quick(tmp_path):
    out, stdout, wall = run_quick("fused_compare.py", tmp_path)
    result = json.loads(out.read_text())
    one, fused = result["one_model_s"], result["six_fused_s"]
    sequential, own = result["six_sequential_s"], result["six_own_model_s"]
    assert len(one) == len(fused) == 1 and len(result["schemes"]) == 6
    assert_timed(one + fused + [sequential, own], wall)
    assert math.isclose(
        result["own_model_vs_fused"], own / np.median(fused), rel_tol=1e-12
    )
    assert math.isclose(result["fused_vs_one"], ratio(fused, one), rel_tol=1e-12)
    assert math.isclose(
        result["sequential_vs_one"], sequential / np.median(one), rel_tol=1e-12
    )
    # Six models trained one after another cannot take less than one of them.
    assert result["sequential_vs_one"] > 1.0
    assert result["met"] == (result["fused_vs_one"] <= 2.0)
    assert f"| {result['fused_vs_one']:.2f}x |" in stdout
    assert f"| {result['own_model_vs_fused']:.2f}x |" in stdout


@pytest.mark.slow
def test_peer_step_time_quick(tmp_path):
    out, stdout, wall = run_quick("peer_step_time.py", tmp_path)
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    peer = row["jax:SimpleRNN"]["samples_ms"]
    steps = result["batches"]
    for cell in row.values():
        if not isinstance(cell, dict):
            continue
        # Each sample is one fit over `batches` steps: all fit in the wall time.
        assert_timed(np.asarray(cell["samples_ms"]) * steps / 1e3, wall)
        assert cell["ms_min"] == min(cell["samples_ms"])
        assert math.isclose(cell["vs_peer_min"], min(peer) / cell["ms_min"])
    assert math.isclose(
        row["floor_ms"], 3 * row["length"] * result["matmul_64_us"] / 1e3
    )
    assert f"| {row['length']} |" in stdout


def test_batched_probe_quick(tmp_path):
    out, stdout, wall = run_quick("batched_probe.py", tmp_path)
    result = json.loads(out.read_text())
    length = result["length"]
    for row in result["rows"]:
        assert_timed(row["seconds"], wall)
        assert row["faults"] >= 0
        m = row["models"]
        if row["what"] in ("peer", "shared", "step"):
            # peer and shared samples are per model-step already; a vmapped
            # step's are per call of m models.
            per = m if row["what"] == "step" else 1
            expected = [min(row["seconds"]), statistics.median(row["seconds"])]
            expected = np.multiply(expected, 1e3 / per)
            assert np.allclose(row["ms_per_model_step"], expected)
            assert f"| {row['what']} | {m} |" in stdout
        else:
            low = min(row["seconds"]) / (m * length)
            assert math.isclose(row["us_per_product"][0], low * 1e6)
            assert math.isclose(row["gflops"], 2 * 64**3 / low / 1e9)


@pytest.mark.slow
def test_sweep_throughput_quick(tmp_path):
    # Three timed processes (peer, keras, stacked); every figure follows from
    # the seconds this script measured, and they fit in the wall time.
    out, stdout, wall = run_quick("sweep_throughput.py", tmp_path)
    result = json.loads(out.read_text())
    rows = result["rows"]
    assert sorted(rows) == ["keras", "peer", "peer_steady", "stacked"]
    assert_timed([s for row in rows.values() for s in row["seconds"]], wall)
    # The steady fit ran inside the peer's timed process and is left out of it.
    for inner, outer in zip(
        rows["peer_steady"]["seconds"], rows["peer"]["seconds"], strict=True
    ):
        assert inner > 0 and outer > 0
    assert_timed(rows["peer_steady"]["seconds"] + rows["peer"]["seconds"], wall)
    assert rows["peer"]["model_steps"] == result["steps"]
    for name, row in rows.items():
        if not name.startswith("peer"):
            assert row["model_steps"] == result["runs"] * result["steps"]
        assert math.isclose(row["rate_max"], row["model_steps"] / min(row["seconds"]))
        best = row["rate_max"] / rows["peer"]["rate_max"]
        assert math.isclose(row["vs_peer_best"], best)
        best = row["rate_max"] / rows["peer_steady"]["rate_max"]
        assert math.isclose(row["vs_steady_best"], best)
        assert f"| {name} |" in stdout


def test_batched_probe_step_is_keras_fit_step():
    # The probe's vmapped stateless step must be the runner's training step:
    # after one step on a batch, each stacked model's weights equal those of
    # the same model after Keras' own train_on_batch (JAX backend, in a child).
    code = """
import numpy as np, keras, jax.numpy as jnp
import batched_probe as probe
from keras_rnninit.compare import training
config, task, built = probe.runner_models(12, 3)
run, state = probe.stacked_step(config, task, built)
xs, ys = zip(*(task.train_data(64, 12, 100 + k) for k in range(3)))
x, y = jnp.asarray(np.stack(xs)), jnp.asarray(np.stack(ys))
trainable, _, _, loss = run(*state, x, y)
for k, model in enumerate(built):
    model.compile(optimizer=training._optimizer(config), loss=task.loss())
    reference = model.train_on_batch(xs[k], ys[k])
    assert abs(float(loss[k]) - reference) < 1e-6 * max(1, abs(reference)), k
    for mine, theirs in zip(trainable, model.trainable_variables, strict=True):
        np.testing.assert_allclose(np.asarray(mine[k]), np.asarray(theirs.value),
                                   rtol=1e-5, atol=1e-6)
print("same")
"""
    done = run_python(
        "-c",
        f"import sys; sys.path.insert(0, {os.path.join(REPO, 'benchmarks')!r})\n"
        + code,
        KERAS_BACKEND="jax",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("same")


@pytest.mark.slow
def test_xla_cache_memory_quick(tmp_path):
    out, stdout, _ = run_quick("xla_cache_memory.py", tmp_path)
    result = json.loads(out.read_text())
    compiled = {v: r["compiled"] for v, r in result["results"].items()}
    # 6 lengths: each compiled once with XLA (within the cap of 32), none without.
    assert compiled == {"capped": 6, "uncapped": 6, "no_xla": 0}
    for variant in compiled:
        assert f"| {variant} |" in stdout


@pytest.mark.slow
def test_compare_throughput_quick(tmp_path):
    out, stdout, wall = run_quick("compare_throughput.py", tmp_path)
    result = json.loads(out.read_text())
    # The budget follows from the peer samples measured in the same run.
    assert result["peer_ms_min"] == min(result["peer_ms_samples"])
    assert math.isclose(
        result["budget_s"],
        result["factor"]
        * result["runs"]
        * result["steps"]
        * result["peer_ms_min"]
        / 1e3,
    )
    assert set(result["backends"]) == {"tensorflow", "jax"}
    walls = []
    for row in result["backends"].values():
        walls.extend(row["samples_s"])
        assert row["wall_s_min"] == min(row["samples_s"])
        assert row["wall_s_median"] == statistics.median(row["samples_s"])
        budget = result["budget_s"]
        assert math.isclose(row["vs_budget_min"], row["wall_s_min"] / budget)
        assert row["met"] == (row["wall_s_min"] <= result["budget_s"])
    # The compare processes ran one after another inside this test's wall time.
    assert_timed(walls, wall)
    assert result["command"].startswith("keras-rnninit compare --task adding")


@pytest.mark.slow
def test_loop_time_quick(tmp_path):
    out, stdout, wall = run_quick("loop_time.py", tmp_path)
    result = json.loads(out.read_text())
    rows = {row["variant"]: row for row in result["rows"]}
    # T=12 leaves 2 steps over for k=5 and k=10: the unrolled loops' leftover
    # steps ran, and every variant matched the TensorFlow kernel (the worker
    # exits non-zero otherwise).
    assert set(rows) == {"tensorflow", "jax"} | {
        f"{backend}-unroll{k}" for backend in ("tensorflow", "jax") for k in (2, 5, 10)
    }
    floor_ms = 3 * 12 * result["matmul_64_us"] / 1e3
    for row in rows.values():
        assert row["length"] == 12 and row["ms_min"] == min(row["samples_ms"])
        assert_timed(np.asarray(row["samples_ms"]) * result["reps"] / 1e3, wall)
        assert math.isclose(row["vs_jax_min"], rows["jax"]["ms_min"] / row["ms_min"])
        assert math.isclose(row["floor_ms"], floor_ms)
        assert math.isclose(row["vs_floor_min"], row["ms_min"] / floor_ms)
        assert f"| 12 | `{row['variant']}` |" in stdout


@pytest.mark.slow
def test_real_data_quick(tmp_path):
    """The real-data sweep: records per run, statistics that follow from
    them, the page spliced between its markers, and a resume that trains
    nothing twice."""
    out = tmp_path / "real_data"
    script = os.path.join(REPO, "benchmarks", "real_data.py")
    done = run_python(script, "--quick", "--out", out)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in (out / "records.jsonl").open()]
    runs = {(r["config"]["learning_rate"], r["scheme"], r["seed"]) for r in records}
    assert runs == {
        (lr, scheme, seed)
        for lr in (1e-3, 3e-3)
        for scheme in ("keras_default", "xavier_rnn")
        for seed in (0, 1)
    }
    jobs = [json.loads(line) for line in (out / "jobs.jsonl").open()]
    assert sorted(j["learning_rate"] for j in jobs) == [1e-3, 3e-3]
    assert all(j["wall_seconds"] > 0 for j in jobs)

    (cell,) = json.loads((out / "summary.json").read_text())["cells"]
    assert (cell["task"], cell["cell"], cell["steps"]) == (
        "japanese_vowels",
        "simple",
        200,
    )
    means = {}
    for rate in cell["rates"]:
        for row in rate["rows"]:
            mine = [
                r
                for r in records
                if (r["config"]["learning_rate"], r["scheme"])
                == (rate["learning_rate"], row["scheme"])
            ]
            finals = [r["final_test"] for r in sorted(mine, key=lambda r: r["seed"])]
            assert row["final_test"] == finals
            assert math.isclose(row["final_test_mean"], statistics.fmean(finals))
            solved = sum(r["steps_to_threshold"] is not None for r in mine)
            assert row["solved"] == solved
            means.setdefault(row["scheme"], {})[rate["learning_rate"]] = (
                statistics.fmean(finals)
            )
    # Each scheme's best rate is the one of its highest mean final accuracy.
    assert cell["best_rate"] == {s: max(m, key=m.get) for s, m in means.items()}
    # `recommend` reads the run's evidence: the most accurate (scheme, rate).
    from keras_rnninit import schemes

    rec = schemes.recommend("japanese_vowels", evidence=str(out / "evidence.json"))
    flat = {(s, lr): m for s, by in means.items() for lr, m in by.items()}
    assert (rec.scheme, rec.learning_rate) == max(flat, key=flat.get)
    assert rec.cell_type == "simple" and len(rec.cell) == len(flat)

    page = (out / "real_data.md").read_text()
    assert page.count("<!-- real_data:begin -->") == 1
    assert "SimpleRNN(8), 200 steps" in page
    for lr in ("0.001", "0.003"):
        assert f"--datasets japanese_vowels --cells simple --lrs {lr}`" in page
    assert (
        "![japanese_vowels simple survival](real_data_japanese_vowels_simple.png)"
        in page
    )
    assert (out / "real_data_japanese_vowels_simple.png").stat().st_size > 0

    # A second run finds every run recorded: nothing trains, and the page
    # regenerates byte for byte.
    again = run_python(script, "--quick", "--out", out)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len((out / "records.jsonl").read_text().splitlines()) == len(records)
    assert len((out / "jobs.jsonl").read_text().splitlines()) == len(jobs)
    assert (out / "real_data.md").read_text() == page


def test_committed_files_stay_small():
    """Records and summaries stay in git, heavy per-run JSON goes compressed
    (benchmarks/archive.py): tracked files total <= 10 MB, none over 2 MB."""

    import pytest

    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    paths = [p for p in listed.stdout.decode().split("\0") if p]
    sizes = {
        p: os.path.getsize(os.path.join(REPO, p))
        for p in paths
        if os.path.isfile(os.path.join(REPO, p))
    }
    assert sum(sizes.values()) <= 10e6, sum(sizes.values())
    assert {p: s for p, s in sizes.items() if s > 2e6} == {}
    assert not [p for p in paths if p.endswith("/report.json")]


def test_a_compressed_report_reads_back_whole():

    sys.path.insert(0, os.path.join(REPO, "benchmarks"))
    try:
        import archive
    finally:
        sys.path.remove(os.path.join(REPO, "benchmarks"))
    folder = os.path.join(REPO, "benchmarks", "results", "adding_T50_10k")
    assert folder in archive.folders()
    report = archive.load(folder)
    # The summary (an older report: no statistics yet) follows from the records.
    for row in report["summary"]:
        mine = sorted(
            (r for r in report["records"] if r["scheme"] == row["scheme"]),
            key=lambda r: r["seed"],
        )
        assert [r["seed"] for r in mine] == row["seeds"]
        assert [r["steps_to_threshold"] for r in mine] == row["steps_to_threshold"]


def test_a_sweep_reads_its_archived_records_then_the_lines_since(tmp_path):
    # archive.py --records folds records.jsonl into records.jsonl.xz (the
    # same bytes); the sweeps read the archive, then lines appended later,
    # the latest record of a run winning. Checked against the bytes written.
    sweep = load_benchmark("length_sweep")
    archive = load_benchmark("archive")

    def record(seed, final):
        return {
            "task": "adding", "length": 8, "scheme": "irnn", "seed": seed,
            "steps": 100, "clipnorm": 1.0, "final_test": final,
        }  # fmt: skip

    path = tmp_path / "records.jsonl"
    first = [record(0, 0.5), record(1, 0.4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in first))
    archive.archive_records(str(tmp_path))
    assert not path.exists()
    with lzma.open(str(path) + ".xz", "rt") as f:
        assert [json.loads(line) for line in f] == first
    later = [record(1, 0.1), record(2, 0.3)]  # seed 1 again, then a new run
    path.write_text("".join(json.dumps(r) + "\n" for r in later))
    loaded = sweep.load(str(path))
    assert sorted((k[4], r["final_test"]) for k, r in loaded.items()) == [
        (0, 0.5),
        (1, 0.1),
        (2, 0.3),
    ]
    archive.archive_records(str(tmp_path))  # a second fold appends
    with lzma.open(str(path) + ".xz", "rt") as f:
        assert [json.loads(line) for line in f] == first + later
    assert sweep.load(str(path)) == loaded


def test_per_seed_table_marks_diverged_and_blown_up_runs():
    # A run that diverged before its first evaluation has no best test value
    # (the sweep's summary once crashed on it); one that solved and then
    # diverged keeps its step; one whose test metric blew up to 1e33 without
    # a non-finite loss says where it ended (a rise that stays below the
    # threshold is not marked).
    sweep = load_benchmark("length_sweep")

    def record(seed, hit, best, final, diverged):
        return {
            "task": "adding", "length": 8, "scheme": "irnn_xavier", "seed": seed,
            "steps": 100, "clipnorm": 1.0, "threshold": 0.01,
            "steps_to_threshold": hit, "best_test": best, "final_test": final,
            "diverged": diverged,
        }  # fmt: skip

    runs = [
        record(0, 300, 0.002, 1e35, True),
        record(1, None, None, None, True),
        record(2, None, 0.178, 0.178, True),
        record(3, None, 0.05, 0.07, False),
        record(4, None, 0.167, 2.7e33, False),
        record(5, 200, 0.001, 0.5, False),
        record(6, 200, 0.00001, 0.005, False),  # 500x its best, still solved
    ]
    (cell,) = sweep.summarize({i: r for i, r in enumerate(runs)})
    assert cell["rows"][0]["diverged"] == [True, True, True] + [False] * 4
    assert (
        "| `irnn_xavier` | 300 (diverged later) | – (diverged) | "
        "– (0.178, diverged) | – (0.050) | – (0.167, ended at 2.7e+33) | "
        "200 (ended at 0.5) | 200 |"
    ) in sweep.per_seed(cell)


def test_seed_lists_are_written_as_ranges():
    sweep = load_benchmark("length_sweep")
    assert seed_ranges([0, 1, 2, 3, 5, 7, 8]) == "0–3, 5, 7–8"
    assert seed_ranges([8, 7, 0]) == "0, 7–8"
    rows = [{"seeds": [0, 1]}, {"seeds": [0, 1, 2, 3]}]
    assert sweep._cell_seeds({"seeds": [0, 1, 2, 3], "rows": rows}) == (
        "0–3 (not every row)"
    )
    assert sweep._cell_seeds({"seeds": [0, 1], "rows": rows[:1]}) == "0–1"


def test_length_sweep_imports_no_keras_before_choosing_its_backend():
    """The sweep trains on the backend it picks (`--backend`, KERAS_BACKEND,
    else the fastest installed: keras_rnninit/utils/backends.py) only if
    importing the script leaves Keras unimported: a Keras imported first
    keeps its own backend ("Keras is already imported")."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import length_sweep; "
        "print(sorted({'keras', 'tensorflow', 'jax'} & set(sys.modules)))"
    )
    done = run_python("-c", probe, os.path.join(REPO, "benchmarks"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_drift_probe_runs_and_measures_the_radius(tmp_path):
    import keras

    from keras_rnninit import UniformDiagonal
    from keras_rnninit.utils.seeding import derive_seed

    out = tmp_path / "drift.json"
    script = os.path.join(REPO, "benchmarks", "drift_probe.py")
    argv = ["--length", "8", "--steps", "20", "--every", "10", "--seeds", "0,1"]
    done = run_python(
        *[script, *argv, "--schemes", "uniform_diag_half", "--out", out],
        timeout=300,
        KERAS_BACKEND=keras.backend.backend(),  # the draws below: same backend
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["summary"]["uniform_diag_half"]["runs"] == 2
    for run in result["runs"]:
        assert len(run["radius"]) == 3  # the start, then every 10 of 20 steps
        # At the start Whh is diagonal: its radius is its largest self-loop,
        # drawn in U[0, 0.5] (the probe's variant), for the scheme's own seed.
        w = UniformDiagonal(0.0, 0.5, seed=derive_seed(run["seed"], 1))((64, 64))
        loops = np.diag(keras.ops.convert_to_numpy(w))
        assert run["radius"][0] == pytest.approx(float(loops.max()), rel=1e-5)
        assert run["radius"][0] < 0.5 and run["diverged_at"] is None
    assert "uniform_diag_half: 0/2 diverged within 20 steps at T=8" in done.stdout


@pytest.mark.slow
def test_length_sweep_quick_lstm_rows(tmp_path):
    out = tmp_path / "sweep"
    script = os.path.join(REPO, "benchmarks", "length_sweep.py")
    # No backend asked for: the LSTM job picks TensorFlow, and says why.
    done = run_python(
        *[script, "--quick", "--cell", "lstm", "--out", out],
        timeout=300,
        KERAS_BACKEND="",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Keras on tensorflow (LSTM and GRU diagnostics need TensorFlow)" in (
        done.stderr
    )
    assert "adding T=8 (lstm): 4 runs to train" in done.stderr
    records = [
        json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()
    ]
    assert {(r["scheme"], r["cell"], r["backend"]) for r in records} == {
        ("chrono_length", "lstm", "tensorflow"),
        ("keras_default", "lstm", "tensorflow"),
    }
    (summary,) = json.loads((out / "summary.json").read_text())["cells"]
    assert [(r["scheme"], r["cell_type"]) for r in summary["rows"]] == [
        ("chrono_length", "lstm"),
        ("keras_default", "lstm"),
    ]
    table = (out / "table.md").read_text()
    assert "| `chrono_length` (LSTM) | `keras_default` (LSTM) |" in table


@pytest.mark.slow
def test_length_sweep_quick(tmp_path):
    out = tmp_path / "sweep"
    script = os.path.join(REPO, "benchmarks", "length_sweep.py")
    page = tmp_path / "long_range.md"
    stale = "# x\n<!-- length_sweep:begin -->\nSTALE\n<!-- length_sweep:end -->\n"
    page.write_text(stale)
    done = run_python(script, "--quick", "--out", out, "--page", page, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [
        json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()
    ]
    (summary,) = json.loads((out / "summary.json").read_text())["cells"]
    for r in summary["rows"]:
        mine = [x for x in records if x["scheme"] == r["scheme"]]
        solved = sum(x["steps_to_threshold"] is not None for x in mine)
        assert (r["runs"], r["solved"]) == (len(mine), solved)
        assert r["interval"] == pytest.approx(wilson(solved, len(mine)), abs=1e-9)
    assert (out / f"length_sweep_adding_T{summary['length']}.png").stat().st_size > 0
    assert "| adding | 8 |" in done.stdout
    spliced = page.read_text()
    assert "STALE" not in spliced and spliced.startswith("# x\n<!-- length_sweep:begin")
    assert "| adding | 8 | `" in spliced or "| adding | 8 | none solved" in spliced
    # ... and every run seed by seed: its step to threshold or its best metric.
    assert "adding T=8, steps to threshold per seed" in spliced
    for r in summary["rows"]:
        for seed, hit, best in zip(
            r["seeds"], r["steps_to_threshold"], r["best_test"], strict=True
        ):
            run = next(
                x for x in records if x["scheme"] == r["scheme"] and x["seed"] == seed
            )
            assert (hit, best) == (run["steps_to_threshold"], run["best_test"])
        outcomes = zip(r["steps_to_threshold"], r["best_test"], strict=True)
        shown = [f"{h:g}" if h is not None else f"– ({b:.3f})" for h, b in outcomes]
        assert f"| `{r['scheme']}` | " + " | ".join(shown) + " |" in spliced
    # The plot is linked relative to the page (here the plots are in out/).
    plot = f"(sweep/length_sweep_adding_T{summary['length']}.png)"
    assert plot in spliced
    # A second run resumes: nothing is trained again, nothing is duplicated;
    # `--readme`, the option's old name, still splices the tables.
    old_name = tmp_path / "README.md"
    old_name.write_text(stale)
    again = run_python(
        script, "--quick", "--out", out, "--readme", old_name, timeout=300
    )
    assert again.returncode == 0 and "0 runs to train" in again.stderr
    assert len((out / "records.jsonl").read_text().splitlines()) == len(records)
    assert old_name.read_text() == spliced


def test_demo_time_result_is_consistent():
    """The committed demo timing (README, docs/index.md): its minima and
    medians are its samples', and the speed-up is before / after."""
    path = os.path.join(REPO, "benchmarks", "results", "demo_time.json")
    with open(path) as file:
        result = json.load(file)
    rows = result["rows"]
    assert list(rows) == ["tensorflow (before)", "picked (after)"]
    for row in rows.values():
        assert row["wall_s_min"] == min(row["samples_s"])
        assert row["wall_s_median"] == statistics.median(row["samples_s"])
    assert rows["tensorflow (before)"]["training_on"].startswith("tensorflow")
    assert rows["picked (after)"]["training_on"].startswith("jax")
    before, after = (row["wall_s_min"] for row in rows.values())
    assert math.isclose(result["speedup_min"], before / after)
    assert not result["quick"]
