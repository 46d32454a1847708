"""timm models by name: timm:<architecture>[.<pretrained tag>], with the submitter's safetensors weights or
pretrained weights from a local cache. Nothing is ever downloaded; pickled checkpoints are refused.

A tag timm does not know is accepted where the operator's folder holds it in the Hugging Face layout timm
reads (`<architecture>.<tag>/config.json` and `model.safetensors`, as evaluator/conversion writes them): the
model is then built with that folder's pretrained configuration, so its recipe comes from there."""

from __future__ import annotations

import difflib
import os
import re
import warnings
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
        if tag not in tags and local_config_folder(architecture, tag) is None:
            listed = ", ".join(tags[:8]) or "none"
            raise SubmissionError(f"timm has no pretrained tag {tag!r} for {architecture}; known tags: {listed}")
    return architecture, tag


def _registered(name: str) -> bool:
    """Whether the installed timm knows this architecture.tag (its characters were checked: no wildcards)."""
    import timm

    return name in timm.list_pretrained(name)


def local_config_folder(architecture: str, tag: str) -> Path | None:
    """$ZOOBOARD_TIMM_WEIGHTS_DIR/<architecture>.<tag>/ where it holds a config.json (for tags timm does not know)."""
    folder = os.environ.get(WEIGHTS_DIR_VARIABLE)
    candidate = Path(folder) / f"{architecture}.{tag}" if folder else None
    return candidate if candidate is not None and (candidate / "config.json").is_file() else None


def _family(architecture: str) -> str:
    """The timm module that defines the architecture (resnet18 -> "resnet"): the boards' architecture family."""
    from timm.models import is_model_in_modules, list_modules

    return next((module for module in list_modules() if is_model_in_modules(architecture, [module])), "")


def _create(architecture: str, tag: str | None, num_classes: int, device: str):
    """The architecture with its pretrained configuration; on "meta" it has shapes but no weights (cheap)."""
    import timm
    import torch

    name = f"{architecture}.{tag}" if tag else architecture
    folder = local_config_folder(architecture, tag) if tag and not _registered(name) else None
    if folder is not None:
        name = f"local-dir:{folder}"  # timm reads the folder's config.json; pretrained=False loads no weights
        _check_folder_architecture(folder, architecture)
    with torch.device(device):
        return timm.create_model(name, pretrained=False, num_classes=num_classes)


def _check_folder_architecture(folder: Path, architecture: str) -> None:
    from timm.models._hub import load_model_config_from_path

    try:
        _, built, _ = load_model_config_from_path(folder)
    except (ValueError, KeyError, TypeError):
        raise SubmissionError(f"the operator's {folder.name}/config.json is not timm's configuration") from None
    if built != architecture:
        raise SubmissionError(f"the operator's {folder.name}/config.json is for {built}, not {architecture}")


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


def _shapes_on_meta(path: Path) -> dict:
    """The file's tensors as meta tensors of their shapes, read from its header alone (no weights are read).
    load_state_dict copies whatever the dtype, casting, so float32 stands for every dtype."""
    import torch

    return {key: torch.empty(shape, device="meta") for key, shape in _safetensors_shapes(path).items()}


SIZE_MISMATCH = re.compile(
    r"size mismatch for (?P<key>\S+): copying a param with shape torch\.Size\((?P<given>\[[^\]]*\])\) "
    r"from checkpoint, the shape in current model is torch\.Size\((?P<needed>\[[^\]]*\])\)\."
)


def load_problems(model, state_dict: dict) -> list[str]:
    """Loads state_dict into model as load_state_dict(strict=True) would, and returns what it would refuse, by
    tensor name; empty when it accepts. torch decides, not a copy of its rules: BatchNorm tolerates a missing
    num_batches_tracked (in a state dict without torch's version metadata, as a safetensors file is),
    non-persistent buffers are never expected, and a module's own load hooks apply. On a meta model with meta
    tensors (the file's shapes) it costs nothing."""
    incompatible = {}

    def record(module, keys) -> None:  # registered last: sees the keys after the model's own hooks
        incompatible["missing"], incompatible["unexpected"] = sorted(keys.missing_keys), sorted(keys.unexpected_keys)

    handle = model.register_load_state_dict_post_hook(record)
    try:
        with warnings.catch_warnings():  # BatchNorm puts a real counter into a meta model: a no-op, as meant
            warnings.filterwarnings("ignore", "for .*: copying from a non-meta parameter", UserWarning)
            model.load_state_dict(state_dict, strict=False)  # the same checks; missing and unexpected come back
        messages = []
    except RuntimeError as error:
        messages = str(error).split("\n\t")[1:]  # torch's own messages, one a line after its heading
    finally:
        handle.remove()
    problems = []
    for message in messages:
        mismatch = SIZE_MISMATCH.fullmatch(message.strip())
        problems.append(
            f"{mismatch['key']} has shape {mismatch['given']}, the model needs {mismatch['needed']}"
            if mismatch
            else message.strip()
        )
    missing, unexpected = incompatible.get("missing", []), incompatible.get("unexpected", [])
    if missing:
        problems.append(_tensors(missing, "is missing", "are missing"))
    if unexpected:
        problems.append(_tensors(unexpected, "is not in the model", "are not in the model"))
    return problems


def _tensors(names: list[str], one: str, several: str) -> str:
    if len(names) == 1:
        return f"1 tensor {one}: {names[0]}"
    return f"{len(names)} tensors {several} (e.g. {', '.join(names[:3])})"


def _check_weights_fit(model, state_dict: dict, name: str, num_classes: int) -> None:
    problems = load_problems(model, state_dict)
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

    config = get_pretrained_cfg(name) if _registered(name) else None
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


@register("model_format")
class TimmFormat:
    name = "timm"
    file_suffix = ".safetensors"

    def inspect(self, source: ModelSource, num_classes: int) -> ModelInfo:
        architecture, tag = parse_identifier(source.identifier)
        model = _create(architecture, tag, num_classes, "meta")
        tag = tag or model.pretrained_cfg.get("tag")
        if source.file is not None:
            _check_weights_fit(model, _shapes_on_meta(source.file), architecture, num_classes)
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
        _safetensors_shapes(path)  # a pickle is refused before safetensors reads it
        _check_weights_fit(model, load_file(str(path)), architecture, num_classes)  # loads them, as strict=True
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return TorchPredictor(model.eval().to(device), device, num_classes)
