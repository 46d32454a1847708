"""The preprocessing recipe: merged in one place, refused with a sentence when malformed."""

from __future__ import annotations

import pytest

from plugins.errors import SubmissionError
from plugins.recipe import Recipe


def test_submitted_values_win_over_the_models_which_win_over_the_test_sets():
    testset = Recipe.from_dict({"input_size": 32, "crop_pct": 1.0})
    model = Recipe.from_metadata(
        {"zooboard.value_range": "255", "zooboard.mean": "0,0,0", "zooboard.name": "not a recipe key"}, testset
    )
    recipe = Recipe.from_dict({"mean": "1 2 3"}, model)
    assert (recipe.input_size, recipe.value_range, recipe.mean) == (32, 255.0, (1.0, 2.0, 3.0))


def test_metadata_round_trips():
    recipe = Recipe(
        input_size=64,
        resize="squash",
        crop_pct=0.9,
        interpolation="bicubic",
        mean=(1, 2, 3),
        std=(4, 5, 6),
        value_range=255.0,
        channel_order="BGR",
        output="probabilities",
    )
    assert Recipe.from_metadata(recipe.to_metadata()) == recipe


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"input_size": 4}, "input size must be between 8 and 1024 pixels, not 4"),
        ({"std": [1, 0, 1]}, "every std value must be positive, not [1.0, 0.0, 1.0]"),
        ({"mean": "1 2"}, "mean and std need three values each (R G B)"),
        ({"mean": "a b c"}, "malformed preprocessing value: could not convert string to float: 'a'"),
        ({"channel_order": "RBG"}, "channel order must be RGB or BGR, not 'RBG'"),
        ({"value_range": 100}, "value range must be 1 or 255, not 100.0"),
        ({"crop": 0.9}, "unknown preprocessing keys: crop"),
        ({"mean": [float("nan")] * 3}, "every mean value must be a finite number, not [nan, nan, nan]"),
        ({"mean": "0 inf 0"}, "every mean value must be a finite number, not [0.0, inf, 0.0]"),
        ({"std": [1, float("-inf"), 1]}, "every std value must be a finite number, not [1.0, -inf, 1.0]"),
        ({"input_size": float("inf")}, "input size must be a whole number of pixels, not inf"),
        ({"input_size": 32.5}, "input size must be a whole number of pixels, not 32.5"),
        ({"crop_pct": float("nan")}, "crop fraction must be between 0.05 and 1, not nan"),
    ],
)
def test_malformed_values_are_refused_with_a_sentence(values, message):
    with pytest.raises(SubmissionError) as error:
        Recipe.from_dict(values)
    assert str(error.value).startswith(message)


def test_the_cache_key_ignores_normalisation_but_not_geometry():
    base = Recipe(input_size=32)
    assert base.geometry_key() == Recipe(input_size=32, mean=(0, 0, 0), channel_order="BGR").geometry_key()
    assert base.geometry_key() != Recipe(input_size=32, interpolation="bicubic").geometry_key()
