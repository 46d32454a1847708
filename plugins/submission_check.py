"""The submit-time check shared by the web form, the API and the evaluate command."""

from __future__ import annotations

from pathlib import Path

from plugins import registry
from plugins.contracts import ModelInfo
from plugins.errors import SubmissionError
from plugins.recipe import Recipe


def check_model(
    format_name: str, path: Path, num_classes: int, recipe_values: dict, testset_defaults: Recipe
) -> tuple[ModelInfo, Recipe]:
    """Inspects the model and resolves its recipe: submitted values over the model's own over the test set's."""
    try:
        model_format = registry.get("model_format", format_name)
    except LookupError as error:
        raise SubmissionError(str(error)) from None
    info = model_format.inspect(path, num_classes)
    recipe = Recipe.from_dict(recipe_values, base=Recipe.from_metadata(info.recipe_from_model, testset_defaults))
    height, width = (info.details.get("input_shape") or [None] * 4)[2:4]
    for side in (height, width):
        if isinstance(side, int) and side != recipe.input_size:
            raise SubmissionError(
                f"the model takes {height}x{width} images but the preprocessing gives "
                f"{recipe.input_size}x{recipe.input_size}; set the input size to match"
            )
    return info, recipe
