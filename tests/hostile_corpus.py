"""Bad submissions, each with the exact sentence the submitter sees.

Every case builds its files in a folder and returns the API fields to post. SUBMIT_TIME cases are refused
before anything is queued; RUN_TIME cases pass the submit-time check and fail on the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.onnx_models import pooled_linear

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, dict], dict]  # (folder, real model paths) -> API fields ("model_file" is a Path)
    error: str  # the whole sentence, or its start where the rest quotes a library (see matches)
    max_upload_mb: int | None = None
    status: int = 400

    def matches(self, message: str) -> bool:
        """Exact, except that a sentence ending in ': ' is followed by the library's own words."""
        return message.startswith(self.error) if self.error.endswith(": ") else message == self.error


def _save(model: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> Path:
    path = folder / name
    onnx.save(model, path)
    return path


def _graph(nodes, inputs, outputs, initializers=(), opset=17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "hostile", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _image_input(name="input", shape=("N", 3, 32, 32), dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, list(shape))


def _output(name="logits", shape=("N", 10)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _weight(rows=3, columns=10, name="weight"):
    return numpy_helper.from_array(np.full((rows, columns), 0.01, np.float32), name)


def _pooled(input_name="input"):
    return [
        helper.make_node("GlobalAveragePool", [input_name], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
    ]


def onnx_file(model_or_bytes) -> Callable[[Path, dict], dict]:
    def build(folder: Path, models: dict) -> dict:
        value = model_or_bytes(models) if callable(model_or_bytes) else model_or_bytes
        if isinstance(value, bytes):
            path = folder / "model.onnx"
            path.write_bytes(value)
        else:
            path = _save(value, folder)
        return {"model_file": path, "name": "hostile"}

    return build


def three_inputs():
    names = ["a", "b", "c"]
    nodes = [
        helper.make_node("Sum", names, ["summed"]),
        *_pooled("summed"),
        helper.make_node("Gemm", ["flat", "weight"], ["logits"]),
    ]
    return _graph(nodes, [_image_input(n) for n in names], [_output()], [_weight()])


def two_outputs():
    nodes = [
        *_pooled(),
        helper.make_node("Gemm", ["flat", "weight"], ["logits"]),
        helper.make_node("Identity", ["logits"], ["copy"]),
    ]
    return _graph(nodes, [_image_input()], [_output(), _output("copy")], [_weight()])


def output_of_rank_three():
    nodes = [
        *_pooled(),
        helper.make_node("Gemm", ["flat", "weight"], ["scores"]),
        helper.make_node("Unsqueeze", ["scores", "axes"], ["logits"]),
    ]
    axes = numpy_helper.from_array(np.array([2], np.int64), "axes")
    return _graph(nodes, [_image_input()], [_output(shape=("N", 10, 1))], [_weight(), axes])


def flat_input():
    nodes = [helper.make_node("Gemm", ["input", "weight"], ["logits"])]
    return _graph(nodes, [_image_input(shape=("N", 3072))], [_output()], [_weight(rows=3072)])


def one_channel_input():
    nodes = [*_pooled(), helper.make_node("Gemm", ["flat", "weight"], ["logits"])]
    return _graph(nodes, [_image_input(shape=("N", 1, 32, 32))], [_output()], [_weight(rows=1)])


def uint8_input():
    nodes = [
        helper.make_node("Cast", ["input"], ["as_float"], to=TensorProto.FLOAT),
        *_pooled("as_float"),
        helper.make_node("Gemm", ["flat", "weight"], ["logits"]),
    ]
    return _graph(nodes, [_image_input(dtype=TensorProto.UINT8)], [_output()], [_weight()])


def fixed_224_input():
    nodes = [*_pooled(), helper.make_node("Gemm", ["flat", "weight"], ["logits"])]
    return _graph(nodes, [_image_input(shape=("N", 3, 224, 224))], [_output()], [_weight()])


def huge_declared_tensor():
    """A ConstantOfShape asking for 2^31 floats (8 GiB), folded away into a harmless-looking sum."""
    shape = numpy_helper.from_array(np.array([2**31], np.int64), "huge_shape")
    nodes = [
        *_pooled(),
        helper.make_node("Gemm", ["flat", "weight"], ["scores"]),
        helper.make_node("ConstantOfShape", ["huge_shape"], ["huge"]),
        helper.make_node("ReduceSum", ["huge"], ["total"], keepdims=0),
        helper.make_node("Add", ["scores", "total"], ["logits"]),
    ]
    return _graph(nodes, [_image_input()], [_output()], [_weight(), shape])


def terabytes_at_run_time():
    """Asks, at run time, for a tensor of 3 TB per image: the shape comes from the input's, so no static
    check sees it; onnxruntime's allocator refuses it at once, at every batch size."""
    factor = numpy_helper.from_array(np.array([2**8, 2**8, 2**6, 2**6], np.int64), "factor")
    nodes = [
        *_pooled(),
        helper.make_node("Gemm", ["flat", "weight"], ["scores"]),
        helper.make_node("Shape", ["input"], ["shape"]),
        helper.make_node("Mul", ["shape", "factor"], ["huge_shape"]),
        helper.make_node("ConstantOfShape", ["huge_shape"], ["huge"]),
        helper.make_node("ReduceSum", ["huge"], ["total"], keepdims=0),
        helper.make_node("Add", ["scores", "total"], ["logits"]),
    ]
    return _graph(nodes, [_image_input()], [_output()], [_weight(), factor])


def undefined_input():
    nodes = [*_pooled(), helper.make_node("Gemm", ["flat", "ghost"], ["logits"])]
    return _graph(nodes, [_image_input()], [_output()])


def external_data():
    model = pooled_linear()
    weight = model.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../../etc/passwd")
    return model


def custom_domain():
    model = pooled_linear()
    model.graph.node.append(helper.make_node("Steal", ["logits"], ["unused"], domain="com.example.evil"))
    model.opset_import.append(helper.make_opsetid("com.example.evil", 1))
    return model


def wrong_batch_output():
    """Valid, but averages the whole batch into one row: caught when it runs."""
    nodes = [
        *_pooled(),
        helper.make_node("Gemm", ["flat", "weight"], ["per_image"]),
        helper.make_node("ReduceMean", ["per_image", "axis0"], ["logits"], keepdims=1),
    ]
    axis = numpy_helper.from_array(np.array([0], np.int64), "axis0")
    return _graph(nodes, [_image_input()], [_output(shape=("B", 10))], [_weight(), axis], opset=18)


def fails_in_onnxruntime():
    """Reshapes each batch's 3N values into rows of 7, which only works when 7 divides 3N."""
    shape = numpy_helper.from_array(np.array([-1, 7], np.int64), "rows_of_seven")
    nodes = [
        *_pooled(),
        helper.make_node("Reshape", ["flat", "rows_of_seven"], ["rows"]),
        helper.make_node("Gemm", ["rows", "weight"], ["logits"]),
    ]
    return _graph(nodes, [_image_input()], [_output(shape=("B", 10))], [_weight(rows=7), shape])


def timm(identifier: str, weights: Callable[[Path], Path] | None = None, **fields):
    def build(folder: Path, models: dict) -> dict:
        values = {"model_identifier": identifier, **fields}
        if weights:
            values["model_file"] = weights(folder)
        return values

    return build


def resnet18_weights(num_classes: int, architecture: str = "resnet18") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        import timm as timm_library
        from safetensors.torch import save_file

        path = folder / f"{architecture}-{num_classes}.safetensors"
        save_file(timm_library.create_model(architecture, num_classes=num_classes).state_dict(), path)
        return path

    return write


def pickle_renamed(folder: Path) -> Path:
    import timm as timm_library
    import torch

    path = folder / "weights.safetensors"
    torch.save(timm_library.create_model("resnet18", num_classes=10).state_dict(), path)
    return path


def with_metadata(**props: str) -> onnx.ModelProto:
    model = pooled_linear()
    helper.set_model_props(model, props)
    return model


def with_fields(build, **fields):
    def wrapped(folder: Path, models: dict) -> dict:
        return {**build(folder, models), **fields}

    return wrapped


NOT_PARSEABLE = "the file is not an ONNX model: it could not be parsed as an ONNX protobuf"

SUBMIT_TIME = [
    Case("empty file", onnx_file(b""), "the uploaded file is empty"),
    Case("a PNG renamed .onnx", onnx_file(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8), NOT_PARSEABLE),
    Case("a truncated ONNX file", onnx_file(lambda models: models["resnet20"].read_bytes()[:5000]), NOT_PARSEABLE),
    Case(
        "random bytes",
        onnx_file(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        NOT_PARSEABLE,
    ),
    Case(
        "a text file",
        onnx_file(b"hello, this is not a model\n"),
        NOT_PARSEABLE,
    ),
    Case(
        "a protobuf with no graph",
        onnx_file(onnx.ModelProto(ir_version=8).SerializeToString()),
        "the file is not an ONNX model: it has no graph nodes",
    ),
    Case(
        "external data pointing at ../../etc/passwd",
        onnx_file(external_data()),
        "tensor 'weight' keeps its data in an external file; external data is not accepted, save the model as one file",
    ),
    Case(
        "a custom-domain operator",
        onnx_file(custom_domain()),
        "the model uses non-standard operator domains (com.example.evil); "
        "only the standard ONNX operators are accepted",
    ),
    Case("three inputs", onnx_file(three_inputs()), "the model must take one image input; it takes 3: a, b, c"),
    Case("two outputs", onnx_file(two_outputs()), "the model must have one output of shape [N, classes]; it has 2"),
    Case(
        "a [N, 1000] output on a 10-class test set",
        onnx_file(pooled_linear(num_classes=1000)),
        "the model's output has 1000 classes; this test set has 10",
    ),
    Case(
        "an output of rank three",
        onnx_file(output_of_rank_three()),
        "the model's output must have shape [N, classes]; it is ['N', 10, 1]",
    ),
    Case(
        "a flat input",
        onnx_file(flat_input()),
        "the model's input must be an NCHW image batch [N, 3, H, W]; it is ['N', 3072]",
    ),
    Case(
        "a one-channel input",
        onnx_file(one_channel_input()),
        "the model's input must be an NCHW image batch [N, 3, H, W]; it is ['N', 1, 32, 32]",
    ),
    Case("a uint8 input", onnx_file(uint8_input()), "the model's input must be float32 (NCHW)"),
    Case(
        "a 224x224 model on 32x32 preprocessing",
        onnx_file(fixed_224_input()),
        "the model takes 224x224 images but the preprocessing gives 32x32; set the input size to match",
    ),
    Case(
        "a declared 2^31-element tensor",
        onnx_file(huge_declared_tensor()),
        "the model declares a tensor of 2,147,483,648 elements ('huge'); the limit is 268,435,456",
    ),
    Case(
        "an undefined tensor",
        onnx_file(undefined_input()),
        "the ONNX checker rejected the model: Nodes in a graph must be topologically sorted, however input 'ghost' "
        "of node: ",
    ),
    Case(
        "a model over the size limit",
        onnx_file(lambda models: models["resnet20"].read_bytes()),
        "the model file is 1.03 MB; the limit is 1 MB",
        max_upload_mb=1,
    ),
    Case(
        "a zero std",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"std": [0.2, 0, 0.2]}'),
        "every std value must be positive, not [0.2, 0.0, 0.2]",
    ),
    Case(
        "an unknown preprocessing key",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"gamma": 2.2}'),
        "unknown preprocessing keys: gamma (known: channel_order, crop_pct, input_size, interpolation, mean, output, "
        "resize, std, value_range)",
    ),
    Case(
        "nothing to evaluate",
        lambda folder, models: {"name": "nothing"},
        "upload a model file or give a model identifier such as timm:resnet18",
    ),
    Case(
        "an unknown format",
        with_fields(onnx_file(pooled_linear()), model_format="tflite"),
        "no model format plugin named 'tflite' (available: onnx, timm)",
    ),
    Case(
        "an identifier without its kind", timm("resnet18"), "say which kind of model 'resnet18' is, e.g. timm:resnet18"
    ),
    Case(
        "a timm name that does not exist",
        timm("timm:resnet181", resnet18_weights(10)),
        "timm 1.0.31 has no architecture named 'resnet181'; nearest: resnet18, resnet18d, resnet101",
    ),
    Case(
        "a timm name with a path in it",
        timm("timm:../../etc/passwd"),
        "'timm:../../etc/passwd' is not a timm identifier: write timm:ARCHITECTURE[.TAG] with letters, digits and "
        "underscores only, e.g. timm:resnet18.a1_in1k",
    ),
    Case(
        "a timm name that is a URL",
        timm("timm:https://evil.example/resnet18.pth"),
        "'timm:https://evil.example/resnet18.pth' is not a timm identifier: write timm:ARCHITECTURE[.TAG] with "
        "letters, digits and underscores only, e.g. timm:resnet18.a1_in1k",
    ),
    Case(
        "a timm tag that does not exist",
        timm("timm:resnet18.nope", resnet18_weights(10)),
        "timm has no pretrained tag 'nope' for resnet18; known tags: a1_in1k, a2_in1k, a3_in1k, "
        "fb_ssl_yfcc100m_ft_in1k, fb_swsl_ig1b_ft_in1k, gluon_in1k, tv_in1k",
    ),
    Case(
        "a pickle renamed .safetensors",
        timm("timm:resnet18", pickle_renamed),
        "the weights file is not a safetensors file; pickled checkpoints (.pth, .pt, .bin) are refused: save the "
        "state dict with safetensors.torch.save_file",
    ),
    Case(
        "safetensors with a 1000-class head on a 10-class test set",
        timm("timm:resnet18", resnet18_weights(1000)),
        "the weights do not fit timm's resnet18 with 10 classes: fc.weight has shape [1000, 512], the model needs "
        "[10, 512]; fc.bias has shape [1000], the model needs [10]",
    ),
    Case(
        "safetensors of another architecture",
        timm("timm:resnet18", resnet18_weights(10, "resnet34")),
        "the weights do not fit timm's resnet18 with 10 classes: 96 tensors are not in the model (e.g. "
        "layer1.2.bn1.bias, layer1.2.bn1.num_batches_tracked, layer1.2.bn1.running_mean)",
    ),
    Case(
        "ImageNet pretrained weights on a 10-class test set",
        timm("timm:resnet18.a1_in1k"),
        "timm's pretrained resnet18.a1_in1k predicts 1000 classes; this test set has 10: upload safetensors "
        "weights with a 10-class head",
    ),
    Case(
        "a NaN mean",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"mean": [NaN, NaN, NaN]}'),
        "every mean value must be a finite number, not [nan, nan, nan]",
    ),
    Case(
        "a NaN mean written as text",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"mean": "nan nan nan"}'),
        "every mean value must be a finite number, not [nan, nan, nan]",
    ),
    Case(
        "an infinite std",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"std": [Infinity, 1, 1]}'),
        "every std value must be a finite number, not [inf, 1.0, 1.0]",
    ),
    Case(
        "an infinite input size",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"input_size": Infinity}'),
        "input size must be a whole number of pixels, not inf",
    ),
    Case(
        "a NaN crop fraction",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"crop_pct": NaN}'),
        "crop fraction must be between 0.05 and 1, not nan",
    ),
    Case(
        "a NaN mean in the model's own metadata",
        onnx_file(with_metadata(**{"zooboard.mean": "nan,nan,nan"})),
        "every mean value must be a finite number, not [nan, nan, nan]",
    ),
    Case(
        "preprocessing nested 100,000 levels deep",
        with_fields(onnx_file(pooled_linear()), preprocessing="[" * 100_000),
        "preprocessing: the JSON is nested too deeply to read",
    ),
    Case(
        "preprocessing that is a list",
        with_fields(onnx_file(pooled_linear()), preprocessing="[0.5, 0.5, 0.5]"),
        "preprocessing: must be a JSON object of recipe values",
    ),
    Case(
        "preprocessing with a 5,000-digit number",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"input_size": ' + "9" * 5000 + "}"),
        "preprocessing: the JSON holds a number too long to read",
    ),
    Case(
        "a mean of nested lists",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"mean": [[1], [2], [3]]}'),
        "malformed preprocessing value: float() argument must be a string or a real number, not 'list'",
    ),
]

RUN_TIME = [
    Case(
        "NaN output",
        onnx_file(pooled_linear(weight_fill=float("nan"))),
        "the model's output contains NaN or infinite values",
    ),
    Case(
        "the wrong batch size out",
        onnx_file(wrong_batch_output()),
        "the model returned an output of shape [1, 10] for a batch of 256; expected [256, 10]",
    ),
    Case(
        "probabilities that are not",
        with_fields(onnx_file(pooled_linear()), preprocessing='{"output": "probabilities"}'),
        "the model was declared to output probabilities, but its rows do not sum to 1 (they sum to between -0.503 "
        "and 0.714); declare its output as logits instead",
    ),
    Case("a model onnxruntime cannot run", onnx_file(fails_in_onnxruntime()), "the model failed while running: "),
    Case(
        "terabytes at run time",
        onnx_file(terabytes_at_run_time()),
        "the model does not fit in the device's memory, even one image at a time",
    ),
]
