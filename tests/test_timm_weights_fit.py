"""Submitted timm weights are taken exactly when torch's load_state_dict(strict=True) takes them: torch's own
verdict on a real module is the reference, and every refusal names its tensors."""

from __future__ import annotations

import pytest
import timm
import torch
from safetensors.torch import load_file, save_file

from evaluator.engine.evaluation import evaluate
from plugins import registry
from plugins.contracts import ModelSource
from plugins.errors import SubmissionError
from plugins.formats.timm_format import load_problems
from plugins.recipe import Recipe

TIMM = registry.get("model_format", "timm")
PREFIX = "the weights do not fit timm's resnet18 with 10 classes: "


@pytest.fixture(scope="module")
def resnet18_state():
    torch.manual_seed(3)
    return timm.create_model("resnet18", num_classes=10).state_dict()


def without_counters(state: dict) -> dict:
    return {key: value for key, value in state.items() if not key.endswith("num_batches_tracked")}


def torch_accepts(path) -> bool:
    """torch's own verdict: a fresh real module, the file as safetensors gives it, strict=True."""
    try:
        timm.create_model("resnet18", num_classes=10).load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError:
        return False
    return True


CASES = {
    "counters removed": (without_counters, None),
    "a convolution's weight missing": (
        lambda state: {k: v for k, v in state.items() if k != "layer1.0.conv1.weight"},
        "1 tensor is missing: layer1.0.conv1.weight",
    ),
    "a running mean missing": (
        lambda state: {k: v for k, v in state.items() if k != "bn1.running_mean"},
        "1 tensor is missing: bn1.running_mean",
    ),
    "an extra tensor": (
        lambda state: {**state, "fc.scale": torch.ones(10)},
        "1 tensor is not in the model: fc.scale",
    ),
    "a wrong shape": (
        lambda state: {**state, "fc.bias": torch.zeros(11)},
        "fc.bias has shape [11], the model needs [10]",
    ),
    "all three at once": (
        lambda state: {
            **{k: v for k, v in without_counters(state).items() if k not in ("fc.weight", "bn1.bias")},
            "fc.bias": torch.zeros(12),
            "head.weight": torch.zeros(1),
            "head.bias": torch.zeros(1),
        },
        "fc.bias has shape [12], the model needs [10]; 2 tensors are missing (e.g. bn1.bias, fc.weight); "
        "2 tensors are not in the model (e.g. head.bias, head.weight)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_verdict_is_torchs_own(case, resnet18_state, tmp_path):
    change, problem = CASES[case]
    path = tmp_path / "weights.safetensors"
    save_file({key: value.contiguous() for key, value in change(dict(resnet18_state)).items()}, path)
    source = ModelSource(path, "timm:resnet18")
    if problem is None:
        assert TIMM.inspect(source, 10).details["weights"] == "submitted safetensors"
        TIMM.load(source, Recipe(input_size=32), 10)
    else:
        for step in (lambda: TIMM.inspect(source, 10), lambda: TIMM.load(source, Recipe(input_size=32), 10)):
            with pytest.raises(SubmissionError) as refused:
                step()
            assert str(refused.value) == PREFIX + problem
    assert torch_accepts(path) == (problem is None)


def test_weights_without_the_counters_evaluate_as_with_them(resnet18_state, cifar10_root, tmp_path):
    full, bare = tmp_path / "full.safetensors", tmp_path / "bare.safetensors"
    save_file(resnet18_state, full)
    save_file(without_counters(resnet18_state), bare)
    assert len(resnet18_state) - len(load_file(str(bare))) == 20  # one counter per batch norm
    recipe = Recipe(input_size=32, crop_pct=1.0)
    runs = [evaluate(ModelSource(path, "timm:resnet18"), "timm", recipe, cifar10_root) for path in (full, bare)]
    assert runs[0].scores["original"]["metrics"] == runs[1].scores["original"]["metrics"]


class BatchNormWithScratch(torch.nn.Module):
    """A batch norm (whose counter torch tolerates missing) beside a buffer that is never saved."""

    def __init__(self):
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(3)
        self.register_buffer("scratch", torch.zeros(2), persistent=False)


@pytest.mark.parametrize(
    "case",
    ["as saved", "counter dropped", "counter dropped, torch's version metadata kept", "non-persistent buffer given"],
)
def test_torchs_rules_come_from_torch(case):
    """The same state dict on a meta module (as at submit time) and on a real one: the verdicts agree. With
    torch's version metadata (a state dict straight from state_dict()), a missing counter is refused: BatchNorm
    forgives it only in state dicts older than its version 2, such as a safetensors file gives."""
    state = BatchNormWithScratch().state_dict()
    if case.startswith("counter dropped"):
        del state["norm.num_batches_tracked"]
        if "metadata" not in case:
            state = dict(state)  # a plain dict: no _metadata, as load_file returns
    elif case == "non-persistent buffer given":
        state["scratch"] = torch.zeros(2)
    try:
        BatchNormWithScratch().load_state_dict(state, strict=True)
        accepted = True
    except RuntimeError:
        accepted = False
    with torch.device("meta"):
        meta_module = BatchNormWithScratch()
    meta_state = type(state)({key: torch.empty(value.shape, device="meta") for key, value in state.items()})
    if hasattr(state, "_metadata"):
        meta_state._metadata = state._metadata
    assert (load_problems(meta_module, meta_state) == []) == accepted
    assert (load_problems(BatchNormWithScratch(), state) == []) == accepted
    assert accepted == (case in ("as saved", "counter dropped"))
