"""akamaster's CIFAR-10 ResNets (He et al. 2016, 'option A' shortcuts) from their legacy torch.save files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from evaluator.conversion.onnx_graph import GraphBuilder, fold_named_batch_norm
from plugins.recipe import IMAGENET_MEAN, IMAGENET_STD, Recipe

BN_EPS = 1e-5
RECIPE = Recipe(input_size=32, crop_pct=1.0, mean=IMAGENET_MEAN, std=IMAGENET_STD, output="logits")


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Reads {"best_prec1", "state_dict"} with torch's weights-only unpickler: no arbitrary objects are built."""
    import torch  # only the conversion needs torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    return {key.removeprefix("module."): value.numpy() for key, value in checkpoint["state_dict"].items()}


def _conv_bn(builder: GraphBuilder, x: str, weights: dict, conv: str, bn: str, stride: int) -> str:
    weight, bias = fold_named_batch_norm(weights, conv, bn, BN_EPS)
    return builder.conv(x, weight, bias, stride, pads=[1, 1, 1, 1])


def _basic_block(builder: GraphBuilder, x: str, weights: dict, prefix: str, stride: int, in_planes: int) -> str:
    planes = weights[f"{prefix}.conv1.weight"].shape[0]
    out = builder.relu(_conv_bn(builder, x, weights, f"{prefix}.conv1", f"{prefix}.bn1", stride))
    out = _conv_bn(builder, out, weights, f"{prefix}.conv2", f"{prefix}.bn2", 1)
    shortcut = x
    if stride != 1 or in_planes != planes:
        shortcut = builder.subsample_and_pad_channels(x, planes // 4)
    return builder.relu(builder.add(out, shortcut))


def convert(path: Path, name: str) -> onnx.ModelProto:
    weights = load_state_dict(path)
    builder = GraphBuilder("input", ["N", 3, 32, 32])
    x = builder.relu(_conv_bn(builder, "input", weights, "conv1", "bn1", 1))
    in_planes = 16
    for stage in (1, 2, 3):
        blocks = sorted({int(key.split(".")[1]) for key in weights if key.startswith(f"layer{stage}.")})
        for block in blocks:
            stride = 2 if stage > 1 and block == 0 else 1
            x = _basic_block(builder, x, weights, f"layer{stage}.{block}", stride, in_planes)
            in_planes = weights[f"layer{stage}.{block}.conv1.weight"].shape[0]
    x = builder.flatten(builder.global_average_pool(x))
    logits = builder.dense(x, weights["linear.weight"].T, weights["linear.bias"])
    metadata = {"zooboard.name": name, **RECIPE.to_metadata()}
    return builder.build(logits, "logits", 10, metadata)
