"""Small ONNX models built for tests: valid ones that misbehave at run time, and files that are not models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def pooled_linear(num_classes: int = 10, weight_fill: float = 0.01, fixed_batch: int | None = None) -> onnx.ModelProto:
    """[N, 3, 32, 32] -> global average pool -> linear -> [N, num_classes]."""
    batch = fixed_batch or "N"
    weight = np.full((3, num_classes), weight_fill, np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "weight"], ["logits"]),
        ],
        "pooled_linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, num_classes])],
        initializer=[numpy_helper.from_array(weight, "weight")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def endless_loop(iterations: int = 2**62) -> onnx.ModelProto:
    """A valid model that never returns: pooled_linear's logits plus 0 x a Loop that counts to 2^62 first."""
    one = numpy_helper.from_array(np.array(1.0, np.float32), "one")
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["count_in", "one"], ["count_out"]),
        ],
        "count",
        [
            helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("count_in", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("count_out", TensorProto.FLOAT, []),
        ],
        initializer=[one],
    )
    model = pooled_linear()
    graph = model.graph
    graph.node[-1].output[0] = "linear"
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(iterations, np.int64), "trip_count"),
            numpy_helper.from_array(np.array(True), "keep_going"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Loop", ["trip_count", "keep_going", "zero"], ["count"], body=body),
            helper.make_node("Mul", ["count", "zero"], ["nothing"]),
            helper.make_node("Add", ["linear", "nothing"], ["logits"]),
        ]
    )
    return model


def write_all(out: Path) -> dict[str, Path]:
    files = {
        "nan_output": pooled_linear(weight_fill=float("nan")),
        "thousand_classes": pooled_linear(num_classes=1000),
        "endless_loop": endless_loop(),
    }
    paths = {}
    for name, model in files.items():
        paths[name] = out / f"{name}.onnx"
        onnx.save(model, paths[name])
    paths["not_onnx"] = out / "not_onnx.onnx"
    paths["not_onnx"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    paths["empty"] = out / "empty.onnx"
    paths["empty"].write_bytes(b"")
    return paths
