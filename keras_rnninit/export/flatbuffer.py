"""Read the operators of a .tflite flatbuffer, from **all** subgraphs.

The interpreter's `_get_ops_details()` shows subgraph 0 only, which hides the
body of a WHILE loop (a separate subgraph) and any Flex op inside it.
"""

__all__ = ["FLEX_PREFIX", "non_builtin_ops", "tflite_ops", "variable_tensors"]

FLEX_PREFIX = "Flex"


def _model(content):
    from tensorflow.lite.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(content))


def variable_tensors(content):
    """Names of the variable tensors of the model in `content` (bytes): state
    an op keeps between invokes, such as the h and c of a fused LSTM."""
    return sorted(
        tensor.name.decode()
        for subgraph in _model(content).subgraphs
        for tensor in subgraph.tensors or []
        if tensor.isVariable
    )


def tflite_ops(content):
    """Operator names of every subgraph of the model in `content` (bytes).

    Builtin operators get their schema name (`"FULLY_CONNECTED"`, `"WHILE"`);
    custom operators their custom code (`"FlexErfinv"` for a Select TF op).
    """
    from tensorflow.lite.python import schema_py_generated as schema

    code_names = {
        value: name
        for name, value in vars(schema.BuiltinOperator).items()
        if not name.startswith("_")
    }
    model = _model(content)
    names = []
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            code = model.operatorCodes[op.opcodeIndex]
            # Codes < 127 live in the deprecated int8 field, newer ones in the int32.
            name = code_names[max(code.builtinCode, code.deprecatedBuiltinCode)]
            if name == "CUSTOM":
                name = code.customCode.decode()
            names.append(name)
    return names


def non_builtin_ops(names):
    """The custom and Flex operators among `names`, sorted and unique."""
    from tensorflow.lite.python import schema_py_generated as schema

    builtins = set(vars(schema.BuiltinOperator))
    return sorted({n for n in names if n not in builtins})
