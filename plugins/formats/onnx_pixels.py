"""Puts the recipe's normalisation in front of an ONNX graph, so that onnxruntime takes uint8 [N, S, S, 3] pixels
and normalises them on its own device: a quarter of float32's bytes cross to a GPU, and the host does nothing
but slice the pixel cache. On the CPU the same graph runs, so the tests exercise what a GPU worker runs."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from plugins.recipe import Recipe


def with_pixel_input(model: onnx.ModelProto, image_input: str, recipe: Recipe) -> str:
    """Changes model in place so that its input image_input (float32 NCHW) is computed from a new uint8 NHWC
    input; returns the new input's name.

    The maths is the host's (evaluator/engine/batches.py): pixel * scale + offset in float32, per channel."""
    graph = model.graph
    original = next(value for value in graph.input if value.name == image_input)
    batch_dim = original.type.tensor_type.shape.dim[0]
    batch = batch_dim.dim_value if batch_dim.HasField("dim_value") else (batch_dim.dim_param or "N")
    size = recipe.input_size
    names = _fresh_names(graph, ["pixels", "as_float", "reordered", "scale", "offset", "scaled", "shifted", "channels"])

    channels = recipe.channel_indices()
    scale, offset = recipe.scale_and_offset()
    nodes = [helper.make_node("Cast", [names["pixels"]], [names["as_float"]], to=TensorProto.FLOAT)]
    source = names["as_float"]
    if channels != [0, 1, 2]:
        nodes.append(helper.make_node("Gather", [source, names["channels"]], [names["reordered"]], axis=3))
        source = names["reordered"]
    nodes += [
        helper.make_node("Mul", [source, names["scale"]], [names["scaled"]]),
        helper.make_node("Add", [names["scaled"], names["offset"]], [names["shifted"]]),
        helper.make_node("Transpose", [names["shifted"]], [image_input], perm=[0, 3, 1, 2]),
    ]
    graph.initializer.extend(
        [
            numpy_helper.from_array(scale.reshape(1, 1, 1, 3), names["scale"]),
            numpy_helper.from_array(offset.reshape(1, 1, 1, 3), names["offset"]),
            numpy_helper.from_array(np.array(channels, np.int64), names["channels"]),
        ]
    )
    position = list(graph.input).index(original)
    graph.input.remove(original)
    pixels = helper.make_tensor_value_info(names["pixels"], TensorProto.UINT8, [batch, size, size, 3])
    graph.input.insert(position, pixels)
    nodes.extend(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return names["pixels"]


def _fresh_names(graph: onnx.GraphProto, wanted: list[str]) -> dict[str, str]:
    """Names for our tensors that no tensor of the submitted graph already has."""
    taken = {value.name for value in [*graph.input, *graph.output, *graph.value_info]}
    taken |= {tensor.name for tensor in graph.initializer}
    taken |= {name for node in graph.node for name in [*node.input, *node.output]}
    prefix = "zooboard_"
    while any(name.startswith(prefix) for name in taken):
        prefix += "_"
    return {name: prefix + name for name in wanted}
