"""An independent LiteRT run of an exported file, for the export tests.

It drives `ai_edge_litert`'s signature runner directly (not
`keras_rnninit.export.TFLiteRunner`), one sequence per call on a fixed-batch
file, so a test compares Keras with LiteRT without trusting the exporter's
own verifier or runner. A fused LSTM keeps h and c in variable tensors between
invokes; they are zeroed after every call (each sequence is independent).
"""

import numpy as np


def interpreter(path):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path))


def serve(litert, x):
    """{output name: array} of `serving_default` on `x` (n, T, ...). `litert`
    is a path or an interpreter (which keeps a stateful file's state)."""
    if not hasattr(litert, "get_signature_runner"):
        litert = interpreter(litert)
    runner = litert.get_signature_runner("serving_default")
    ((name, detail),) = runner.get_input_details().items()
    x = np.asarray(x).astype(detail["dtype"])
    batch = int(detail["shape_signature"][0])
    assert batch in (-1, 1), "the tests export batch 1 or a dynamic batch"
    parts = [x] if batch == -1 else [x[i : i + 1] for i in range(len(x))]
    results = []
    for part in parts:
        results.append(runner(**{name: part}))
        litert.reset_all_variables()  # after the invoke: then it is allocated
    return {key: np.concatenate([r[key] for r in results]) for key in results[0]}


def assert_parity(path, model, x, atol=1e-5, rtol=0.0):
    """Every output of the file on `x` within atol + rtol * max|y| of Keras."""
    expected = model(x, training=False)
    if not isinstance(expected, (list, tuple)):
        expected = [expected]
    got = serve(path, x)
    assert sorted(got) == [f"output_{i}" for i in range(len(expected))]
    for i, reference in enumerate(expected):
        reference = np.asarray(reference)
        assert np.all(np.isfinite(reference))
        scale = float(np.abs(reference).max())
        np.testing.assert_allclose(
            got[f"output_{i}"], reference, rtol=0, atol=atol + rtol * scale
        )


# A sequence length that the exporter's own verification does not use.
X9 = np.random.default_rng(0).normal(size=(5, 9, 3)).astype("float32")


def simple():
    """xavier_rnn's SimpleRNN(8) -> Dense model on 3 features, seed 0."""
    from keras_rnninit import schemes

    return schemes.get("xavier_rnn").build_model(input_dim=3, units=8, seed=0)
