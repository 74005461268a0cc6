"""Orthogonal, identity (IRNN) and XavierRNN on the copy task.

    python examples/copy_task.py           # T=20, 3000 steps per scheme
    python examples/copy_task.py --quick

Recall 10 symbols after T blanks; a model that remembers nothing scores
10 ln 8 / (T + 20) nats per step. Writes the report and plots to
<out>/copy_task/ and prints its table.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import shutil

from _common import parse_args  # noqa: E402

from keras_rnninit.cli.commands import print_table  # noqa: E402
from keras_rnninit.compare import compare, write_report  # noqa: E402


def main():
    args = parse_args(__doc__)
    length, steps, units = (5, 100, 8) if args.quick else (20, 3000, 64)
    out = os.path.join(args.out, "copy_task")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    records = compare(
        ["orthogonal", "irnn", "xavier_rnn"],
        seeds=[0],
        task="copy",
        length=length,
        units=units,
        steps=steps,
        test_size=256,
    )
    write_report(records, out, command="python examples/copy_task.py")
    print_table(os.path.join(out, "report.md"))
    print(
        f"memoryless baseline: {records[0].baseline:.4f} nats/step; plots: {out}/*.png"
    )


if __name__ == "__main__":
    main()
