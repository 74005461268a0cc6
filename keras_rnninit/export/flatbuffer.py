"""Read the operators and the state of a .tflite flatbuffer, from **all** subgraphs.

The interpreter's `_get_ops_details()` shows subgraph 0 only, which hides the
body of a WHILE loop (a separate subgraph) and any Flex op inside it.
"""

import functools

__all__ = [
    "FLEX_PREFIX",
    "non_builtin_ops",
    "resource_variables",
    "shared_state_tensors",
    "tflite_ops",
    "variable_tensors",
]

FLEX_PREFIX = "Flex"


def _model(content):
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(content))


@functools.cache
def _schema():
    from tensorflow.lite.python import schema_py_generated as schema

    return schema


@functools.cache
def _code_names():
    return {
        value: name
        for name, value in vars(_schema().BuiltinOperator).items()
        if not name.startswith("_")
    }


def _op_name(model, op):
    code = model.operatorCodes[op.opcodeIndex]
    # Codes < 127 live in the deprecated int8 field, newer ones in the int32.
    name = _code_names()[max(code.builtinCode, code.deprecatedBuiltinCode)]
    if name == "CUSTOM":
        name = code.customCode.decode()
    return name


def _ops(model):
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            yield subgraph, op


def _indices(values):
    return [] if values is None else [int(i) for i in values]


def variable_tensors(content):
    """Names of the variable tensors of the model in `content` (bytes): state
    an op keeps between invokes, such as the h and c of a fused LSTM. The
    interpreter's `reset_all_variables()` zeroes them."""
    return sorted(
        tensor.name.decode()
        for subgraph in _model(content).subgraphs
        for tensor in subgraph.tensors or []
        if tensor.isVariable
    )


def resource_variables(content):
    """Shared names of the resource variables of the model in `content`
    (bytes): a stateful model's RNN state, kept between invokes in
    `VAR_HANDLE` resources until its `reset` signature runs
    (`reset_all_variables()` does not reach them)."""
    model = _model(content)
    return sorted(
        {
            (op.builtinOptions.sharedName or b"").decode()
            for _, op in _ops(model)
            if _op_name(model, op) == "VAR_HANDLE"
        }
    )


def tflite_ops(content):
    """Operator names of every subgraph of the model in `content` (bytes).

    Builtin operators get their schema name (`"FULLY_CONNECTED"`, `"WHILE"`);
    custom operators their custom code (`"FlexErfinv"` for a Select TF op).
    """
    model = _model(content)
    return [_op_name(model, op) for _, op in _ops(model)]


def shared_state_tensors(content):
    """Variable tensors of the model in `content` (bytes) that more than one
    operator reads, or that their subgraph also returns, as "name (OP, OP)".

    A variable tensor is state an op writes in place (a fused LSTM's h and
    c): any other reader sees what the last invoke left in it, not the value
    it was created with, so a file with such a tensor computes wrong numbers."""
    model = _model(content)
    found = []
    for subgraph in model.subgraphs:
        readers = {}
        for op in subgraph.operators or []:
            for index in _indices(op.inputs):
                readers.setdefault(index, []).append(_op_name(model, op))
        returned = set(_indices(subgraph.outputs))
        for index, tensor in enumerate(subgraph.tensors or []):
            users = readers.get(index, [])
            if tensor.isVariable and (len(users) > 1 or index in returned):
                found.append(f"{tensor.name.decode()} ({', '.join(users)})")
    return found


def non_builtin_ops(names):
    """The custom and Flex operators among `names`, sorted and unique."""
    builtins = set(vars(_schema().BuiltinOperator))
    return sorted({n for n in names if n not in builtins})
