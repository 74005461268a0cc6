"""Run an exported .tflite file with LiteRT (`ai_edge_litert`)."""

import os
import time

import numpy as np

from keras_rnninit.export.convert import RESET, SERVE
from keras_rnninit.export.flatbuffer import variable_tensors

__all__ = ["DelegateError", "TFLiteRunner"]


class DelegateError(RuntimeError):
    """LiteRT's default delegate (XNNPACK on CPU) could not prepare the file.

    A phone's interpreter applies the same delegate by default, so the file
    fails there too unless the app turns it off."""


class TFLiteRunner:
    """Load a `.tflite` file in the LiteRT interpreter and run it on numpy data.

    `runner(x)` takes a batch of sequences `x` of shape (n, T, ...) and returns
    a numpy array (a dict of arrays for several outputs). Any T the file allows
    runs (a WHILE-loop export takes every length, an unrolled one only its
    fixed T). A file with a fixed batch B runs the n sequences B at a time
    (padding the last chunk), because resizing the batch of such a file can
    silently return a wrongly shaped result.

    State: a fused LSTM (`UNIDIRECTIONAL_SEQUENCE_LSTM`) keeps its h and c in
    the interpreter between invokes. `runner(x)` treats every call (and every
    chunk) as independent sequences and zeroes that state after each invoke;
    `runner.stream(x)` carries it on instead, so consecutive chunks of one
    long sequence give what the whole sequence would. A stateful export
    (the `reset` signature) keeps its state across every call, as its Keras
    model does; `reset()` zeroes it (and ends a stream).

    Example:

        runner = TFLiteRunner("export/model.tflite")
        y = runner(x)           # x: float32 (n, T, features), independent
        runner.latency_ms(x[:1])
        runner.reset()          # then one long sequence, chunk by chunk:
        y1 = runner.stream(x[:1, :20])
        y2 = runner.stream(x[:1, 20:40])

    Delegates: by default the file runs as a phone's default interpreter
    runs it, with LiteRT's default delegate (XNNPACK on CPU); a file that
    delegate cannot prepare raises `DelegateError` at the first call.
    `default_delegates=False` runs the plain builtin kernels instead (Android:
    `Interpreter.Options().setUseXNNPACK(false)`).

    Args:
        path: The `.tflite` file.
        num_threads: Threads of the interpreter (default: LiteRT's choice).
        default_delegates: Apply LiteRT's default delegates (default True).
    """

    def __init__(
        self,
        path: "str | os.PathLike[str]",
        num_threads: int | None = None,
        default_delegates: bool = True,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"`path` must be an existing .tflite file. Received: path={path!r}"
            )
        self.path = path
        self.default_delegates = bool(default_delegates)
        resolver = (
            OpResolverType.AUTO
            if self.default_delegates
            else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
        try:
            self.interpreter = Interpreter(
                model_path=path,
                num_threads=num_threads,
                experimental_op_resolver_type=resolver,
            )
            signatures = self.interpreter.get_signature_list()
        except (ValueError, RuntimeError) as error:
            raise ValueError(
                f"`path` must be a valid .tflite file. Received: path={path!r} "
                f"({str(error).strip().splitlines()[-1][:200]})"
            ) from error
        if SERVE not in signatures:
            raise ValueError(
                f"`path` must hold a {SERVE!r} signature (files from "
                f"keras_rnninit.export do). Received signatures: {sorted(signatures)}"
            )
        with open(path, "rb") as file:
            self.state_tensors = variable_tensors(file.read())
        self._stream_shape = None  # input shape of the stream in progress
        self.signatures = sorted(signatures)
        self._serve = self.interpreter.get_signature_runner(SERVE)
        self._reset = None
        if RESET in signatures:
            self._reset = self.interpreter.get_signature_runner(RESET)
        ((self.input_name, detail),) = self._serve.get_input_details().items()
        self.input_dtype = np.dtype(detail["dtype"])
        # -1 marks a dynamic dimension.
        self.input_shape = tuple(int(d) for d in detail["shape_signature"])
        self.output_names = list(signatures[SERVE]["outputs"])

    @property
    def batch_size(self):
        """The file's fixed batch, or None when the batch is dynamic."""
        return None if self.input_shape[0] == -1 else self.input_shape[0]

    @property
    def stateful(self):
        """True for a stateful export (it has the `reset` signature)."""
        return self._reset is not None

    @property
    def carries_state(self):
        """True if ops keep state between invokes (a fused LSTM's h and c)."""
        return bool(self.state_tensors)

    def _check(self, x):
        x = np.asarray(x)
        expected = tuple(
            "n" if i == 0 else ("any" if d == -1 else d)
            for i, d in enumerate(self.input_shape)
        )
        if (
            x.ndim != len(self.input_shape)
            or any(
                d != -1 and i > 0 and x.shape[i] != d
                for i, d in enumerate(self.input_shape)
            )
            or x.shape[0] == 0
        ):
            raise ValueError(
                f"`x` must have shape {expected} for {os.path.basename(self.path)}. "
                f"Received: x.shape={x.shape}"
            )
        if self.stateful and x.shape[0] != self.batch_size:
            raise ValueError(
                f"`x` must hold exactly {self.batch_size} sequence(s) for a stateful "
                f"export (state is per batch row). Received: x.shape={x.shape}"
            )
        return x.astype(self.input_dtype, copy=False)

    def _invoke(self, x, carry=False):
        if not carry:
            self._stream_shape = None
        try:
            outputs = self._serve(**{self.input_name: x})
        except RuntimeError as error:
            if "delegate" not in str(error).lower():
                raise
            detail = " ".join(str(error).split())
            raise DelegateError(
                f"LiteRT's default delegate could not prepare "
                f"{os.path.basename(self.path)} for input shape {x.shape} "
                f"({detail}); a phone's default interpreter applies it too. "
                "TFLiteRunner(path, default_delegates=False) runs the builtin "
                "kernels alone."
            ) from error
        if self.state_tensors and not carry:
            # After the invoke: before the first one nothing is allocated yet
            # (and allocation itself zeroes the variable tensors).
            self.interpreter.reset_all_variables()
        return [outputs[name] for name in self.output_names]

    def __call__(self, x):
        results = self.outputs(x)
        if len(results) == 1:
            return next(iter(results.values()))
        return results

    def outputs(self, x):
        """Every output of the file on `x`, as a dict name -> array."""
        x = self._check(x)
        batch = self.batch_size
        if batch is None or x.shape[0] == batch:
            results = self._invoke(x)
        else:
            chunks = []
            for start in range(0, x.shape[0], batch):
                chunk = x[start : start + batch]
                rows = chunk.shape[0]
                if rows < batch:
                    pad = np.zeros((batch - rows, *chunk.shape[1:]), chunk.dtype)
                    chunk = np.concatenate([chunk, pad])
                chunks.append([y[:rows] for y in self._invoke(chunk)])
            results = [np.concatenate(parts) for parts in zip(*chunks, strict=True)]
        return dict(zip(self.output_names, results, strict=True))

    def stream(self, x):
        """Run the next chunk `x` of the sequences in progress, carrying the
        recurrent state on from the previous `stream` call (the first call, or
        the first after `reset()` or `runner(x)`, starts from zero).

        `x` holds exactly the file's batch of rows; every chunk of a stream has
        the same shape, because a new shape reallocates the interpreter, which
        zeroes a fused LSTM's state. Returns what `runner(x)` returns."""
        if not (self.carries_state or self.stateful):
            raise ValueError(
                f"{os.path.basename(self.path)} keeps no state between invokes "
                "(no fused LSTM, no `reset` signature), so there is nothing to "
                "stream: run whole sequences with runner(x)."
            )
        x = self._check(x)
        if x.shape[0] != self.batch_size:
            raise ValueError(
                f"`x` must hold exactly {self.batch_size} sequence(s) to stream "
                f"(state is per batch row). Received: x.shape={x.shape}"
            )
        if self._stream_shape not in (None, x.shape):
            raise ValueError(
                f"`x` must have the stream's chunk shape {self._stream_shape} "
                "(a new shape reallocates the interpreter and zeroes the LSTM "
                "state); call reset() to start a new stream. "
                f"Received: x.shape={x.shape}"
            )
        results = self._invoke(x, carry=True)
        self._stream_shape = x.shape
        if len(results) == 1:
            return results[0]
        return dict(zip(self.output_names, results, strict=True))

    def reset(self):
        """Zero the recurrent state: a stateful export's (its `reset`
        signature) and a fused LSTM's; a stream starts again from zero."""
        if not (self.carries_state or self.stateful):
            raise ValueError(
                f"{os.path.basename(self.path)} has no state to reset: only "
                "stateful models and fused LSTMs keep one between invokes."
            )
        self._stream_shape = None
        if self._reset is not None:
            self._reset()
        if self.state_tensors:
            try:
                self.interpreter.reset_all_variables()
            except RuntimeError:  # nothing allocated yet: the state is zero
                pass

    def latency_ms(self, x, repeats=50):
        """Median wall time of one invocation on `x` (one file batch), in ms."""
        x = self._check(x)
        if self.batch_size is not None:
            x = x[: self.batch_size]
        self._invoke(x)  # warm up (allocation after a resize)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            self._invoke(x)
            times.append(time.perf_counter() - start)
        return 1e3 * float(np.median(times))
