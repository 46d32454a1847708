"""The torch streaming path (pinned-memory loader, normalisation on the device, precision check) and the batch
back-off on out-of-memory, on the CPU: the same code a GPU worker runs, with the device being the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch

from evaluator.engine.batches import normalised_batches
from evaluator.engine.pixel_cache import cached_pixels
from evaluator.engine.run import run_model
from evaluator.engine.streaming import stream_scores
from plugins.errors import DeviceOutOfMemory, SubmissionError
from plugins.formats.torch_predictor import TorchPredictor
from plugins.recipe import Recipe
from plugins.testset import LabelSetData, TestSetManifest
from tests.helpers import CAFFE

RECIPE = Recipe(input_size=32, crop_pct=1.0, mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26))


@pytest.fixture(scope="module")
def pixels(cifar10_root):
    manifest = TestSetManifest.load(cifar10_root)
    return np.asarray(cached_pixels(cifar10_root, manifest, RECIPE)[:600])


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return timm.create_model("resnet18", num_classes=10).eval()


class Plain:
    """A predictor with only the plain contract, wrapping a torch model: float32 NCHW in, scores out."""

    provider = "plain"

    def __init__(self, model, fits: int | None = None):
        self.model, self.fits, self.batch_sizes = model, fits, []

    def predict(self, batch):
        self.batch_sizes.append(len(batch))
        if self.fits is not None and len(batch) > self.fits:
            raise DeviceOutOfMemory()
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch)).numpy()


class RunsOutAbove(torch.nn.Module):
    """Raises torch's own out-of-memory error for batches above a size, as a GPU would."""

    def __init__(self, model, fits: int):
        super().__init__()
        self.model, self.fits, self.num_classes = model, fits, 10

    def forward(self, inputs):
        if len(inputs) > self.fits:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.model(inputs)


def reference_scores(model, pixels, recipe) -> np.ndarray:
    """float32 scores through our numpy normaliser and a plain forward pass, batch by batch."""
    with torch.inference_mode():
        return np.concatenate(
            [model(torch.from_numpy(batch)).numpy() for _, batch in normalised_batches(pixels, recipe, 100)]
        )


@pytest.mark.parametrize("recipe", [RECIPE, CAFFE], ids=["RGB 0-1", "BGR 0-255"])
def test_on_device_normalisation_gives_the_scores_of_host_normalisation(model, pixels, recipe):
    streamed = np.empty((len(pixels), 10), np.float32)
    done = []
    TorchPredictor(model, torch.device("cpu"), 10).predict_into(pixels, streamed, recipe, 128, done.append)
    assert done == [128, 256, 384, 512, 600]
    np.testing.assert_allclose(streamed, reference_scores(model, pixels, recipe), rtol=1e-4, atol=1e-4)


def test_a_plain_predictor_backs_off_to_a_batch_that_fits_and_loses_nothing(model, pixels):
    expected = reference_scores(model, pixels, RECIPE)
    predictor = Plain(model, fits=100)
    progress = []
    scores, batch_size = stream_scores(predictor, pixels, RECIPE, 10, 256, progress.append)
    assert batch_size == 64
    assert predictor.batch_sizes[:3] == [256, 128, 64]
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    assert progress == sorted(progress) and progress[-1] == len(pixels)


def test_the_torch_path_backs_off_on_torchs_out_of_memory_error(model, pixels):
    expected = reference_scores(model, pixels, RECIPE)
    predictor = TorchPredictor(RunsOutAbove(model, fits=150), torch.device("cpu"), 10)
    predictions, batch_size = run_model(predictor, pixels, RECIPE, 10, 512)
    assert batch_size == 128
    reference = torch.log_softmax(torch.from_numpy(expected).double(), 1).numpy()
    np.testing.assert_allclose(predictions.log_probs(), reference, atol=1e-4)


class RunsOutOnCall(torch.nn.Module):
    def __init__(self, model, failing_call: int):
        super().__init__()
        self.model, self.failing_call, self.calls, self.num_classes = model, failing_call, 0, 10

    def forward(self, inputs):
        self.calls += 1
        if self.calls == self.failing_call:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return self.model(inputs)


def test_out_of_memory_midway_keeps_the_batches_already_done(model, pixels):
    predictor = TorchPredictor(RunsOutOnCall(model, failing_call=3), torch.device("cpu"), 10)
    out = np.full((300, 10), np.nan, np.float32)
    with pytest.raises(DeviceOutOfMemory) as raised:
        predictor.predict_into(pixels[:300], out, RECIPE, 100, lambda done: None)
    assert raised.value.done == 200
    np.testing.assert_allclose(out[:200], reference_scores(model, pixels[:200], RECIPE), rtol=1e-4, atol=1e-4)
    assert np.isnan(out[200:]).all()


def test_a_model_that_never_fits_gets_a_clear_error(model, pixels):
    with pytest.raises(SubmissionError, match="does not fit in the device's memory, even one image at a time"):
        stream_scores(Plain(model, fits=0), pixels[:10], RECIPE, 10, 8)


def sample_targets(cifar10_root, indices):
    manifest = TestSetManifest.load(cifar10_root)
    return LabelSetData.load(cifar10_root, manifest.current_label_set("original")).targets[indices]


def test_bfloat16_is_kept_when_it_agrees_with_float32_and_the_check_is_recorded(model, pixels, cifar10_root):
    sample = pixels[:256]
    targets = sample_targets(cifar10_root, np.arange(256))
    predictor = TorchPredictor(model, torch.device("cpu"), 10)
    record = predictor.settle_precision(lambda: (sample, targets), RECIPE, "bfloat16")

    # independently: float32 through the numpy normaliser; bfloat16 features under torch's autocast, then
    # timm's head in float32
    float32 = reference_scores(model, sample, RECIPE).argmax(1)
    batches = [torch.from_numpy(batch) for _, batch in normalised_batches(sample, RECIPE, 256)]
    with torch.inference_mode():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            features = [model.forward_features(batch) for batch in batches]
        bfloat16 = np.concatenate([model.forward_head(f.float()).numpy() for f in features]).argmax(1)
    agreement = (float32 == bfloat16).mean()
    assert record["top1_agreement"] == pytest.approx(agreement, abs=1 / 256)
    assert record["sample"] == 256
    assert record["sample_top1"]["float32"] == pytest.approx((float32 == targets).mean(), abs=1e-4)
    assert agreement >= 0.99  # this model's top-1 survives bfloat16 on the sample (checked independently)
    assert record["precision"] == "bfloat16"
    assert predictor.precision == record["precision"]


class Fragile(torch.nn.Module):
    """Logits 1000 + small differences: bfloat16 (8 significant bits) rounds them all to the same value."""

    def __init__(self):
        super().__init__()
        self.num_classes = 10
        self.head = torch.nn.Linear(3, 10)
        with torch.no_grad():
            self.head.weight.copy_(torch.linspace(-0.01, 0.01, 30).reshape(10, 3))
            self.head.bias.fill_(1000.0)

    def forward(self, inputs):
        return self.head(inputs.mean(dim=(2, 3)))


def test_bfloat16_is_refused_where_it_changes_predictions(pixels):
    predictor = TorchPredictor(Fragile(), torch.device("cpu"), 10)
    record = predictor.settle_precision(lambda: (pixels[:200], None), RECIPE, "bfloat16")
    assert record["precision"] == "float32" and predictor.precision == "float32"
    assert record["top1_agreement"] < 0.99
    assert record["reason"].startswith("bfloat16 kept only")


def test_auto_stays_in_float32_on_a_cpu_without_running_the_check(model, pixels):
    predictor = TorchPredictor(RunsOutOnCall(model, failing_call=1), torch.device("cpu"), 10)

    def sample():
        raise AssertionError("the sample is read only when there is something to try")

    record = predictor.settle_precision(sample, RECIPE, "auto")
    assert record == {"precision": "float32", "reason": "bfloat16 is used on GPUs with native support only"}
    assert predictor.model.calls == 0


class NoBfloat16(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model, self.num_classes = model, 10

    def forward(self, inputs):
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("this layer has no bfloat16 kernel")
        return self.model(inputs)


def test_a_model_that_fails_in_bfloat16_runs_in_float32(model, pixels):
    predictor = TorchPredictor(NoBfloat16(model), torch.device("cpu"), 10)
    record = predictor.settle_precision(lambda: (pixels[:64], None), RECIPE, "bfloat16")
    assert record == {
        "precision": "float32",
        "candidate": "bfloat16",
        "reason": "bfloat16 failed: the model failed while running: this layer has no bfloat16 kernel",
    }
    assert predictor.precision == "float32"
    predictions, _ = run_model(predictor, pixels[:64], RECIPE, 10, 32)
    assert len(predictions) == 64


def test_a_timm_head_stays_in_float32_under_bfloat16(model, pixels):
    """Stored probabilities keep float32 precision: bfloat16 logits would round them to 8 significant bits."""
    predictor = TorchPredictor(model, torch.device("cpu"), 10)
    predictor.precision = "bfloat16"
    scores = np.empty((64, 10), np.float32)
    predictor.predict_into(pixels[:64], scores, RECIPE, 64, lambda done: None)
    as_bfloat16 = torch.from_numpy(scores).to(torch.bfloat16).float().numpy()
    assert not np.array_equal(scores, as_bfloat16)  # values a bfloat16 output could not hold


def test_a_nan_model_fails_at_its_first_batch_not_after_the_whole_test_set(cifar10_root, tmp_path):
    """Failing on purpose must not cost a worker a whole run (issue 10's flood)."""
    import onnx

    from evaluator.engine.evaluation import predict
    from plugins.contracts import ModelSource
    from tests import onnx_models

    path = tmp_path / "nan.onnx"
    onnx.save(onnx_models.pooled_linear(weight_fill=float("nan")), path)
    progress = []
    with pytest.raises(SubmissionError, match="the model's output contains NaN or infinite values"):
        predict(
            ModelSource(path),
            "onnx",
            Recipe(input_size=32, crop_pct=1.0),
            cifar10_root,
            batch_size=100,
            on_progress=lambda done, total: progress.append(done),
            latency_runs=0,
        )
    assert progress == []  # not one batch went through
