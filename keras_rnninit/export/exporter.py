"""`export_tflite`: convert, verify against Keras in LiteRT, then write atomically."""

import dataclasses
import json
import os
import platform
import time
from importlib import metadata

import keras
import numpy as np

from keras_rnninit.export.convert import (
    QUANTIZE_MODES,
    RESET,
    SERVE,
    ConversionOptions,
    ExportError,
    _stateful_layers,
    _unrolled_copy,
    convert,
)
from keras_rnninit.export.flatbuffer import (
    non_builtin_ops,
    resource_variables,
    shared_state_tensors,
    tflite_ops,
    variable_tensors,
)
from keras_rnninit.export.fused import (
    FUSED_OP,
    _fusion_blocker,
    convert_fused,
    fusable,
    lstm_layers,
)
from keras_rnninit.export.inputs import (
    check_destination,
    check_finite_weights,
    check_sequences,
    check_source,
    load_model,
    recurrent_layers,
)
from keras_rnninit.export.runner import TFLiteRunner
from keras_rnninit.export.verify import default_verify_data
from keras_rnninit.export.verify import verify as verify_file
from keras_rnninit.utils.files import publish, write_temp
from keras_rnninit.utils.validation import check_positive_int

__all__ = ["DEFAULT_TOLERANCES", "ExportReport", "export_tflite"]

# (atol, rtol) per quantization: the check is max|y_tflite - y_keras| <=
# atol + rtol * max|y_keras|. Float32 is the 1e-5; the others sit
# above the errors measured on small RNNs (tests/export/test_exporter.py):
# float16 ~1e-3 relative, int8 0.03-0.13 relative.
DEFAULT_TOLERANCES = {
    None: (1e-5, 0.0),
    "dynamic": (1e-5, 0.05),
    "float16": (1e-5, 0.01),
    "int8": (1e-5, 0.25),
}
VERIFY_LENGTHS = (5, 17)  # two lengths prove a WHILE export takes any T


@dataclasses.dataclass
class ExportReport:
    """What `export_tflite` wrote and measured."""

    path: str
    metadata_path: str
    ops: list
    size_bytes: int
    quantize: str | None
    unroll: bool
    batch_size: int | None
    seq_len: int | None
    input_name: str
    input_shape: list
    input_dtype: str
    output_names: list
    signatures: list
    max_abs_error: float | None
    max_rel_error: float | None
    atol: float
    rtol: float
    verified_sequences: int
    latency_ms: float | None
    conversion_seconds: float
    source_sha256: str
    versions: dict
    # "fused" (UNIDIRECTIONAL_SEQUENCE_LSTM), "while", "fused+while" or
    # "unrolled", read from the file's op list; per LSTM, why it is not fused.
    recurrent_path: str = "while"
    lstm_fallbacks: dict = dataclasses.field(default_factory=dict)
    # State the file keeps from one invoke to the next. Variable tensors (a
    # fused LSTM's h and c): a raw interpreter must reset them
    # (`reset_all_variables()`, Android `resetVariableTensors()`) between
    # independent sequences; TFLiteRunner does. Resource variables (a
    # stateful model's RNN state): they persist until the `reset` signature
    # runs, which `reset_all_variables()` does not replace. Both empty: every
    # invoke is independent. `state_between_invokes` lists both kinds.
    state_between_invokes: list = dataclasses.field(default_factory=list)
    state_tensors: list = dataclasses.field(default_factory=list)
    state_variables: list = dataclasses.field(default_factory=list)
    # The input shape `latency_ms` was timed on (one file batch of the first
    # verification batch); None when not verified.
    latency_input_shape: list | None = None

    def to_dict(self):
        return dataclasses.asdict(self)


def _versions():
    import tensorflow as tf

    def version(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "ai_edge_litert": version("ai-edge-litert"),
        "keras_rnninit": version("keras_rnninit"),
        "python": platform.python_version(),
    }


def export_tflite(
    model: "keras.Model | str | os.PathLike[str]",
    path: "str | os.PathLike[str]",
    *,
    batch_size: int | None = None,
    seq_len: int | None = None,
    unroll: bool | None = None,
    quantize: str | None = None,
    representative_data: np.ndarray | None = None,
    verify: bool = True,
    verify_data: "np.ndarray | list[np.ndarray] | None" = None,
    atol: float | None = None,
    rtol: float | None = None,
    allow_select_tf_ops: bool = False,
    overwrite: bool = False,
    safe_mode: bool = True,
) -> ExportReport:
    """Export a Keras RNN model to a builtins-only `.tflite` file, verified in LiteRT.

    Paths (measured with TF 2.21, see docs/guides/export.md):

    - default: fixed batch (`batch_size`, default 1), any sequence length at
      run time, float32, parity <= 1e-5 max abs error. A Keras `LSTM` becomes
      the fused `UNIDIRECTIONAL_SEQUENCE_LSTM` builtin (keras_rnninit/export/
      fused.py says which LSTMs cannot and why: they, and every other RNN,
      become one WHILE loop); `report.recurrent_path` says what the file holds;
    - `unroll=True` (needs `seq_len`): no loop, dynamic batch, faster
      and larger;
    - `quantize="dynamic"` (int8 weights >= 1024 elements; smaller ones stay
      float), `"float16"`, or `"int8"` (calibrated on `representative_data`
      or `verify_data`; never on a WHILE loop, whose int8 calibration kills
      the process: on the fused path when every RNN is a fusable LSTM, else
      unrolled).

    The file is converted, checked against `model` in the LiteRT interpreter
    on `verify_data` (default: seeded random sequences of two lengths), every
    output, and only then moved into place together with a `<name>.json`
    metadata sidecar: both files appear, or neither. A non-finite weight, or a
    non-finite value in the Keras or LiteRT outputs, fails the export. Files
    get the mode a normal write gives (the user's umask). An existing file is
    replaced only with `overwrite=True`. A stateful model (also one nested in
    another model) gets a second signature, `reset`, that zeroes its state.

    Example:

        report = export_tflite(model, "export/model.tflite")
        print(report.ops, report.size_bytes, report.max_abs_error)

    Args:
        model: A built `keras.Model` with one sequence input (any number of
            outputs), or a `.keras` path.
        path: Destination, ending in `.tflite`, in an existing folder.
        batch_size: Fixed batch of the file (default 1; dynamic when unrolled).
        seq_len: Fixed sequence length (required by `unroll` and int8).
        unroll: Unroll the recurrence (default: only for int8 of a model
            that is not all fusable LSTMs). False keeps loops and fused LSTMs.
        quantize: None, `"dynamic"`, `"float16"` or `"int8"`.
        representative_data: Array (n, T, ...) of typical inputs for int8,
            shaped (and typed: token ids for an `Embedding`) like the input.
        verify: Run the parity check (default True). Never skip it lightly.
        verify_data: Array or list of arrays (n, T, ...) for the parity check.
        atol: Absolute parity tolerance (default in `DEFAULT_TOLERANCES`).
        rtol: Relative parity tolerance (default in `DEFAULT_TOLERANCES`).
        allow_select_tf_ops: Allow Flex (Select TF) ops; such a file needs the
            Flex delegate, which LiteRT's Python interpreter lacks.
        overwrite: Replace an existing file (and its sidecar).
        safe_mode: Keras' safe mode when loading a `.keras` path; False lets
            `Lambda` layers load. Only for files you trust.

    Returns:
        An `ExportReport`.

    Raises:
        ValueError: A bad argument value.
        TypeError: An argument of the wrong type.
        FileNotFoundError: No such model file or destination folder.
        FileExistsError: The file exists and `overwrite` is False.
        ExportError: The model could not be loaded, has non-finite weights, or
            conversion or parity failed.
    """
    batch_size, seq_len = _check_arguments(
        batch_size, seq_len, quantize, representative_data, verify_data
    )
    check_source(model)  # a missing input is named before the destination
    path, sidecar = check_destination(path, overwrite)
    model, source_sha256 = _load(model, safe_mode)
    plan = _plan(model, batch_size, seq_len, unroll, quantize, representative_data)
    batches = _verify_batches(model, plan, verify_data)
    default_atol, default_rtol = DEFAULT_TOLERANCES[quantize]
    atol = default_atol if atol is None else float(atol)
    rtol = default_rtol if rtol is None else float(rtol)
    calibration = plan.representative
    representative = _representative(
        batches[0] if calibration is None else calibration,
        keras.backend.standardize_dtype(model.inputs[0].dtype),
        # One row at a time, except on a fixed-batch (fused) file: whole batches.
        rows=1 if plan.unroll else plan.batch_size,
    )
    job = _Job(
        path=path,
        sidecar=sidecar,
        options=ConversionOptions(
            batch_size=plan.batch_size,
            seq_len=plan.seq_len,
            quantize=quantize,
            representative=representative,
            allow_select_tf_ops=allow_select_tf_ops,
            unrolled=plan.unroll,
        ),
        verify=verify,
        batches=batches,
        atol=atol,
        rtol=rtol,
        source_sha256=source_sha256,
    )
    try:
        return _export_checked(model, job)
    except (ValueError, TypeError) as error:
        # The arguments were checked above: what fails from here on is the
        # export, not the call (exit 1 in the CLI, not a usage error).
        raise ExportError(f"{type(error).__name__}: {error}") from error


# The steps of `export_tflite`: check the arguments, load, plan (check the
# model against them), convert + verify + write (`_export_checked`).


def _check_arguments(batch_size, seq_len, quantize, representative_data, verify_data):
    """The checks that need no model; returns (batch_size, seq_len)."""
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "`export_tflite` needs the tensorflow Keras backend (TFLite conversion "
            "is TensorFlow-only). Received: backend="
            f"{keras.backend.backend()!r}. Save the model as .keras and export it "
            "from a process with KERAS_BACKEND=tensorflow."
        )
    if quantize is not None and quantize not in QUANTIZE_MODES:
        raise ValueError(
            f"`quantize` must be one of None, {', '.join(QUANTIZE_MODES)}."
            f" Received: quantize={quantize!r}"
        )
    batch_size = check_positive_int("batch_size", batch_size, optional=True)
    seq_len = check_positive_int("seq_len", seq_len, optional=True)
    if quantize == "int8" and representative_data is None and verify_data is None:
        raise ValueError(
            "`representative_data` must be given with quantize='int8' "
            "(typical inputs to calibrate on). Received: None"
        )
    return batch_size, seq_len


def _load(model, safe_mode):
    """The model (loaded if a path) and its file's sha256, checked exportable."""
    model, source_sha256 = load_model(model, safe_mode=safe_mode)
    if len(model.inputs or []) != 1:
        raise ValueError(
            "`model` must be a built Functional or Sequential model "
            "with exactly one input. Received: "
            f"{len(model.inputs or [])} inputs"
        )
    if not recurrent_layers(model):
        names = ", ".join(f"{x.name} ({type(x).__name__})" for x in model.layers)
        raise ValueError(
            "`model` must contain a recurrent layer (RNN, SimpleRNN, LSTM, GRU or "
            f"Bidirectional). Received: model with layers [{names}]"
        )
    check_finite_weights(model)
    return model, source_sha256


@dataclasses.dataclass
class _Plan:
    """What the file will be: resolved from the arguments and the model."""

    unroll: bool
    batch_size: int | None
    seq_len: int | None
    stateful: bool
    representative: np.ndarray | None


def _resolve_unroll(model, unroll, quantize, stateful):
    if quantize == "int8" and stateful:
        raise ValueError(
            "`quantize` must not be 'int8' for a stateful model: int8 calibration "
            "needs the recurrence unrolled or fused, and a stateful model's state "
            "lives in the WHILE path (its `reset` signature needs it); use "
            "'dynamic' or 'float16'. Received: quantize='int8'"
        )
    if quantize == "int8":
        blocker = _fusion_blocker(model)
        if unroll is None:
            unroll = blocker is not None
        if not unroll and blocker is not None:
            raise ValueError(
                "`unroll` must be True (or None) with quantize='int8' unless every "
                "RNN is a fusable LSTM: int8 calibration of a WHILE-loop model "
                f"crashes the converter, and here {blocker}. Received: unroll=False"
            )
    if stateful and unroll:
        raise ValueError(
            "`unroll` must be False for a stateful model (its state "
            "lives in the WHILE path). Received: unroll=True"
        )
    return bool(unroll)


def _plan(model, batch_size, seq_len, unroll, quantize, representative_data):
    stateful = bool(_stateful_layers(model))
    unroll = _resolve_unroll(model, unroll, quantize, stateful)
    model_batch = model.inputs[0].shape[0]
    if model_batch is not None:
        if batch_size not in (None, model_batch):
            raise ValueError(
                f"`batch_size` must match the model's fixed batch "
                f"{model_batch}. Received: batch_size={batch_size}"
            )
        batch_size = model_batch
    if representative_data is not None:
        representative_data = check_sequences(
            "representative_data", representative_data, model, seq_len
        )
    if unroll and seq_len is None:
        # The model's own fixed T, else the length of the calibration data.
        seq_len = model.inputs[0].shape[1]
        if seq_len is None and representative_data is not None:
            seq_len = int(representative_data.shape[1])
        if seq_len is None:
            raise ValueError(
                "`seq_len` must be given when unrolling (quantize='int8' "
                "unrolls). Received: seq_len=None"
            )
    if not unroll and batch_size is None:
        batch_size = 1
    return _Plan(unroll, batch_size, seq_len, stateful, representative_data)


def _verify_batches(model, plan, verify_data):
    """The batches the parity check runs: the user's, else seeded random ones
    and, when calibration data was given, that data too (typical inputs, on
    which a quantized file is checked as well as on random ones)."""
    if verify_data is None:
        # A model with a fixed T takes only that T.
        fixed = plan.seq_len or model.inputs[0].shape[1]
        lengths = (fixed,) if fixed else VERIFY_LENGTHS
        # Stateful files take exactly their batch; others get >= 3 rows, which
        # also exercises the runner's chunking over a fixed batch.
        rows = plan.batch_size if plan.stateful else max(plan.batch_size or 3, 3)
        batches = default_verify_data(model, rows, lengths)
        if plan.representative is not None and not plan.stateful:
            batches.append(plan.representative)
        return batches
    if not isinstance(verify_data, (list, tuple)):
        verify_data = [verify_data]
    return [
        check_sequences("verify_data", x, model, plan.seq_len if plan.unroll else None)
        for x in verify_data
    ]


def _representative(calibration, input_dtype, rows):
    """The converter's calibration generator: batches of `rows` sequences."""

    def representative():
        data = calibration.astype(input_dtype)  # token ids stay integers
        if len(data) < rows:
            data = np.resize(data, (rows, *data.shape[1:]))
        for start in range(0, len(data) - rows + 1, rows):
            yield [data[start : start + rows]]

    return representative


@dataclasses.dataclass(frozen=True)
class _Job:
    """What `export_tflite` checked and decided, for the steps after it: the
    destination, how to convert, and how to verify."""

    path: str
    sidecar: str
    options: ConversionOptions
    verify: bool
    batches: list
    atol: float
    rtol: float
    source_sha256: str


def _export_checked(model, job):
    """Convert, verify and write, for arguments `export_tflite` has checked."""
    path, sidecar, options = job.path, job.sidecar, job.options
    unroll, batch_size, quantize = (
        options.unrolled,
        options.batch_size,
        options.quantize,
    )
    allow_select_tf_ops, verify, batches = (
        options.allow_select_tf_ops,
        job.verify,
        job.batches,
    )
    start = time.perf_counter()
    content, ops, fallbacks = _convert_on_path(model, options)
    seconds = time.perf_counter() - start
    foreign = non_builtin_ops(ops)
    if foreign and not allow_select_tf_ops:
        raise ExportError(
            f"the converted model has non-builtin ops {foreign}; "
            "refusing to write a file the mobile runtime cannot run"
        )
    if foreign and verify:
        raise ExportError(
            f"the converted model uses {', '.join(foreign)}, which LiteRT's Python "
            "interpreter cannot run without the Flex delegate, so its parity "
            "cannot be checked here; pass verify=False to write it unverified"
        )

    shared = shared_state_tensors(content)
    if shared:
        # The converter let another op read a fused LSTM's in-place state:
        # the file would compute wrong numbers, verified or not.
        raise ExportError(
            "the converted file lets other ops read a fused LSTM's state, which "
            f"the LSTM overwrites on every invoke: {'; '.join(shared)}; "
            "export with unroll=True and seq_len instead"
        )
    state_tensors, state_variables = (
        variable_tensors(content),
        resource_variables(content),
    )
    folder = os.path.dirname(path)
    temps = []
    try:
        tmp_model = write_temp(folder, path, content, temps)
        errors = (None, None, 0, None, None)
        if verify:
            errors = verify_file(tmp_model, model, batches, job.atol, job.rtol)
        max_abs, rel, count, latency, runner = errors
        runner = runner or TFLiteRunner(tmp_model)
        report = ExportReport(
            path=path,
            metadata_path=sidecar,
            ops=sorted(set(ops)),
            size_bytes=len(content),
            quantize=quantize,
            unroll=bool(unroll),
            batch_size=batch_size,
            seq_len=options.seq_len,
            input_name=runner.input_name,
            input_shape=list(runner.input_shape),
            input_dtype=str(runner.input_dtype),
            output_names=runner.output_names,
            signatures=runner.signatures,
            max_abs_error=max_abs,
            max_rel_error=rel,
            atol=job.atol,
            rtol=job.rtol,
            verified_sequences=count,
            latency_ms=latency,
            latency_input_shape=_latency_shape(batches, batch_size) if verify else None,
            conversion_seconds=seconds,
            source_sha256=job.source_sha256,
            versions=_versions(),
            recurrent_path=_recurrent_path(ops, unroll),
            lstm_fallbacks=fallbacks,
            state_between_invokes=sorted(state_tensors + state_variables),
            state_tensors=state_tensors,
            state_variables=state_variables,
        )
        meta = dict(
            report.to_dict(),
            path=os.path.basename(path),
            metadata_path=os.path.basename(sidecar),
            reset_signature=RESET if RESET in runner.signatures else None,
            serve_signature=SERVE,
        )
        tmp_meta = write_temp(
            folder, sidecar, (json.dumps(meta, indent=2) + "\n").encode(), temps
        )
        publish([(tmp_model, path), (tmp_meta, sidecar)])
        temps.clear()
    finally:
        for leftover in temps:
            if os.path.exists(leftover):
                os.remove(leftover)
    return report


def _latency_shape(batches, batch_size):
    """The shape `verify` times: the first batch, cut to the file's batch."""
    shape = list(batches[0].shape)
    if batch_size is not None:
        shape[0] = min(shape[0], batch_size)
    return shape


def _recurrent_path(ops, unroll):
    if unroll:
        return "unrolled"
    fused, loop = FUSED_OP in ops, "WHILE" in ops
    return {(True, True): "fused+while", (True, False): "fused"}.get(
        (fused, loop), "while"
    )


def _convert_on_path(model, options):
    """(bytes, op list, {LSTM name: why it is not fused}) of the file.

    Fusable LSTMs go through `convert_fused`; the op list is the guard: if the
    converter did not fuse every LSTM it was given (it inlines silently), the
    model is converted again on the WHILE path and the report says so. An
    int8 file is never made from a WHILE loop (the calibrator crashes)."""
    quantize = options.quantize
    lstms = lstm_layers(model)
    if options.unrolled:
        content = convert(_unrolled_copy(model, options.seq_len), options)
        return content, tflite_ops(content), {}
    fallbacks = {name: fusable(layer) for name, layer in lstms if fusable(layer)}
    if _stateful_layers(model):
        fallbacks = dict.fromkeys(
            (name for name, _ in lstms),
            "the model is stateful (its `reset` signature needs the WHILE path)",
        )
    elif len(fallbacks) < len(lstms):
        content, fused, fallbacks = convert_fused(model, options)
        ops = tflite_ops(content)
        if fused and ops.count(FUSED_OP) == len(fused):
            return content, ops, fallbacks
        if fused:
            reason = (
                f"the converter fused {ops.count(FUSED_OP)} of the {len(fused)} "
                "LSTM functions it was given; the WHILE path is used instead"
            )
            if quantize == "int8":
                raise ExportError(f"{reason.split(';')[0]}: int8 needs all of them")
            fallbacks.update(dict.fromkeys(fused, reason))
    if quantize == "int8":
        raise ExportError(
            "int8 needs every LSTM fused (int8 calibration of a WHILE loop "
            f"crashes the converter), but {sorted(fallbacks)} could not be: "
            f"{'; '.join(sorted(set(fallbacks.values())))}"
        )
    content = convert(model, options)
    return content, tflite_ops(content), fallbacks
