"""Run an exported .tflite file with LiteRT (`ai_edge_litert`)."""

import os
import time

import numpy as np

from keras_rnninit.export.convert import RESET, SERVE

__all__ = ["TFLiteRunner"]


class TFLiteRunner:
    """Load a `.tflite` file in the LiteRT interpreter and run it on numpy data.

    `runner(x)` takes a batch of sequences `x` of shape (n, T, ...) and returns
    a numpy array (a dict of arrays for several outputs). Any T the file allows
    runs (a WHILE-loop export takes every length, an unrolled one only its
    fixed T). A file with a fixed batch B runs the n sequences B at a time
    (padding the last chunk), because resizing the batch of such a file can
    silently return a wrongly shaped result. A stateful export keeps its state
    across calls; `reset()` zeroes it.

    Example:

        runner = TFLiteRunner("export/model.tflite")
        y = runner(x)           # x: float32 (n, T, features)
        runner.latency_ms(x[:1])

    Args:
        path: The `.tflite` file.
        num_threads: Threads of the interpreter (default: LiteRT's choice).
    """

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"`path` must be an existing .tflite file. Received: path={path!r}"
            )
        self.path = path
        try:
            self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
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
        return self._reset is not None

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

    def _invoke(self, x):
        outputs = self._serve(**{self.input_name: x})
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

    def reset(self):
        """Zero the recurrent state of a stateful export."""
        if self._reset is None:
            raise ValueError(
                f"{os.path.basename(self.path)} has no {RESET!r} signature: "
                "only stateful models keep a state to reset."
            )
        self._reset()

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
