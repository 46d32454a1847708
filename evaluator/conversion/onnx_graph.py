"""A small ONNX graph builder for plain conv nets: conv (batch norm folded in, grouped for depthwise), relu, relu6,
add, pooling, dense."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def same_pads(size: int, kernel: int, stride: int) -> tuple[list[int], int]:
    """TensorFlow's 'same' padding puts the odd pixel at the bottom and right; ONNX needs it explicit.

    Returns ONNX's [top, left, bottom, right] for a square input of this size, and the output size."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    before = total // 2
    return [before, before, total - before, total - before], out


def fold_batch_norm(
    weight: np.ndarray,
    bias: np.ndarray | None,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Returns conv weight and bias with an inference-mode batch norm after the conv folded in."""
    scale = gamma / np.sqrt(var + eps)
    conv_bias = np.zeros_like(mean) if bias is None else bias
    folded_weight = weight * scale[:, None, None, None]
    folded_bias = (conv_bias - mean) * scale + beta
    return folded_weight.astype(np.float32), folded_bias.astype(np.float32)


def fold_named_batch_norm(weights: dict, conv: str, bn: str, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """fold_batch_norm for a bias-free convolution and its batch norm, by their names in a torch state dict."""
    return fold_batch_norm(
        weights[f"{conv}.weight"],
        None,
        weights[f"{bn}.weight"],
        weights[f"{bn}.bias"],
        weights[f"{bn}.running_mean"],
        weights[f"{bn}.running_var"],
        eps,
    )


class GraphBuilder:
    """Collects nodes and initializers; every method returns the name of the tensor it produced."""

    def __init__(self, input_name: str, input_shape: list[int | str]):
        self.input_name = input_name
        self.inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)]
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def constant(self, array: np.ndarray, prefix: str = "const") -> str:
        name = self._fresh(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], **attributes) -> str:
        output = self._fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def conv(self, x: str, weight: np.ndarray, bias: np.ndarray, stride: int, pads: list[int], group: int = 1) -> str:
        """pads are ONNX's [top, left, bottom, right]; group = channels makes a depthwise convolution."""
        kernel = list(weight.shape[2:])
        return self.node(
            "Conv",
            [x, self.constant(weight, "w"), self.constant(bias, "b")],
            kernel_shape=kernel,
            strides=[stride, stride],
            pads=pads,
            group=group,
        )

    def relu(self, x: str) -> str:
        return self.node("Relu", [x])

    def relu6(self, x: str) -> str:
        """min(max(x, 0), 6): MobileNet's and EfficientNet-Lite's activation."""
        low, high = self.constant(np.array(0.0, np.float32), "min"), self.constant(np.array(6.0, np.float32), "max")
        return self.node("Clip", [x, low, high])

    def add(self, a: str, b: str) -> str:
        return self.node("Add", [a, b])

    def global_average_pool(self, x: str) -> str:
        return self.node("GlobalAveragePool", [x])

    def average_pool(self, x: str, size: int) -> str:
        return self.node("AveragePool", [x], kernel_shape=[size, size], strides=[size, size])

    def flatten(self, x: str) -> str:
        return self.node("Flatten", [x], axis=1)

    def dense(self, x: str, weight_in_out: np.ndarray, bias: np.ndarray) -> str:
        """weight_in_out has shape [in_features, out_features]."""
        return self.node(
            "Gemm",
            [x, self.constant(weight_in_out.astype(np.float32), "w"), self.constant(bias.astype(np.float32), "b")],
        )

    def softmax(self, x: str) -> str:
        return self.node("Softmax", [x], axis=1)

    def subsample_and_pad_channels(self, x: str, extra_each_side: int) -> str:
        """The 'option A' ResNet shortcut: keep every second pixel, pad channels with zeros."""
        sliced = self.node(
            "Slice",
            [
                x,
                self.constant(np.array([0, 0], np.int64), "starts"),
                self.constant(np.array([np.iinfo(np.int64).max] * 2, np.int64), "ends"),
                self.constant(np.array([2, 3], np.int64), "axes"),
                self.constant(np.array([2, 2], np.int64), "steps"),
            ],
        )
        pads = np.array([0, extra_each_side, 0, 0, 0, extra_each_side, 0, 0], np.int64)
        return self.node("Pad", [sliced, self.constant(pads, "pads")], mode="constant")

    def build(self, output: str, output_name: str, num_classes: int, metadata: dict[str, str]) -> onnx.ModelProto:
        self.nodes.append(helper.make_node("Identity", [output], [output_name]))
        graph = helper.make_graph(
            self.nodes,
            "zooboard_converted",
            self.inputs,
            [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", num_classes])],
            initializer=self.initializers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model, full_check=True)
        return model
