"""An ONNX model as a graph of stages to place: constants folded, shapes inferred, and per
node what a planner and a roofline estimate need (inputs, output and weight bytes, FLOPs).

A *stage* is a node that computes on data: nodes whose inputs are all constants
(``ConstantOfShape`` making weights in the onnx wheel's light models, ``Constant``, the
``Unsqueeze`` of a batch-norm scale) are folded into initializers first; they are inputs to
the stages that read them, not stages.
"""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..errors import ScenarioError

if TYPE_CHECKING:
    import onnx

#: bytes in one MB of a scenario's ``output_mb`` and ``memory_mb`` (MiB, as the scenarios use)
BYTES_PER_MB = float(1 << 20)

#: operators that only move or re-label data: no arithmetic (a roofline prices their bytes)
_DATA_MOVEMENT = frozenset({"Concat", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Dropout",
                            "Identity", "Split", "Slice", "Gather", "Pad", "Expand", "Tile", "Cast", "Shape"})


@dataclass(frozen=True)
class Node:
    """One stage of the graph.

    ``inputs``: the stages whose outputs it reads (each once; graph inputs and constants are
    not stages). ``output_bytes``: its outputs that a later stage or the graph's output reads.
    ``weight_bytes``: its constant inputs (resident where it runs). ``activation_bytes``:
    the non-constant tensors it reads. ``flops``: arithmetic operations of one run.
    """

    name: str
    op: str
    inputs: tuple[str, ...]
    output_bytes: int
    weight_bytes: int
    activation_bytes: int
    flops: float

    @property
    def bytes_moved(self) -> int:
        """Bytes one run reads and writes in memory: activations in, weights, outputs."""
        return self.activation_bytes + self.weight_bytes + self.output_bytes


@dataclass(frozen=True)
class Graph:
    """A shape-inferred ONNX model and its stages in the model's (topological) order.

    ``model``: the model with every node named and its input shapes fixed (its constants
    not yet folded: ``folded()`` makes the model to run); ``feeds``: the data inputs as
    ``name -> (shape, numpy dtype)``.
    """

    name: str
    nodes: tuple[Node, ...]
    model: "onnx.ModelProto"
    feeds: Mapping[str, tuple[tuple[int, ...], np.dtype]]
    source: str

    @property
    def weights_mb(self) -> float:
        """Every stage's weights at once, in MB: the memory the whole model keeps resident."""
        return sum(n.weight_bytes for n in self.nodes) / BYTES_PER_MB

    def folded(self) -> "onnx.ModelProto":
        """A copy of ``model`` with its constant nodes evaluated into initializers, so that
        every node left is a stage."""
        import onnx

        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        _fold_constants(model)
        return model


def require(module: str):
    """A module of the ``profile`` extra (``onnx``, ``onnxruntime``), or a one-line error
    naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ScenarioError("eip profile", "", "needs the 'profile' extra: pip install 'eip[profile]' (onnx, onnxruntime)") from None


def load_graph(path: str | os.PathLike[str], input_shapes: Mapping[str, Sequence[int]] | None = None) -> Graph:
    """Read an ONNX model, fold its constants, fix its input shapes and infer every tensor's.

    ``input_shapes`` gives shapes for inputs with dynamic dimensions (``{"data": [1, 3, 224,
    224]}``). Raises ``ScenarioError`` (file and what is wrong) for an unreadable model or a
    tensor whose shape stays unknown.
    """
    onnx = require("onnx")
    source = os.fspath(path)
    try:
        model = onnx.load(source)
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except Exception as exc:  # protobuf's DecodeError and friends: not a model
        raise ScenarioError(source, "", f"not an ONNX model ({type(exc).__name__})") from None
    _name_nodes(model)
    feeds = _fix_inputs(model, dict(input_shapes or {}), source)
    try:  # before folding: the weights are still small ConstantOfShape nodes, cheap to copy
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:
        raise ScenarioError(source, "", f"shape inference failed: {str(exc).splitlines()[0]}") from None
    nodes = _stages(model, source)
    name = model.graph.name or os.path.splitext(os.path.basename(source))[0]
    return Graph(name, nodes, model, feeds, source)


def _fold_constants(model: "onnx.ModelProto") -> None:
    """Replace the nodes whose inputs are all constants by initializers holding their
    outputs (evaluated at once by ONNX's reference runtime, at the model's opsets), and drop
    the initializers nothing reads anymore."""
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = model.graph
    constants = {init.name for init in graph.initializer}
    folded, kept = [], []
    for node in graph.node:
        if _foldable(node, constants):
            constants.update(o for o in node.output if o)
            folded.append(node)
        else:
            kept.append(node)
    read = {i for node in kept for i in node.input} | {o.name for o in graph.output}
    wanted = [o for node in folded for o in node.output if o in read]
    values = {}
    if wanted:
        subgraph = helper.make_graph(folded, "constants", [], [helper.make_empty_tensor_value_info(o) for o in wanted],
                                     list(graph.initializer))
        evaluator = ReferenceEvaluator(helper.make_model(subgraph, opset_imports=list(model.opset_import)))
        values = dict(zip(wanted, evaluator.run(None, {})))
    initializers = [init for init in graph.initializer if init.name in read]
    initializers += [numpy_helper.from_array(np.asarray(v), name) for name, v in values.items()]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    data_inputs = [i for i in graph.input if i.name not in constants]
    del graph.input[:]
    graph.input.extend(data_inputs)
    # IR 3 lists initializers among the inputs; from IR 4 on they need not be (and shape
    # inference reads them only then)
    model.ir_version = max(model.ir_version, 4)


#: operators whose output is not a function of their inputs: never folded
_RANDOM = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"})


def _foldable(node: "onnx.NodeProto", constants) -> bool:
    """A node that makes a constant: ``Constant``, or a deterministic node whose inputs are
    all constants."""
    inputs = [i for i in node.input if i]
    if node.op_type == "Constant":
        return True
    return bool(inputs) and node.op_type not in _RANDOM and all(i in constants for i in inputs)


def _name_nodes(model: "onnx.ModelProto") -> None:
    """Give every node a unique name (profilers report nodes by name): its own when it has
    one, else its operator and position."""
    seen: set[str] = set()
    for i, node in enumerate(model.graph.node):
        name = node.name if node.name and node.name not in seen else f"{node.op_type}_{i}"
        node.name = name
        seen.add(name)


def _fix_inputs(model: "onnx.ModelProto", shapes: dict[str, Sequence[int]], source: str):
    from onnx import helper

    feeds = {}
    constants = {init.name for init in model.graph.initializer}
    for value in model.graph.input:
        if value.name in constants:  # IR 3 lists the initializers among the inputs
            continue
        dims = value.type.tensor_type.shape.dim
        given = shapes.pop(value.name, None)
        if given is not None:
            if len(given) != len(dims):
                raise ScenarioError(source, f"input '{value.name}'",
                                    f"has {len(dims)} dimensions, got the shape {list(given)}")
            for dim, size in zip(dims, given):
                dim.dim_value = int(size)
        shape = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in dims)
        if any(size < 1 for size in shape):
            raise ScenarioError(source, f"input '{value.name}'", f"has a dynamic dimension {_dims(dims)}: "
                                f"give its shape (--input-shape '{value.name}=1,3,224,224')")
        feeds[value.name] = (shape, np.dtype(helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)))
    if shapes:
        raise ScenarioError(source, "", f"no input named {', '.join(map(repr, shapes))}; "
                            f"inputs are {', '.join(repr(v.name) for v in model.graph.input)}")
    return feeds


def _dims(dims) -> str:
    return "[" + ", ".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in dims) + "]"


def _stages(model: "onnx.ModelProto", source: str) -> tuple[Node, ...]:
    from onnx import helper

    graph = model.graph
    shapes: dict[str, tuple[tuple[int, ...], int]] = {}
    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        tensor = value.type.tensor_type
        if all(d.HasField("dim_value") for d in tensor.shape.dim) and tensor.elem_type:
            itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)).itemsize
            shapes[value.name] = (tuple(d.dim_value for d in tensor.shape.dim), itemsize)
    for init in graph.initializer:
        shapes[init.name] = (tuple(init.dims), np.dtype(helper.tensor_dtype_to_np_dtype(init.data_type)).itemsize)
    constants = {init.name for init in graph.initializer}
    stages = []
    for node in graph.node:
        if _foldable(node, constants):
            constants.update(node.output)
        else:
            stages.append(node)
    producer = {out: node.name for node in stages for out in node.output if out}
    read = {i for node in stages for i in node.input} | {o.name for o in graph.output}

    def nbytes(tensor: str) -> int:
        if tensor not in shapes:
            raise ScenarioError(source, f"tensor '{tensor}'", "shape inference left its shape unknown")
        shape, itemsize = shapes[tensor]
        return math.prod(shape) * itemsize

    nodes = []
    for node in stages:
        ins = [i for i in node.input if i]
        inputs = tuple(dict.fromkeys(producer[i] for i in ins if i in producer))
        nodes.append(Node(
            name=node.name, op=node.op_type, inputs=inputs,
            output_bytes=sum(nbytes(o) for o in node.output if o and o in read),
            weight_bytes=sum(nbytes(i) for i in dict.fromkeys(ins) if i in constants),
            activation_bytes=sum(nbytes(i) for i in dict.fromkeys(ins) if i not in constants),
            flops=_flops(node, [shapes.get(i, ((), 0))[0] for i in ins],
                         [shapes.get(o, ((), 0))[0] for o in node.output if o]),
        ))
    return tuple(nodes)


def _flops(node: "onnx.NodeProto", in_shapes: list[tuple[int, ...]], out_shapes: list[tuple[int, ...]]) -> float:
    """Arithmetic operations of one run of ``node`` (multiply and add count one each), by the
    usual operator-level rules; operators that only move data count none."""
    from onnx import helper

    op = node.op_type
    out = math.prod(out_shapes[0]) if out_shapes else 0
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if op in _DATA_MOVEMENT:
        return 0.0
    if op == "Conv":
        weight = in_shapes[1]  # (C_out, C_in / group, k_h, k_w...)
        return 2.0 * out * math.prod(weight[1:]) + (out if len(in_shapes) > 2 else 0)
    if op == "ConvTranspose":
        weight = in_shapes[1]  # (C_in, C_out / group, k...)
        return 2.0 * math.prod(in_shapes[0]) * math.prod(weight[1:])
    if op in ("Gemm", "MatMul"):
        a = in_shapes[0]
        k = a[0] if op == "Gemm" and attrs.get("transA", 0) else a[-1]
        return 2.0 * out * k + (out if op == "Gemm" and len(in_shapes) > 2 else 0)
    if op in ("MaxPool", "AveragePool", "LpPool"):
        return float(out * math.prod(attrs.get("kernel_shape", [1])))
    if op in ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax"):
        return float(math.prod(in_shapes[0]))
    if op in ("Sum", "Add", "Sub", "Mul", "Div", "Max", "Min", "Mean"):
        return float(out * max(1, len(in_shapes) - 1))
    if op == "BatchNormalization":
        return 2.0 * out  # one multiply-add per element once the statistics are folded
    if op == "LRN":
        return float(out * (attrs.get("size", 1) + 3))
    if op in ("Softmax", "LogSoftmax"):
        return 3.0 * out  # exp, sum, divide
    return float(out)  # element-wise by default: one operation per output element
