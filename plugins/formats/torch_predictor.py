"""Runs a torch module as fast as its device allows.

uint8 pixels go through pinned memory to the device on a side stream, overlapped with the model's work, and are
normalised there (timm's PrefetchLoader). bfloat16 autocast, with channels_last on a GPU, is used only where it
leaves a float32 run's predictions on a sample intact; a timm model's classifier head stays in float32 even then,
so the stored probabilities keep their precision. A batch that does not fit raises DeviceOutOfMemory, so the
engine can go on with smaller ones. The loop and the normalisation run on the CPU in the tests; pinning and the
side stream are CUDA-only.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
from timm.data.loader import PrefetchLoader
from torch.utils.data import DataLoader, Dataset

from plugins.errors import DeviceOutOfMemory, SubmissionError
from plugins.precision import PRECISION_POLICIES
from plugins.predictions import check_scores_shape
from plugins.recipe import Recipe

# bfloat16 is kept only if at least this share of the sample keeps its float32 top-1 class.
MIN_TOP1_AGREEMENT = 0.99
# Small enough for any model that can be evaluated at all, before the run finds its own batch size.
PRECISION_SAMPLE_BATCH = 32
# A CUDA error that is not out-of-memory leaves the process's CUDA context unusable: not the submitter's fault.
_DEVICE_FAILURES = (torch.AcceleratorError,) if hasattr(torch, "AcceleratorError") else ()


class TorchPredictor:
    def __init__(self, model: torch.nn.Module, device: torch.device, num_classes: int):
        self.model, self.device, self.num_classes = model.eval(), device, num_classes
        self.precision = "float32"
        self.channels_last = False
        self.provider = f"torch {torch.__version__} on {device.type}"
        self._copy_stream = None  # one side stream for all loaders: the allocator pools blocks per stream
        if device.type == "cuda":
            # float32 means float32: cuDNN would otherwise run convolutions in TF32
            torch.backends.cudnn.allow_tf32 = False
            torch.cuda.reset_peak_memory_stats(device)
            self._copy_stream = torch.cuda.Stream(device=device)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """The plain contract (float32 NCHW in), for callers outside the engine's streaming."""
        try:
            with _model_errors():
                return self.forward(torch.from_numpy(batch).to(self.device)).float().cpu().numpy()
        except torch.OutOfMemoryError:
            pass
        self._release()
        raise DeviceOutOfMemory(0)

    def predict_into(
        self, pixels: np.ndarray, out: np.ndarray, recipe: Recipe, batch_size: int, on_batch: Callable[[int], None]
    ) -> None:
        # Scores stay on the device until the end: copying each batch back would make the host wait for the
        # device after every batch instead of preparing the next one.
        outputs, done, out_of_memory, inputs = [], 0, False, None
        channels = recipe.channel_indices()
        try:
            for inputs, _ in self._device_batches(pixels, recipe, batch_size):
                if channels != [0, 1, 2]:
                    inputs = inputs[:, channels]  # normalised in RGB order; reordered for the model here
                with _model_errors():
                    scores = self.forward(inputs)
                check_scores_shape(tuple(scores.shape), len(inputs), out.shape[1])
                if not outputs and self.device.type == "cuda":
                    torch.cuda.current_stream(self.device).synchronize()  # the first batch is done when it is
                outputs.append(scores)
                done += len(inputs)
                on_batch(done)
        except torch.OutOfMemoryError:
            out_of_memory = True  # raised below, once this handler has let go of the failed batch's tensors
        # only what is kept is copied back: after a cancellation or an error nothing is
        position = 0
        for scores in outputs:
            out[position : position + len(scores)] = scores.cpu().float().numpy()
            position += len(scores)
        if out_of_memory:
            del outputs, inputs
            self._release()
            raise DeviceOutOfMemory(done)

    def settle_precision(
        self, sample: Callable[[], tuple[np.ndarray, np.ndarray | None]], recipe: Recipe, policy: str
    ) -> dict:
        """Tries bfloat16 (and channels_last on a GPU) against float32 on sample() = (pixels, targets or None);
        keeps it if top-1 agrees. The sample is only read when there is something to try."""
        if policy not in PRECISION_POLICIES:
            raise ValueError(f"precision policy must be one of {', '.join(PRECISION_POLICIES)}, not {policy!r}")
        if policy == "float32" or (policy == "auto" and not self._bfloat16_is_native()):
            reason = "asked for" if policy == "float32" else "bfloat16 is used on GPUs with native support only"
            return {"precision": "float32", "reason": reason}
        pixels, targets = sample()
        if not len(pixels):
            return {"precision": "float32", "reason": "the test set is empty"}
        try:
            # a model that fails in float32 too raises here: the submitter sees the same error as in a full run
            reference = self._sample_scores(pixels, recipe, "float32", channels_last=False)
            try:
                trial = self._sample_scores(pixels, recipe, "bfloat16", channels_last=self.device.type == "cuda")
            except (RuntimeError, SubmissionError) as error:  # the model does not allow bfloat16
                self._use("float32", channels_last=False)
                first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
                return {"precision": "float32", "candidate": "bfloat16", "reason": f"bfloat16 failed: {first_line}"}
        except DeviceOutOfMemory:
            self._use("float32", channels_last=False)
            return {"precision": "float32", "candidate": "bfloat16", "reason": "the sample did not fit in memory"}
        agreement = float((reference.argmax(1) == trial.argmax(1)).mean())
        record = {"candidate": "bfloat16", "sample": len(pixels), "top1_agreement": round(agreement, 4)}
        if targets is not None:
            record["sample_top1"] = {
                "float32": round(float((reference.argmax(1) == targets).mean()), 4),
                "bfloat16": round(float((trial.argmax(1) == targets).mean()), 4),
            }
        if not np.isfinite(trial).all():
            reason = "bfloat16 gave NaN or infinite scores"
        elif agreement < MIN_TOP1_AGREEMENT:
            reason = f"bfloat16 kept only {agreement:.1%} of top-1 classes"
        else:
            self._use("bfloat16", channels_last=self.device.type == "cuda")
            return {"precision": "bfloat16", "channels_last": self.channels_last, **record}
        self._use("float32", channels_last=False)
        return {"precision": "float32", "reason": reason, **record}

    def peak_memory(self) -> dict | None:
        if self.device.type != "cuda":
            return None
        return {"bytes": torch.cuda.max_memory_allocated(self.device), "kind": "device"}

    def close(self) -> None:
        """Gives the device memory back, so the worker's next task (maybe onnxruntime) finds it free."""
        self.model = None
        self._release()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Device tensor in, float32 device scores out, at the settled precision and memory format."""
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        inputs = inputs.contiguous(memory_format=memory_format)
        bfloat16 = self.precision == "bfloat16"
        split = bfloat16 and hasattr(self.model, "forward_features") and hasattr(self.model, "forward_head")
        with torch.inference_mode():
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bfloat16):
                if not split:
                    return self.model(inputs).float()
                features = self.model.forward_features(inputs)
            # timm's classifier head in float32: bfloat16 logits would coarsen every stored probability
            return self.model.forward_head(features.float()).float()

    def _bfloat16_is_native(self) -> bool:
        # without including_emulation=False, torch also says yes on GPUs that only emulate bfloat16, slowly
        return self.device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False)

    def _use(self, precision: str, channels_last: bool) -> None:
        self.precision, self.channels_last = precision, channels_last
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = self.model.to(memory_format=memory_format)

    def _sample_scores(self, sample: np.ndarray, recipe: Recipe, precision: str, channels_last: bool) -> np.ndarray:
        self._use(precision, channels_last)
        scores = np.empty((len(sample), self.num_classes), np.float32)
        self.predict_into(sample, scores, recipe, PRECISION_SAMPLE_BATCH, lambda done: None)
        return scores

    def _device_batches(self, pixels: np.ndarray, recipe: Recipe, batch_size: int) -> PrefetchLoader:
        # PrefetchLoader computes (pixel - mean * 255) / (std * 255); our stats are RGB, in value_range units
        mean = [value / recipe.value_range for value in recipe.mean]
        std = [value / recipe.value_range for value in recipe.std]
        loader = DataLoader(
            _PixelBatches(pixels, batch_size),
            batch_size=None,  # the dataset hands out whole batches: slicing the memmap beats per-image collation
            num_workers=0,  # a Celery pool process is a daemon and may not fork loader workers
            pin_memory=self.device.type == "cuda",
        )
        prefetcher = PrefetchLoader(loader, mean=mean, std=std, device=self.device)
        prefetcher.stream = self._copy_stream
        return prefetcher

    def _release(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


class _PixelBatches(Dataset):
    """Batch i of a uint8 [N, S, S, 3] array as an NCHW view of its NHWC memory (channels_last), not copied:
    pinning copies it once on a GPU, and the float conversion does on the CPU."""

    def __init__(self, pixels: np.ndarray, batch_size: int):
        self.pixels, self.batch_size = pixels, batch_size
        self.no_target = torch.empty(0)

    def __len__(self) -> int:
        return math.ceil(len(self.pixels) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        chunk = self.pixels[index * self.batch_size : (index + 1) * self.batch_size]
        with warnings.catch_warnings():
            # a read-only memmap slice: torch warns that writing to it would fail, and nothing here writes to it
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(chunk).permute(0, 3, 1, 2), self.no_target


@contextlib.contextmanager
def _model_errors():
    """A failure inside the submitter's model is theirs to fix; running out of memory, or a broken device, is not."""
    try:
        yield
    except torch.OutOfMemoryError:
        raise
    except _DEVICE_FAILURES:
        raise
    except RuntimeError as error:
        raise SubmissionError(f"the model failed while running: {str(error).splitlines()[0]}") from None
