"""The submit-time check shared by the web form, the API, `manage.py submit` and `manage.py evaluate`."""

from __future__ import annotations

from pathlib import Path

from plugins import registry
from plugins.contracts import ModelInfo, ModelSource
from plugins.errors import SubmissionError
from plugins.recipe import Recipe


def source_from_argument(model: str, weights: Path | None) -> ModelSource:
    """A command-line MODEL: a file (an ONNX model) or an identifier with a format prefix (timm:resnet18)."""
    if ":" in model and not Path(model).exists():
        return ModelSource(weights, model)
    if weights is not None:
        raise SubmissionError("--weights goes with an identifier such as timm:resnet18, not with a model file")
    return ModelSource(Path(model))


def format_for(source: ModelSource, format_name: str = "") -> str:
    """The format named, else the identifier's prefix (timm:resnet18 -> timm), else ONNX for a bare file."""
    if format_name:
        return format_name
    if ":" in source.identifier:
        return source.identifier.split(":", 1)[0]
    if source.identifier:
        raise SubmissionError(f"say which kind of model {source.identifier!r} is, e.g. timm:{source.identifier}")
    return "onnx"


def check_model(
    format_name: str, source: ModelSource, num_classes: int, recipe_values: dict, testset_defaults: Recipe
) -> tuple[ModelInfo, Recipe]:
    """Inspects the model and resolves its recipe: submitted values over the model's own over the test set's."""
    try:
        model_format = registry.get("model_format", format_name)
    except LookupError as error:
        raise SubmissionError(str(error)) from None
    Recipe.from_dict(recipe_values, base=testset_defaults)  # the submitter's own values, before parsing any model
    info = model_format.inspect(source, num_classes)
    recipe = Recipe.from_dict(recipe_values, base=Recipe.from_dict(info.recipe_from_model, testset_defaults))
    height, width = (info.details.get("input_shape") or [None] * 4)[2:4]
    for side in (height, width):
        if isinstance(side, int) and side != recipe.input_size:
            raise SubmissionError(
                f"the model takes {height}x{width} images but the preprocessing gives "
                f"{recipe.input_size}x{recipe.input_size}; set the input size to match"
            )
    return info, recipe
