"""Drift probe: how far the first Adam steps move Whh's spectral radius.

    .venv/bin/python benchmarks/drift_probe.py --length 400 --steps 300 \
        --schemes uniform_diag,uniform_diag_half --seeds 0,1,2,3,4,5,6,7,8,9

Why a relu SimpleRNN diverges early at long lengths, and which start avoids
it. Each (scheme, seed) trains a SimpleRNN(64) + Dense on the adding problem
with the length sweep's optimizer (Adam 1e-3, clipnorm 1, batch 64) for
`--steps` steps, and records every `--every` steps the spectral radius of the
recurrent kernel (the largest |eigenvalue| of Whh); a run whose loss turns
non-finite stops there. A relu state is >= 0, so each row of Whh's gradient
has one sign across its columns, and Adam's first steps (each entry moves by
about the learning rate) add about lr * s 1ᵀ to Whh: a rank-one push whose
eigenvalue can reach 64 lr = 0.064 per step. Over T steps a radius ρ > 1
multiplies the state by up to ρ^T: 1.1^400 ≈ 4e16.

`uniform_diag_half` (registered after this probe) is `uniform_diag` with
the self-loops drawn in U[0, 0.5] (`UniformDiagonal(0, 0.5)`): headroom for
the push, at the cost of starting with short memories. Training data are the
adding problem's own seeded batches (`adding_problem(64, T, seed=...)`), not
the comparison runner's stream, so a seed here is not the sweep's seed.

Prints one line per run and writes `--out` (JSON: per run, the step the loss
turned non-finite or None, the radius after each `--every` steps, the final
training loss).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from keras_rnninit.utils import backends  # noqa: E402

COMMAND = "python benchmarks/drift_probe.py"


def _ints(text):
    return [int(v) for v in text.split(",") if v]


def scheme_of(name):
    """A registered SimpleRNN scheme."""
    from keras_rnninit import schemes

    return schemes.get(name)


def probe(name, seed, length, steps, every):
    """One run: its radii, the step of a non-finite loss (or None), its last loss."""
    import keras
    import numpy as np

    from keras_rnninit.tasks import adding_problem

    keras.utils.set_random_seed(seed)
    model = scheme_of(name).build_model(input_dim=2, units=64, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")

    def radius():
        whh = model.get_layer("rnn").get_weights()[1]
        if not np.isfinite(whh).all():
            return None
        return float(np.abs(np.linalg.eigvals(whh)).max())

    radii, diverged, loss = [radius()], None, None
    for step in range(1, steps + 1):
        x, y = adding_problem(64, length, seed=seed * 1_000_003 + step)
        loss = float(model.train_on_batch(x, y))
        if not np.isfinite(loss):
            diverged = step
            break
        if step % every == 0:
            radii.append(radius())
    return {
        "scheme": name,
        "seed": seed,
        "diverged_at": diverged,
        "radius": radii,
        "max_radius": max(r for r in radii if r is not None),
        "last_loss": loss if diverged is None else None,
    }


def run(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=400)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--schemes", default="uniform_diag,uniform_diag_half")
    parser.add_argument("--seeds", type=_ints, default=list(range(10)))
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results", "drift_probe.json")
    )
    parser.add_argument("--backend", choices=["jax", "tensorflow"])
    args = parser.parse_args(argv)
    choice = backends.choose(args.backend)
    backends.use(choice)
    runs, start = [], time.perf_counter()
    for name in args.schemes.split(","):
        for seed in args.seeds:
            r = probe(name, seed, args.length, args.steps, args.every)
            runs.append(r)
            where = (
                f"diverged at step {r['diverged_at']}"
                if r["diverged_at"]
                else f"finite, last loss {r['last_loss']:.3f}"
            )
            print(
                f"{name} seed {seed}: radius {r['radius'][0]:.3f} -> max "
                f"{r['max_radius']:.3f}; {where}",
                flush=True,
            )
    summary = {}
    for name in args.schemes.split(","):
        mine = [r for r in runs if r["scheme"] == name]
        summary[name] = {
            "runs": len(mine),
            "diverged": sum(r["diverged_at"] is not None for r in mine),
            "start_radius": [round(r["radius"][0], 4) for r in mine],
            "max_radius": [round(r["max_radius"], 4) for r in mine],
        }
        print(
            f"{name}: {summary[name]['diverged']}/{len(mine)} diverged within "
            f"{args.steps} steps at T={args.length}"
        )
    wall = time.perf_counter() - start
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "command": COMMAND,
                "argv": sys.argv[1:] if argv is None else list(argv),
                "length": args.length,
                "steps": args.steps,
                "backend": choice.backend,
                "wall_seconds": round(wall, 1),
                "summary": summary,
                "runs": runs,
            },
            f,
            indent=1,
        )
        f.write("\n")
    print(f"{wall:.0f} s; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
