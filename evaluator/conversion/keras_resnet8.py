"""MLPerf Tiny's ResNet-8 from its Keras h5 file: walks the saved layer graph, reading weights with h5py."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import onnx

from evaluator.conversion.onnx_graph import GraphBuilder, fold_batch_norm, same_pads
from plugins.recipe import Recipe

# The reference model takes 0-255 pixels without normalisation and ends in a softmax.
RECIPE = Recipe(
    input_size=32, crop_pct=1.0, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), value_range=255.0, output="probabilities"
)


class _KerasGraph:
    def __init__(self, path: Path):
        self.file = h5py.File(path, "r")
        self.layers = json.loads(self.file.attrs["model_config"])["config"]["layers"]

    def weight(self, layer: str, name: str) -> np.ndarray:
        return np.asarray(self.file["model_weights"][layer][layer][f"{name}:0"], dtype=np.float32)


def convert(path: Path, name: str) -> onnx.ModelProto:
    keras = _KerasGraph(path)
    builder = GraphBuilder("input", ["N", 3, 32, 32])
    tensors: dict[str, tuple[str, int]] = {}  # layer name -> (ONNX tensor, spatial size)
    pending_conv: dict[str, tuple] = {}  # a conv whose batch norm is still to be folded in
    for layer in keras.layers:
        kind, config = layer["class_name"], layer["config"]
        layer_name = config["name"]
        inbound = [node[0] for node in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        if kind == "InputLayer":
            tensors[layer_name] = ("input", 32)
        elif kind == "Conv2D":
            source, size = tensors[inbound[0]]
            kernel = keras.weight(layer_name, "kernel").transpose(3, 2, 0, 1)  # HWIO -> OIHW
            bias = keras.weight(layer_name, "bias")
            stride = config["strides"][0]
            pads, out_size = same_pads(size, kernel.shape[2], stride)
            pending_conv[layer_name] = (source, kernel, bias, stride, pads, out_size)
            tensors[layer_name] = (None, out_size)
        elif kind == "BatchNormalization":
            source, kernel, bias, stride, pads, out_size = pending_conv.pop(inbound[0])
            kernel, bias = fold_batch_norm(
                kernel,
                bias,
                keras.weight(layer_name, "gamma"),
                keras.weight(layer_name, "beta"),
                keras.weight(layer_name, "moving_mean"),
                keras.weight(layer_name, "moving_variance"),
                config["epsilon"],
            )
            tensors[layer_name] = (builder.conv(source, kernel, bias, stride, pads), out_size)
        elif kind == "Activation":
            if config["activation"] != "relu":
                raise ValueError(f"unexpected activation {config['activation']}")
            source, size = tensors[inbound[0]]
            tensors[layer_name] = (builder.relu(source), size)
        elif kind == "Add":
            (a, size), (b, _) = (_materialise(builder, tensors, pending_conv, n) for n in inbound)
            tensors[layer_name] = (builder.add(a, b), size)
        elif kind == "AveragePooling2D":
            source, size = tensors[inbound[0]]
            pool = config["pool_size"][0]
            tensors[layer_name] = (builder.average_pool(source, pool), size // pool)
        elif kind == "Flatten":
            source, _ = tensors[inbound[0]]
            tensors[layer_name] = (builder.flatten(source), 1)
        elif kind == "Dense":
            source, _ = tensors[inbound[0]]
            out = builder.dense(source, keras.weight(layer_name, "kernel"), keras.weight(layer_name, "bias"))
            tensors[layer_name] = (builder.softmax(out) if config["activation"] == "softmax" else out, 1)
        else:
            raise ValueError(f"unsupported Keras layer {kind}")
    output, _ = tensors[keras.layers[-1]["config"]["name"]]
    metadata = {"zooboard.name": name, **RECIPE.to_metadata()}
    return builder.build(output, "probabilities", 10, metadata)


def _materialise(builder: GraphBuilder, tensors: dict, pending_conv: dict, layer_name: str) -> tuple[str, int]:
    """A conv with no batch norm after it (the 1x1 shortcut) is emitted with its own bias."""
    if layer_name in pending_conv:
        source, kernel, bias, stride, pads, out_size = pending_conv.pop(layer_name)
        tensors[layer_name] = (builder.conv(source, kernel, bias, stride, pads), out_size)
    return tensors[layer_name]
