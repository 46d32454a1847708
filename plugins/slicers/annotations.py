"""Slices from a test set's per-example annotations (ImageNet: ImageNet-X factors and the images that
ViT-3B or Greedy Soups got wrong, by category and severity)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plugins.registry import register
from plugins.testset import TestSetManifest, read_annotations

MISTAKE_MODELS = ("vit3b", "greedy_soups")


@register("slicer")
class ByTopFactor:
    """The factor of variation annotators named first (Idrissi et al. 2022); unannotated images in none."""

    name = "imagenet_x_top_factor"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        arrays = read_annotations(root, manifest)
        if "imagenet_x_top" not in arrays:
            return {}
        top = arrays["imagenet_x_top"]
        return {factor: top == index for index, factor in enumerate(manifest.annotations["names"]["imagenet_x"])}


@register("slicer")
class ByAnyFactor:
    """Every factor annotators marked: an image with several is in several slices."""

    name = "imagenet_x_factor"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        arrays = read_annotations(root, manifest)
        if "imagenet_x_factors" not in arrays:
            return {}
        marked = arrays["imagenet_x_factors"]
        return {factor: marked[:, index] for index, factor in enumerate(manifest.annotations["names"]["imagenet_x"])}


@register("slicer")
class ByMistakeCategory:
    """Images a strong model got wrong (Vasudevan et al. 2022), by category and by severity; the images that
    either model got wrong in a major way form the major-mistakes slice."""

    name = "mistakes"

    def slices(self, root: Path, manifest: TestSetManifest) -> dict[str, np.ndarray]:
        arrays, names = read_annotations(root, manifest), manifest.annotations.get("names", {})
        slices, major = {}, None
        for model in MISTAKE_MODELS:
            if f"{model}_category" not in arrays:
                continue
            category, severity = arrays[f"{model}_category"], arrays[f"{model}_severity"]
            for index, name in enumerate(names[f"{model}_category"]):
                slices[f"{model}: {name}"] = category == index
            for index, name in enumerate(names["severity"]):
                slices[f"{model}: {name.lower()}"] = severity == index
            is_major = severity == names["severity"].index("Major")
            major = is_major if major is None else major | is_major
        if major is not None:
            slices["major-mistakes"] = major
        return slices
