"""A model format whose model breaks the GPU context when it runs, as an illegal memory access in a CUDA kernel
would: torch raises AcceleratorError. A worker imports it with `celery worker --include`."""

from __future__ import annotations

import torch

from plugins.contracts import ModelInfo, ModelSource
from plugins.registry import register


@register("model_format", "device-failure")
class DeviceFailure:
    name = "device-failure"
    file_suffix = ".bin"

    def inspect(self, source: ModelSource, num_classes: int) -> ModelInfo:
        return ModelInfo(num_classes, recipe_from_model={"input_size": 32})

    def load(self, source: ModelSource, recipe, num_classes: int) -> BrokenDevice:
        return BrokenDevice()


class BrokenDevice:
    provider = "torch on a broken device"

    def predict(self, batch):
        raise torch.AcceleratorError("CUDA error: an illegal memory access was encountered")
