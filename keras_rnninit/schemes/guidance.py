"""Which scheme for which length: `recommend`, from the length sweep's summary.

Reads `evidence/length_sweep.json` (package data, written by
`benchmarks/length_sweep.py`) with the standard library alone, so the
`keras-rnninit recommend` command imports neither Keras nor TensorFlow.
`keras_rnninit.schemes` re-exports `recommend`, `Recommendation` and
`EVIDENCE`; that is the public place to reach them.
"""

import dataclasses
import json
import math
import numbers
import os

__all__ = [
    "EVIDENCE",
    "REAL_DATA_EVIDENCE",
    "Recommendation",
    "ranked",
    "recommend",
    "seed_ranges",
]

# The recurrent cells a row may be measured on, fewest parameters first.
CELL_TYPES = ("simple", "gru", "lstm")

# The committed evidence, package data: written by benchmarks/length_sweep.py
# (synthetic tasks) and benchmarks/real_data.py (the real datasets).
EVIDENCE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "evidence", "length_sweep.json"
)
REAL_DATA_EVIDENCE = os.path.join(os.path.dirname(EVIDENCE), "real_data.json")


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """`recommend`'s answer and the measurements it rests on.

    `scheme` is None when no scheme solved a single run at `measured_length`.
    `solved` of `runs` seeds (`seeds`) reached the task's threshold within
    `steps` training steps (clipnorm `clipnorm`); `interval` is the Wilson
    95% interval of that fraction; `median_steps` the median step of the
    solved runs; `threshold` the test metric that counts as solved. `cell`
    has every scheme's row of the measured cell (rows may rest on different
    numbers of seeds), best first (`ranked`). For a real dataset
    (`metric` "accuracy": solved means a test accuracy above `threshold`)
    `learning_rate` is the rate of the grid the answer was measured at and
    `final_test_mean` its mean final test accuracy. `cell_type` is the recurrent
    cell the recommended scheme was measured on, `"simple"` (SimpleRNN),
    `"lstm"` or `"gru"` (None when nothing solved): `command` runs it
    under the sweep's protocol, `keras-rnninit compare --task TASK --length
    T --clipnorm 1 --steps STEPS --schemes SCHEME [--cell CELL_TYPE]`.
    """

    task: str
    length: int
    measured_length: int
    scheme: str | None
    solved: int
    runs: int
    interval: tuple
    median_steps: float | None
    steps: int
    clipnorm: float | None
    seeds: tuple
    cell: tuple
    threshold: float | None = None
    cell_type: str | None = None
    learning_rate: float | None = None
    final_test_mean: float | None = None
    metric: str | None = None

    def __str__(self):
        low, high = self.interval
        where = f"{self.task} T={self.measured_length}"
        if self.scheme is None:
            return (
                f"no scheme solved {where} in any of {self.runs} seeds "
                f"within {self.steps} steps"
            )
        cell_type = self.cell_type or "simple"
        on = "" if cell_type == "simple" else f" ({cell_type.upper()})"
        if self.learning_rate is not None:
            on += f", Adam {self.learning_rate:g}"
        final = (
            ""
            if self.final_test_mean is None
            else f"; mean final test accuracy {self.final_test_mean:.3f}"
        )
        return (
            f"{self.scheme}{on}: solved {self.solved}/{self.runs} seeds of {where} "
            f"within {self.steps} steps (Wilson 95% [{low:.2f}, {high:.2f}]){final}"
        )

    @property
    def command(self) -> str | None:
        """The comparison that runs the recommendation under the sweep's
        protocol (every other flag at its default), or None."""
        if self.scheme is None:
            return None
        clip = "" if self.clipnorm is None else f" --clipnorm {self.clipnorm:g}"
        cell_type = self.cell_type or "simple"
        cell = "" if cell_type == "simple" else f" --cell {cell_type}"
        lr = "" if self.learning_rate is None else f" --lr {self.learning_rate:g}"
        return (
            f"keras-rnninit compare --task {self.task} --length {self.length}"
            f"{clip} --steps {self.steps}{lr} --schemes {self.scheme}{cell}"
        )


def ranked(rows):
    """One cell's rows, best first, by a rule that uses only measured numbers.

    The largest solved fraction first (rows of one cell may rest on
    different numbers of seeds), then the smaller median step to threshold
    (a row that solved nothing has none and comes after those that did).
    A tie on both goes to the recurrent cell with fewer parameters,
    SimpleRNN, then GRU (3 gates), then LSTM (4), whose steps also cost
    less; then to the name. Rows of a real dataset (they carry a learning
    rate and a mean final test accuracy, `benchmarks/real_data.py`) rank by
    that mean accuracy first, the measure their page uses for the best rate;
    the rule above breaks its ties, then the smaller learning rate.
    """

    def key(row):
        median = row["median_steps"]
        final = row.get("final_test_mean")
        return (
            -math.inf if final is None else -final,
            -row["solved"] / row["runs"],
            math.inf if median is None else median,
            CELL_TYPES.index(row.get("cell_type", "simple")),
            row["scheme"],
            row.get("learning_rate") or 0.0,
        )

    return sorted(rows, key=key)


def recommend(
    task: str, length: int | None = None, evidence: str | None = None
) -> Recommendation:
    """The scheme our measurements support for `task` at `length`.

    Reads the summaries shipped in the package: the length sweep's
    (`EVIDENCE`, written by `benchmarks/length_sweep.py`: adding, copy) and
    the real-data sweep's (`REAL_DATA_EVIDENCE`, `benchmarks/real_data.py`:
    digits, digits_permuted, japanese_vowels, osuleaf); `evidence` replaces
    both by one summary of either kind. For a synthetic task a length that
    was not measured uses the nearest measured length not shorter than it
    (a scheme that works for longer dependencies is the safe pick); a length
    beyond the longest measured one is refused, as is a task never measured.
    A real dataset has one length, its sequences' T (`length` may be left
    out), and its answer names the learning rate of the grid it was measured
    at (`ranked` says how rows compare). From the command line:
    `keras-rnninit recommend --task adding --length 150`.

    Example:

        >>> from keras_rnninit.schemes.guidance import recommend
        >>> print(recommend("adding", 150))  # doctest: +ELLIPSIS
        uniform_diag: solved 20/20 seeds of adding T=150 within 10000 steps (Wilson ...

    Args:
        task: A task name that the sweeps measured (e.g. `"adding"`).
        length: Positive int, the dependency length T; None for a real
            dataset's own T.
        evidence: Path of a summary JSON (default: the two shipped).

    Returns:
        A `Recommendation`.
    """
    if evidence is None:
        cells = _load_cells(EVIDENCE) + _load_cells(REAL_DATA_EVIDENCE)
    else:
        cells = _load_cells(evidence)
    tasks = sorted({c["task"] for c in cells})
    if not isinstance(task, str) or task not in tasks:
        raise ValueError(
            f"`task` must be one of {', '.join(tasks)} (the measured tasks). "
            f"Received: task={task!r}"
        )
    dataset = any(c["task"] == task and c.get("metric") for c in cells)
    if length is None:
        if not dataset:
            raise ValueError(
                f"`length` must be given for the {task} task (a positive int). "
                "Received: length=None"
            )
        length = next(c["length"] for c in cells if c["task"] == task)
    if isinstance(length, bool) or not isinstance(length, numbers.Integral):
        raise TypeError(
            f"`length` must be a positive int. Received: length={length!r} "
            f"of type {type(length).__name__}"
        )
    lengths = sorted(c["length"] for c in cells if c["task"] == task)
    if dataset and length != lengths[0]:
        raise ValueError(
            f"`length` must be {lengths[0]} for the {task} task (its "
            f"sequences' T). Received: length={length}"
        )
    if length < 1 or length > lengths[-1]:
        raise ValueError(
            f"`length` must be between 1 and {lengths[-1]}, the longest measured "
            f"{task} length. Received: length={length}"
        )
    measured = min(m for m in lengths if m >= length)
    cell = next(c for c in cells if c["task"] == task and c["length"] == measured)
    rows = ranked(cell["rows"])  # never empty (_load_cells checks)
    # A real dataset's best row is its most accurate, solved or not.
    top = rows[0]
    best = top if top["solved"] > 0 or top.get("final_test_mean") else None
    shown = best or max(rows, key=lambda r: r["runs"])
    return Recommendation(
        task=task,
        length=int(length),
        measured_length=measured,
        scheme=best["scheme"] if best else None,
        solved=shown["solved"],
        runs=shown["runs"],
        interval=tuple(shown["interval"]),
        median_steps=shown["median_steps"],
        steps=cell["steps"],
        clipnorm=cell["clipnorm"],
        # The seeds of the row shown (rows of one cell may differ in seeds).
        seeds=tuple(shown.get("seeds", cell["seeds"])),
        # Each row with its seeds (a summary may leave out the cell's own).
        cell=tuple({"seeds": cell["seeds"], **row} for row in rows),
        threshold=cell.get("threshold"),
        cell_type=best.get("cell_type", "simple") if best else None,
        learning_rate=shown.get("learning_rate"),
        final_test_mean=shown.get("final_test_mean"),
        metric=cell.get("metric"),
    )


# What `recommend` reads of a summary: every cell's and every row's fields.
_CELL_FIELDS = ("task", "length", "steps", "clipnorm", "seeds", "rows")
_ROW_FIELDS = ("scheme", "solved", "runs", "interval", "median_steps")


def _load_cells(path):
    """The cells of the summary at `path`, or one ValueError line saying why not."""
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
        reason = _shape_error(summary)
    except (OSError, ValueError) as error:
        reason = (
            "no such file"
            if isinstance(error, FileNotFoundError)
            else f"{type(error).__name__}: {error}"
        )
    if reason:
        raise ValueError(
            "`evidence` must be a summary written by benchmarks/length_sweep.py "
            "or benchmarks/real_data.py. "
            f"Received: evidence={path!r} ({reason})"
        )
    return summary["cells"]


def _shape_error(summary):
    """None if `summary` has every field `recommend` reads, else what is amiss."""
    cells = summary.get("cells") if isinstance(summary, dict) else None
    if not isinstance(cells, list) or not cells:
        return "no list of cells"
    for cell in cells:
        if not isinstance(cell, dict) or not all(k in cell for k in _CELL_FIELDS):
            return f"a cell without one of {', '.join(_CELL_FIELDS)}"
        rows = cell["rows"]
        if not isinstance(rows, list) or not rows:
            return f"{cell['task']} T={cell['length']} has no rows"
        for row in rows:
            if not isinstance(row, dict) or not all(k in row for k in _ROW_FIELDS):
                return f"a row without one of {', '.join(_ROW_FIELDS)}"
            if not isinstance(row["runs"], int) or row["runs"] < 1:
                return f"{row['scheme']} has runs={row['runs']!r}"
            if row.get("cell_type", "simple") not in CELL_TYPES:
                return f"{row['scheme']} has cell_type={row['cell_type']!r}"
    return None


def seed_ranges(seeds):
    """`[0, 1, 2, 5]` -> "0–2, 5": runs of consecutive seeds as ranges."""
    runs = []
    for seed in sorted(seeds):
        if runs and seed == runs[-1][1] + 1:
            runs[-1][1] = seed
        else:
            runs.append([seed, seed])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in runs)
