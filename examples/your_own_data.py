"""Your own model and data: which initialization trains it best?

    python examples/your_own_data.py           # 3 schemes x 3 seeds, 600 steps
    python examples/your_own_data.py --quick   # seconds, used by the smoke test

Any compiled Keras model with a recurrent layer and any (x, y) arrays: each
scheme and seed trains `schemes.reinitialize(model, scheme, seed)` on the same
batches; `write_report` writes `<out>/your_own_data/report.md` and plots.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from _common import parse_args  # noqa: E402

from keras_rnninit.compare import compare, write_report  # noqa: E402
from keras_rnninit.tasks import adding_problem  # noqa: E402

args = parse_args(__doc__)
steps, seeds = (20, [0]) if args.quick else (600, [0, 1, 2])
x, y = adding_problem(2000, 40, seed=0)  # your arrays here
x_val, y_val = adding_problem(500, 40, seed=1)

model = keras.Sequential(  # your model here: compiled, with a recurrent layer
    [keras.Input((None, 2)), keras.layers.SimpleRNN(32), keras.layers.Dense(1)]
)
model.compile(keras.optimizers.Adam(1e-3), "mse", metrics=["mae"])

records = compare(
    ["xavier_rnn", "orthogonal", "keras_default"],
    seeds=seeds,
    model=model,
    data=(x, y),
    validation_data=(x_val, y_val),
    steps=steps,
    eval_every=max(steps // 6, 1),
    monitor="val_loss",
    target=0.05,
)
out = os.path.join(args.out, "your_own_data")
os.makedirs(out, exist_ok=True)
write_report(records, out)
for r in records:
    print(f"{r.scheme:>14} seed {r.seed}: best val_loss {r.best_test:.4f}")
print(f"report: {os.path.join(out, 'report.md')}")
