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


def write_all(out: Path) -> dict[str, Path]:
    files = {
        "nan_output": pooled_linear(weight_fill=float("nan")),
        "thousand_classes": pooled_linear(num_classes=1000),
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
