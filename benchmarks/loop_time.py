"""The recurrence's two loops alone (forward and hand-written backward), on
TensorFlow against JAX, without Keras' `fit` around them.

    .venv/bin/python benchmarks/loop_time.py           # ~2 minutes
    .venv/bin/python benchmarks/loop_time.py --quick   # for the tests

What one FastSimpleRNN training step spends in its loops (batch 64, 64 units,
tanh, float32), per variant:
- `tensorflow`: the production kernel, `keras_rnninit.layers.recurrence`'s forward and
  backward loops XLA-compiled, as FastSimpleRNN runs them under a default
  `compile()`;
- `tensorflow-unroll<k>`: the same loops doing k steps per while-loop
  iteration (a route to fewer loop iterations; here in the benchmark only);
- `jax`: the production JAX kernel (`keras_rnninit.layers.recurrence.jax`: lax.scan
  with a custom VJP), forward and VJP in one `jax.jit`;
- `jax-unroll<k>`: the same kernel with `lax.scan(..., unroll=k)` in both
  scans (k steps per XLA while-loop iteration).
The floor is the one of `peer_step_time.py`, timed in the same run: 3T
products of 64x64 by 64x64 (numpy), what a step's arithmetic costs at one
small product's speed. Every variant's states and gradients are checked
against the TensorFlow kernel before it is timed. Each backend runs in its
own process, the processes alternate over rounds; figures are ms per
forward + backward, the minimum and median over rounds. Writes
benchmarks/results/loop_time.json (or --out) and prints a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from peer_step_time import matmul_seconds  # noqa: E402  (the same floor)

BATCH, UNITS = 64, 64
UNROLLS = (2, 5, 10)


def data(length):
    import numpy as np

    rng = np.random.default_rng(0)
    p = 0.5 * rng.normal(size=(length, BATCH, UNITS)).astype("float32")
    h0 = np.zeros((BATCH, UNITS), "float32")
    w = (rng.normal(size=(UNITS, UNITS)) / 8).astype("float32")
    u = rng.normal(size=(length, BATCH, UNITS)).astype("float32")
    return p, h0, w, u


def _unrolled(k):
    """Forward and backward loops with k steps per iteration (tanh, no masks);
    the T % k leftover steps run unrolled after (forward) or before
    (backward) the loop."""
    import tensorflow as tf

    def forward(p, h0, w):
        steps = p.shape[0]
        blocks = steps // k

        def body(i, s, out):
            block = []
            for j in range(k):
                s = tf.tanh(p[i * k + j] + tf.matmul(s, w))
                block.append(s)
            return i + 1, s, out.write(i, tf.stack(block))

        out = tf.TensorArray(p.dtype, size=blocks, element_shape=(k, *h0.shape))
        _, s, out = tf.while_loop(lambda i, *_: i < blocks, body, (0, h0, out))
        states = [tf.reshape(out.stack(), (blocks * k, *h0.shape))]
        for t in range(blocks * k, steps):
            s = tf.tanh(p[t] + tf.matmul(s, w))
            states.append(s[None])
        return tf.concat(states, 0)

    def backward(u, states, h0, w):
        slopes = 1 - states * states
        steps = states.shape[0]
        blocks = steps // k
        carry, tail = tf.zeros_like(h0), []
        for t in range(steps - 1, blocks * k - 1, -1):
            dz = (u[t] + carry) * slopes[t]
            carry = tf.matmul(dz, w, transpose_b=True)
            tail.insert(0, dz[None])

        def body(i, carry, out):
            i = i - 1
            block = [None] * k
            for j in reversed(range(k)):
                dz = (u[i * k + j] + carry) * slopes[i * k + j]
                carry = tf.matmul(dz, w, transpose_b=True)
                block[j] = dz
            return i, carry, out.write(i, tf.stack(block))

        out = tf.TensorArray(u.dtype, size=blocks, element_shape=(k, *h0.shape))
        _, d_h0, out = tf.while_loop(lambda i, *_: i > 0, body, (blocks, carry, out))
        dz = tf.concat([tf.reshape(out.stack(), (blocks * k, *h0.shape)), *tail], 0)
        previous = tf.concat([h0[None], states[:-1]], 0)
        d_w = tf.matmul(
            tf.reshape(previous, (-1, UNITS)),
            tf.reshape(dz, (-1, UNITS)),
            transpose_a=True,
        )
        return dz, d_h0, d_w

    return forward, backward


def _tensorflow_variants():
    import tensorflow as tf

    from keras_rnninit.layers.recurrence import tensorflow as recurrence

    forward, backward = recurrence._loops(True)  # what FastSimpleRNN runs

    def production(p, h0, w, u):
        states = forward(p, h0, w, None, None, "tanh")
        return states, backward(u, states, h0, w, None, None, "tanh")

    variants = {"tensorflow": production}
    for k in UNROLLS:
        f, b = (tf.function(g, jit_compile=True) for g in _unrolled(k))

        def run(p, h0, w, u, f=f, b=b):
            states = f(p, h0, w)
            return states, b(u, states, h0, w)

        variants[f"tensorflow-unroll{k}"] = run
    return variants


def _jax_variants():
    import jax

    from keras_rnninit.layers.recurrence import jax as recurrence_jax

    def variant(unroll):
        kernel = recurrence_jax._kernel("tanh", False, False, unroll)

        @jax.jit
        def run(p, h0, w, u):
            states, vjp = jax.vjp(kernel, p, h0, w)
            return states, vjp(u)

        return run

    variants = {"jax": variant(1)}
    variants.update((f"jax-unroll{k}", variant(k)) for k in UNROLLS)
    return variants


def worker(backend, lengths, reps, scratch):
    """Child: one timing per (length, variant) as JSON on stdout; the
    TensorFlow kernel's results are the reference every variant must match."""
    os.environ["KERAS_BACKEND"] = backend
    import numpy as np

    if backend == "tensorflow":
        import tensorflow as tf

        variants, tensor = _tensorflow_variants(), tf.constant
    else:
        import jax.numpy as jnp

        variants, tensor = _jax_variants(), jnp.asarray
    timings = {}
    for length in lengths:
        arrays = [tensor(a) for a in data(length)]  # on the device, as in `fit`
        expected = np.load(_reference_path(scratch, length))
        for name, run in variants.items():
            states, grads = run(*arrays)
            got = [np.asarray(states), *(np.asarray(g) for g in grads)]
            for key, value in zip(("states", "dp", "dh0", "dw"), got, strict=True):
                np.testing.assert_allclose(
                    value, expected[key], rtol=1e-4, atol=1e-4, err_msg=f"{name} {key}"
                )
            start = time.perf_counter()
            for _ in range(reps):
                states, grads = run(*arrays)
            np.asarray(grads[-1])  # wait for the last one
            timings[f"{length} {name}"] = (time.perf_counter() - start) / reps * 1e3
    print(json.dumps(timings))


def _reference_path(scratch, length):
    return os.path.join(scratch, f"reference_T{length}.npz")


def reference(lengths, scratch):
    """The TensorFlow kernel's states and gradients, written for the workers
    (autodiff-free: `recurrence`'s plain loops)."""
    import numpy as np

    from keras_rnninit.layers.recurrence import tensorflow as recurrence

    for length in lengths:
        p, h0, w, u = data(length)
        states = recurrence._forward(p, h0, w, None, None, "tanh")
        dp, dh0, dw = recurrence._backward(u, states, h0, w, None, None, "tanh")
        np.savez(_reference_path(scratch, length), states=states, dp=dp, dh0=dh0, dw=dw)


def main(argv=None):
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="50,150")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "loop_time.json")
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.lengths, args.rounds, args.reps = "12", 1, 3
    lengths = [int(v) for v in args.lengths.split(",")]
    if args.worker:
        return worker(args.worker, lengths, args.reps, args.scratch)
    os.environ["KERAS_BACKEND"] = "tensorflow"  # the reference is the TF kernel

    samples, matmul = {}, [matmul_seconds()]
    with tempfile.TemporaryDirectory(prefix="loop_time-") as scratch:
        reference(lengths, scratch)
        for r in range(args.rounds):
            backends = ("tensorflow", "jax") if r % 2 == 0 else ("jax", "tensorflow")
            for backend in backends:
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", backend, "--scratch",
                     scratch, "--lengths", args.lengths, "--reps", str(args.reps)],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    sys.exit(f"the {backend} worker failed:\n{done.stderr[-2000:]}")
                for key, ms in json.loads(done.stdout.splitlines()[-1]).items():
                    samples.setdefault(key, []).append(ms)
            matmul.append(matmul_seconds())
    matmul_us = 1e6 * min(matmul)
    rows = []
    for length in lengths:
        jax_min = min(samples[f"{length} jax"])
        floor_ms = 3 * length * matmul_us / 1e3
        for key, values in samples.items():
            if int(key.split()[0]) == length:
                rows.append(
                    {
                        "length": length,
                        "variant": key.split()[1],
                        "ms_min": min(values),
                        "ms_median": statistics.median(values),
                        "vs_jax_min": jax_min / min(values),
                        "floor_ms": floor_ms,
                        "vs_floor_min": min(values) / floor_ms,
                        "samples_ms": values,
                    }
                )
    result = {
        "benchmark": "loop_time",
        "batch_size": BATCH,
        "units": UNITS,
        "rounds": args.rounds,
        "reps": args.reps,
        "matmul_64_us": matmul_us,
        "rows": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = args.out + ".partial"
    with open(partial, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(partial, args.out)
    print(f"64x64 matmul: {matmul_us:.1f} us")
    print("| T | variant | ms min | ms median | JAX kernel / variant | / floor |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['length']} | `{row['variant']}` | {row['ms_min']:.2f} | "
            f"{row['ms_median']:.2f} | {row['vs_jax_min']:.2f} | "
            f"{row['vs_floor_min']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
