"""timm models by name: timm:<architecture>[.<pretrained tag>], with the submitter's safetensors weights or
pretrained weights from a local cache. Nothing is ever downloaded; pickled checkpoints are refused."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

from plugins.contracts import ModelInfo, ModelSource
from plugins.errors import SubmissionError
from plugins.registry import register

PREFIX = "timm:"
NAME = re.compile(r"([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?")
WEIGHTS_DIR_VARIABLE = "ZOOBOARD_TIMM_WEIGHTS_DIR"
CROP_MODES = {"center": "shorter", "squash": "squash"}


def parse_identifier(identifier: str) -> tuple[str, str | None]:
    """timm:resnet18.a1_in1k -> ("resnet18", "a1_in1k"), checked against the installed timm's registry."""
    import timm

    name = identifier.removeprefix(PREFIX)
    match = NAME.fullmatch(name)
    if not identifier.startswith(PREFIX) or not match:
        raise SubmissionError(
            f"{identifier!r} is not a timm identifier: write timm:ARCHITECTURE[.TAG] with letters, "
            "digits and underscores only, e.g. timm:resnet18.a1_in1k"
        )
    architecture, tag = match.groups()
    if not timm.is_model(architecture):
        nearest = difflib.get_close_matches(architecture, timm.list_models(), n=3, cutoff=0.6)
        hint = f"; nearest: {', '.join(nearest)}" if nearest else ""
        raise SubmissionError(f"timm {timm.__version__} has no architecture named {architecture!r}{hint}")
    if tag is not None:
        tags = [known.split(".", 1)[1] for known in timm.list_pretrained(f"{architecture}.*")]
        if tag not in tags:
            listed = ", ".join(tags[:8]) or "none"
            raise SubmissionError(f"timm has no pretrained tag {tag!r} for {architecture}; known tags: {listed}")
    return architecture, tag


def _family(architecture: str) -> str:
    """The timm module that defines the architecture (resnet18 -> "resnet"): the boards' architecture family."""
    from timm.models import is_model_in_modules, list_modules

    return next((module for module in list_modules() if is_model_in_modules(architecture, [module])), "")


def _create(architecture: str, tag: str | None, num_classes: int, device: str):
    """The architecture with its pretrained configuration; on "meta" it has shapes but no weights (cheap)."""
    import timm
    import torch

    name = f"{architecture}.{tag}" if tag else architecture
    with torch.device(device):
        return timm.create_model(name, pretrained=False, num_classes=num_classes)


def _safetensors_shapes(path: Path) -> dict[str, list[int]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as weights:
            return {key: list(weights.get_slice(key).get_shape()) for key in weights.keys()}  # noqa: SIM118
    except Exception:
        raise SubmissionError(
            "the weights file is not a safetensors file; pickled checkpoints (.pth, .pt, .bin) "
            "are refused: save the state dict with safetensors.torch.save_file"
        ) from None


def _check_weights_fit(path: Path, model, name: str, num_classes: int) -> None:
    given = _safetensors_shapes(path)
    needed = {key: list(tensor.shape) for key, tensor in model.state_dict().items()}
    problems = [
        f"{key} has shape {given[key]}, the model needs {shape}"
        for key, shape in needed.items()
        if key in given and given[key] != shape
    ]
    missing, unexpected = sorted(set(needed) - set(given)), sorted(set(given) - set(needed))
    if missing:
        problems.append(f"{len(missing)} tensors are missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} tensors are not in the model (e.g. {', '.join(unexpected[:3])})")
    if problems:
        raise SubmissionError(
            f"the weights do not fit timm's {name} with {num_classes} classes: " + "; ".join(problems[:4])
        )


def local_pretrained_weights(architecture: str, tag: str) -> Path | None:
    """model.safetensors for architecture.tag from the operator's folder or the Hugging Face cache, if present."""
    name = f"{architecture}.{tag}"
    folder = os.environ.get(WEIGHTS_DIR_VARIABLE)
    if folder:
        for candidate in (Path(folder) / name / "model.safetensors", Path(folder) / f"{name}.safetensors"):
            if candidate.is_file():
                return candidate
    from huggingface_hub import try_to_load_from_cache
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(name)
    hub_id = config.hf_hub_id if config else None
    cached = try_to_load_from_cache(hub_id, "model.safetensors") if hub_id else None
    return Path(cached) if isinstance(cached, str) else None


def _recipe_values(model) -> dict:
    """The pretrained configuration as timm's own validate.py resolves it, in our recipe's terms."""
    from timm.data import resolve_model_data_config

    config = resolve_model_data_config(model)
    _, height, width = config["input_size"]
    if height != width:
        raise SubmissionError(f"timm's configuration asks for {height}x{width} input; only square inputs are supported")
    return {
        "input_size": height,
        "crop_pct": config["crop_pct"],
        "interpolation": config["interpolation"],
        "mean": list(config["mean"]),
        "std": list(config["std"]),
        "resize": CROP_MODES.get(config.get("crop_mode", "center"), "shorter"),
    }


@register("model_format", "timm")
class TimmFormat:
    name = "timm"
    file_suffix = ".safetensors"

    def inspect(self, source: ModelSource, num_classes: int) -> ModelInfo:
        architecture, tag = parse_identifier(source.identifier)
        model = _create(architecture, tag, num_classes, "meta")
        tag = tag or model.pretrained_cfg.get("tag")
        if source.file is not None:
            _check_weights_fit(source.file, model, architecture, num_classes)
            weights = "submitted safetensors"
        else:
            weights = f"{architecture}.{tag}"
            self._pretrained_file(architecture, tag, model, num_classes)
        input_shape = ["N", 3, "H", "W"]
        if model.pretrained_cfg.get("fixed_input_size"):
            input_shape = ["N", *model.pretrained_cfg["input_size"]]
        return ModelInfo(
            num_classes=num_classes,
            recipe_from_model=_recipe_values(model),
            details={
                "architecture": architecture,
                "pretrained_config": f"{architecture}.{tag}",
                "weights": weights,
                "parameters": sum(parameter.numel() for parameter in model.parameters()),
                "input_shape": input_shape,
            },
            name=source.identifier if source.file is None else "",
            family=_family(architecture),
        )

    def cost(self, source: ModelSource, recipe, num_classes: int) -> dict:
        """Parameters and MACs per image, counted by torch's FlopCounterMode on the meta device (no weights)."""
        import torch
        from torch.utils.flop_counter import FlopCounterMode

        architecture, tag = parse_identifier(source.identifier)
        model = _create(architecture, tag, num_classes, "meta").eval()
        image = torch.empty(1, 3, recipe.input_size, recipe.input_size, device="meta")
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(image)
        return {
            "parameters": sum(parameter.numel() for parameter in model.parameters()),
            "macs": counter.get_total_flops() // 2,  # it counts a multiply-accumulate as two operations
        }

    def _pretrained_file(self, architecture: str, tag: str | None, model, num_classes: int) -> Path:
        pretrained_classes = model.pretrained_cfg.get("num_classes")
        if pretrained_classes != num_classes:
            raise SubmissionError(
                f"timm's pretrained {architecture}.{tag} predicts {pretrained_classes} classes; "
                f"this test set has {num_classes}: upload safetensors weights with a "
                f"{num_classes}-class head"
            )
        path = local_pretrained_weights(architecture, tag)
        if path is None:
            raise SubmissionError(
                f"no local weights for timm:{architecture}.{tag}, and nothing is downloaded at "
                f"evaluation time: the operator must put model.safetensors in "
                f"${WEIGHTS_DIR_VARIABLE}/{architecture}.{tag}/ or fill the Hugging Face cache; "
                "or upload your own safetensors weights"
            )
        return path

    def load(self, source: ModelSource, recipe, num_classes: int):
        import torch
        from safetensors.torch import load_file

        from plugins.formats.torch_predictor import TorchPredictor

        architecture, tag = parse_identifier(source.identifier)
        # built for real (not from meta) so that buffers computed at construction are right
        model = _create(architecture, tag, num_classes, "cpu")
        tag = tag or model.pretrained_cfg.get("tag")
        path = source.file or self._pretrained_file(architecture, tag, model, num_classes)
        _check_weights_fit(path, model, architecture, num_classes)
        model.load_state_dict(load_file(str(path)), strict=True)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return TorchPredictor(model.eval().to(device), device, num_classes)
