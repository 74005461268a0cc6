"""`compare --executor ray` on a real 2-node Ray cluster on this machine
(`ray.cluster_utils.Cluster`, 1 CPU per node, every address on loopback):
the same records and models as the local executor, a node removed mid-run,
and resume. The CLI runs in subprocesses, as a user runs it.

Each test gets a fresh cluster: a reused one (after a node removal and an
interrupted job, with another Ray instance running on the machine) once left
a resumed job waiting past its timeout. The one-model-per-run local reference
is computed once for the module."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import keras
import numpy as np
import pytest

import keras_rnninit  # noqa: F401  (registers the layers the saved models use)
from tests.helpers import REPO, python_env, run_python, tiny_compare_argv

# Ray reads this when it is imported: nodes, GCS and workers on 127.0.0.1.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

SCHEMES, SEEDS = "xavier_rnn,uniform01", "0-1"
RUNS = sorted(f"{s}-seed{n}" for s in SCHEMES.split(",") for n in (0, 1))
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# Under pytest-xdist (`make test`) these tests share one worker, so two Ray
# clusters never run at once on the machine.
pytestmark = pytest.mark.xdist_group("ray")


@contextlib.contextmanager
def two_nodes():
    """Two nodes, one CPU each; shut down at the end, whatever happens. The
    nodes' workers get this process's environment (`KERAS_BACKEND`)."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.worker = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes(timeout=60)
        assert cluster.address.startswith("127.0.0.1:"), cluster.address
        yield cluster
    finally:
        cluster.shutdown()


@pytest.fixture
def cluster():
    with two_nodes() as cluster:
        yield cluster


@pytest.fixture
def jax_cluster(monkeypatch):
    """`cluster` with Keras on JAX in its workers and in the CLI runs."""
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with two_nodes() as cluster:
        yield cluster


def driver_logs(cluster):
    """{name: path} of the Ray core logs of the drivers that used `cluster`."""
    logs = os.path.join(cluster.head_node.get_session_dir_path(), "logs")
    return {
        name: os.path.join(logs, name)
        for name in os.listdir(logs)
        if name.startswith("python-core-driver-")
    }


def argv(out, steps, *extra):
    return tiny_compare_argv(out, SCHEMES, SEEDS, steps, *extra)


def reference(out, steps, *extra):
    done = run_python(*argv(out, steps, *extra), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    """The local executor's runs, one model per run (--sequential), 200 steps."""
    out = tmp_path_factory.mktemp("local") / "sequential"
    return reference(out, 200, "--sequential")


def start(out, steps, *extra):
    """A compare job in the background; its stderr collects in `.err` as it
    comes (the progress line ends in \\r, not in a newline)."""
    process = subprocess.Popen(
        [sys.executable, *argv(out, steps, *extra)],
        env=python_env(**LOOPBACK),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    process.err = []

    def read():
        while chunk := os.read(process.stderr.fileno(), 4096):
            process.err.append(chunk.decode(errors="replace"))

    process.reader = threading.Thread(target=read, daemon=True)
    process.reader.start()
    return process


def wait_for(condition, process, what, timeout=240):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"exited before {what}: {''.join(process.err)}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def finish(process, timeout=300):
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    process.reader.join(timeout=60)
    return "".join(process.err)


def assert_same_runs(ours, theirs):
    """Every record (but its wall time) and every model weight identical."""
    assert sorted(os.listdir(ours / "runs")) == [f"{r}.json" for r in RUNS]
    for run in RUNS:
        mine = json.loads((ours / "runs" / f"{run}.json").read_text())
        expected = json.loads((theirs / "runs" / f"{run}.json").read_text())
        mine.pop("wall_seconds"), expected.pop("wall_seconds")
        assert mine == expected, run
        a = keras.saving.load_model(ours / mine["model_path"]).get_weights()
        b = keras.saving.load_model(theirs / expected["model_path"]).get_weights()
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
    report = json.loads((ours / "report.json").read_text())
    assert len(report["records"]) == len(RUNS)  # nothing duplicated
    assert (
        report["statistics"]
        == json.loads((theirs / "report.json").read_text())["statistics"]
    )


def remove_a_node_mid_run(cluster, tmp_path, steps, *extra):
    """Two units (seeds) on the cluster, spread over its two nodes as soon as
    submitted; the worker node removed before either finishes. Checks that
    every run finished, once, with the records and models of the same
    command on the local executor; returns the folder of the Ray run."""
    local = reference(tmp_path / "local", steps, *extra)
    out = tmp_path / "ray"
    runs = tmp_path / "ray.partial" / "runs"
    ray_args = ("--executor", "ray", "--ray-address", cluster.address)
    process = start(out, steps, *extra, *ray_args)
    try:
        wait_for(
            lambda: "4 in flight" in "".join(process.err),
            process,
            "the tasks to be submitted",
        )
        time.sleep(2.0)  # both tasks are on their nodes, importing Keras at least
        assert not any(runs.iterdir()), "a run finished before the node was removed"
        cluster.remove_node(cluster.worker)
        err = finish(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-3000:]
    assert "runs 4/4 done, 0 in flight" in err
    assert not re.search(r"\b(INFO|WARNING)\b", err), err[-3000:]
    # The driver's own Ray log: the task lost with its node was run again.
    driver = "".join(
        open(path, errors="replace").read() for path in driver_logs(cluster).values()
    )
    assert "Attempting to resubmit task" in driver
    assert_same_runs(out, local)
    return out


@pytest.mark.slow
def test_node_removed_mid_run_loses_and_duplicates_nothing(cluster, tmp_path):
    # Fused runs (one task per seed), long enough to outlive the node.
    remove_a_node_mid_run(cluster, tmp_path, 600)


@pytest.mark.slow
def test_stacked_blocks_on_the_cluster_lose_nothing_with_a_node(jax_cluster, tmp_path):
    """`--engine stacked --executor ray`: each seed's runs are one block, one
    task through one compiled step; the records and models of the local
    stacked engine, on JAX, with a node removed while both blocks train."""
    stacked = ("--engine", "stacked", "--backend", "jax")
    out = remove_a_node_mid_run(jax_cluster, tmp_path, 3000, *stacked)
    runs = (out / "runs").glob("*.json")
    backends = {json.loads(p.read_text())["versions"]["backend"] for p in runs}
    assert backends == {"jax"}


@pytest.mark.slow
def test_interrupted_ray_sweep_resumes_to_the_local_executors_results(
    cluster, sequential, tmp_path
):
    """A Ray sweep, stopped by Ctrl-C after its first record and resumed on
    the cluster, ends with every record and model of the local executor's
    one-model-per-run sweep, and says nothing of Ray on stderr. (An
    uninterrupted Ray sweep is the node-removal test's and the length
    sweep's; one cluster start serves both halves here.)"""
    out = tmp_path / "ray"
    ray_args = ("--sequential", "--executor", "ray", "--ray-address", cluster.address)
    runs = tmp_path / "ray.partial" / "runs"
    process = start(out, 200, *ray_args)
    try:
        wait_for(
            lambda: runs.is_dir() and any(runs.glob("*.json")),
            process,
            "the first record",
        )
        process.send_signal(signal.SIGINT)  # Ctrl-C
        err = finish(process, timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    # On failure, the tail of each driver's Ray core log too: Ray's C++ side
    # writes to fd 2, which the CLI points at /dev/null.
    assert process.returncode == 130, err[-2000:] + "".join(
        f"\n--- {name}:\n" + open(path, errors="replace").read()[-3000:]
        for name, path in sorted(driver_logs(cluster).items())
    )
    assert "finished run(s) kept" in err and "Traceback" not in err
    kept = {p.name: p.read_text() for p in runs.glob("*.json")}
    assert 1 <= len(kept) < len(RUNS)
    resumed = run_python(
        *argv(out, 200, "--resume", *ray_args), timeout=300, **LOOPBACK
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"({len(kept)} finished run(s) reused)" in resumed.stderr
    assert "runs 4/4 done, 0 in flight" in resumed.stderr
    # Ray's own INFO/WARNING lines ("Connecting to existing Ray cluster")
    # stay off the command line's stderr.
    for stderr in (err, resumed.stderr):
        assert not re.search(r"\b(INFO|WARNING)\b", stderr), stderr[-3000:]
    for name, text in kept.items():
        assert (out / "runs" / name).read_text() == text
    assert_same_runs(out, sequential)


@pytest.mark.slow
def test_length_sweep_on_the_cluster_gives_the_local_results(cluster, tmp_path):
    """`benchmarks/length_sweep.py --executor ray`: each seed a Ray task, the
    records (but their wall times) those of the local executor."""
    script = os.path.join(REPO, "benchmarks", "length_sweep.py")
    drivers = set(driver_logs(cluster))
    outputs = {}
    for executor in ("local", "ray"):
        out = tmp_path / executor
        extra = ("--ray-address", cluster.address) if executor == "ray" else ()
        done = run_python(
            script, "--quick", "--out", out, "--executor", executor, *extra,
            timeout=300, **LOOPBACK,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        lines = (out / "records.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        for r in records:
            r.pop("wall_seconds")
        outputs[executor] = sorted(records, key=lambda r: (r["scheme"], r["seed"]))
    assert len(outputs["ray"]) == 4  # 2 schemes x 2 seeds
    assert outputs["ray"] == outputs["local"]
    # The ray run was this cluster's one driver (the local run never connects).
    assert len(set(driver_logs(cluster)) - drivers) == 1


@pytest.mark.slow
def test_your_own_model_trains_on_the_cluster_as_it_does_locally(cluster, tmp_path):
    """compare(model=..., data=..., executor="ray") in this process: each run
    a Ray task on the loopback cluster, the model and arrays pickled to the
    workers; the records and saved models are the local executor's."""
    from keras_rnninit.compare import compare

    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 6, 3)).astype("float32")
    y = (x[:, :, 0].sum(1) > 0).astype("int32")

    def build():
        model = keras.Sequential(
            [
                keras.Input((6, 3)),
                keras.layers.SimpleRNN(8, name="rnn"),
                keras.layers.Dense(2, "softmax"),
            ]
        )
        model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
        return model

    settings = dict(
        seeds=[0, 1],
        data=(x, y),
        validation_data=(x[:20], y[:20]),
        steps=5,
        eval_every=2,
        progress=False,
    )
    local = compare(["xavier_rnn", "keras_default"], model=build(), **settings)
    remote = compare(
        ["xavier_rnn", "keras_default"],
        model=build(),
        executor="ray",
        ray_address=cluster.address,
        save_dir=str(tmp_path),
        **settings,
    )
    for mine, theirs in zip(remote, local, strict=True):
        assert (mine["scheme"], mine["seed"]) == (theirs["scheme"], theirs["seed"])
        assert mine["curve"] == theirs["curve"]
        assert mine["layer_diagnostics"] == theirs["layer_diagnostics"]
        loaded = keras.saving.load_model(mine["model_path"])
        value = loaded.evaluate(x[:20], y[:20], verbose=0)
        assert value == pytest.approx(mine["final_test"], rel=1e-5)


def test_a_worker_on_another_backend_refuses_in_one_line():
    """What a Ray task does first: a worker whose Keras runs another backend
    than the driver's trains nothing."""
    from keras_rnninit.compare.executors import _remote_unit

    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    with pytest.raises(
        ValueError,
        match=rf"^`KERAS_BACKEND` of the Ray workers must "
        rf"be {other}.*Received: {keras.backend.backend()}$",
    ):
        _remote_unit([], 0, None, True, other)
