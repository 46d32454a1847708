"""ONNX models: checked with onnx's full checker at submit time, run with onnxruntime on the worker."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from plugins.batch_loop import predict_batches_into
from plugins.contracts import ModelInfo, ModelSource
from plugins.errors import DeviceOutOfMemory, RunStopped, SubmissionError
from plugins.formats.onnx_pixels import with_pixel_input
from plugins.recipe import METADATA_PREFIX, Recipe, recipe_values_from_metadata
from plugins.registry import register

STANDARD_DOMAINS = {"", "ai.onnx", "ai.onnx.ml"}
# A tensor this large (1 GiB of float32) is refused at submit time: it would exhaust a worker's memory.
MAX_TENSOR_ELEMENTS = 2**28
# Best first; onnxruntime-gpu offers the first two on GPU workers, the CPU build only the last.
PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    return [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value_info.type.tensor_type.shape.dim
    ]


def _load_without_external_data(path: Path) -> onnx.ModelProto:
    if path.stat().st_size == 0:
        raise SubmissionError("the uploaded file is empty")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError):
        raise SubmissionError("the file is not an ONNX model: it could not be parsed as an ONNX protobuf") from None
    if not model.graph.node:
        raise SubmissionError("the file is not an ONNX model: it has no graph nodes")
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            # an external-data path could point anywhere on the worker's disk
            raise SubmissionError(
                f"tensor {tensor.name!r} keeps its data in an external file; "
                "external data is not accepted, save the model as one file"
            )
    return model


def _largest_declared_tensor(model: onnx.ModelProto) -> tuple[str, int]:
    """The biggest static element count among initializers and (inferred) values, with the tensor's name."""
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True).graph
    sizes = [(tensor.name, math.prod(tensor.dims)) for tensor in model.graph.initializer]
    for value in [*inferred.input, *inferred.output, *inferred.value_info]:
        dims = _dims(value)
        if dims and all(isinstance(d, int) for d in dims):
            sizes.append((value.name, math.prod(dims)))
    return max(sizes, key=lambda item: item[1], default=("", 0))


def _opset(model: onnx.ModelProto) -> int:
    return max((opset.version for opset in model.opset_import if opset.domain in ("", "ai.onnx")), default=0)


def _graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initializers = {tensor.name for tensor in model.graph.initializer}
    return [value for value in model.graph.input if value.name not in initializers]


def _model_file(source: ModelSource) -> Path:
    if source.file is None:
        raise SubmissionError("an ONNX submission needs the model file")
    return source.file


@register("model_format")
class OnnxFormat:
    name = "onnx"
    file_suffix = ".onnx"

    def inspect(self, source: ModelSource, num_classes: int) -> ModelInfo:
        model = _load_without_external_data(_model_file(source))
        domains = {opset.domain for opset in model.opset_import} - STANDARD_DOMAINS
        if domains:
            raise SubmissionError(
                f"the model uses non-standard operator domains ({', '.join(sorted(domains))}); "
                "only the standard ONNX operators are accepted"
            )
        try:
            onnx.checker.check_model(model, full_check=True)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise SubmissionError(f"the ONNX checker rejected the model: {first_line}") from None
        tensor, elements = _largest_declared_tensor(model)
        if elements > MAX_TENSOR_ELEMENTS:
            raise SubmissionError(
                f"the model declares a tensor of {elements:,} elements ({tensor!r}); "
                f"the limit is {MAX_TENSOR_ELEMENTS:,}"
            )
        inputs, outputs = _graph_inputs(model), list(model.graph.output)
        if len(inputs) != 1:
            raise SubmissionError(
                f"the model must take one image input; it takes {len(inputs)}: "
                f"{', '.join(value.name for value in inputs)}"
            )
        if len(outputs) != 1:
            raise SubmissionError(f"the model must have one output of shape [N, classes]; it has {len(outputs)}")
        input_shape, output_shape = _dims(inputs[0]), _dims(outputs[0])
        if inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise SubmissionError("the model's input must be float32 (NCHW)")
        if len(input_shape) != 4 or (isinstance(input_shape[1], int) and input_shape[1] != 3):
            raise SubmissionError(f"the model's input must be an NCHW image batch [N, 3, H, W]; it is {input_shape}")
        if len(output_shape) != 2:
            raise SubmissionError(f"the model's output must have shape [N, classes]; it is {output_shape}")
        if isinstance(output_shape[1], int) and output_shape[1] != num_classes:
            raise SubmissionError(f"the model's output has {output_shape[1]} classes; this test set has {num_classes}")
        props = {prop.key: prop.value for prop in model.metadata_props}
        return ModelInfo(
            num_classes=num_classes,
            recipe_from_model=recipe_values_from_metadata(props),
            details={"input_shape": input_shape, "output_shape": output_shape, "opset": _opset(model)},
            name=props.get(METADATA_PREFIX + "name", "").strip(),
        )

    def cost(self, source: ModelSource, recipe: Recipe, num_classes: int) -> dict:
        """Parameters (initializer elements) and MACs per image, counted by onnx-tool at the recipe's input size."""
        model = _load_without_external_data(_model_file(source))
        figures = {"parameters": sum(math.prod(tensor.dims) for tensor in model.graph.initializer), "macs": None}
        try:
            import onnx_tool

            graph = onnx_tool.Model(model).graph
            graph.shape_infer({graph.input[0]: np.zeros((1, 3, recipe.input_size, recipe.input_size), np.float32)})
            graph.profile()
            figures["macs"] = int(sum(graph.macs))
        except Exception as error:  # an operator onnx-tool does not know: the figure is left out, not the model
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            figures["macs_error"] = f"onnx-tool could not count it: {reason}"
        return figures

    def load(self, source: ModelSource, recipe: Recipe, num_classes: int) -> OnnxPredictor:
        # On the CPU, numpy normalising the next batch on a helper thread beats doing it in the graph. A GPU build
        # of onnxruntime on a worker without a visible GPU falls back to the CPU: the provider that took the
        # session decides, not the ones installed.
        if _providers()[0] != "CPUExecutionProvider":
            predictor = normalising_on_device(source, recipe)
            if predictor.provider != "CPUExecutionProvider":
                return predictor
        return OnnxPredictor(_session(str(_model_file(source))))


def normalising_on_device(source: ModelSource, recipe: Recipe) -> OnnxPixelPredictor:
    """The model with the recipe's normalisation in front of its graph: what GPU workers run."""
    model = _load_without_external_data(_model_file(source))
    pixels_input = with_pixel_input(model, _graph_inputs(model)[0].name, recipe)
    return OnnxPixelPredictor(_session(model.SerializeToString()), pixels_input, _model_file(source))


def _providers() -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [name for name in PREFERRED_PROVIDERS if name in available]


def _session(model: bytes | str):
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(model, providers=_providers())
    except Exception as error:
        raise SubmissionError(f"onnxruntime could not load the model: {str(error).splitlines()[0]}") from None


class OnnxPredictor:
    """The model as submitted: float32 NCHW batches in, normalised on the host by the engine."""

    def __init__(self, session):
        import onnxruntime

        self.session = session
        # one RunOptions for every call: stop() sets its terminate flag, which onnxruntime checks between nodes
        # (inside Loop bodies too), so a graph that would never return is interrupted mid-call
        self.run_options = onnxruntime.RunOptions()
        self.provider = session.get_providers()[0]
        self.input_name = session.get_inputs()[0].name
        batch = session.get_inputs()[0].shape[0]
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._in_chunks(self.session, self.input_name, batch)

    def stop(self) -> None:
        self.run_options.terminate = True

    def _run(self, session, input_name: str, batch: np.ndarray) -> np.ndarray:
        if self.run_options.terminate:
            raise RunStopped()
        try:
            (scores,) = session.run(None, {input_name: batch}, self.run_options)
        except Exception as error:
            if self.run_options.terminate:
                raise RunStopped() from None
            message = str(error)
            if "Failed to allocate memory" in message or "out of memory" in message.lower():
                raise DeviceOutOfMemory() from None  # the engine goes on with smaller batches
            raise SubmissionError(f"the model failed while running: {message.splitlines()[0]}") from None
        return scores

    def _in_chunks(self, session, input_name: str, batch: np.ndarray) -> np.ndarray:
        if self.fixed_batch is None:
            return self._run(session, input_name, batch)
        # a model exported with a fixed batch size gets chunks of exactly that size, the last one padded
        chunks = []
        for start in range(0, len(batch), self.fixed_batch):
            chunk = batch[start : start + self.fixed_batch]
            missing = self.fixed_batch - len(chunk)
            padded = np.concatenate([chunk, np.zeros((missing, *chunk.shape[1:]), chunk.dtype)]) if missing else chunk
            try:
                chunks.append(self._run(session, input_name, padded)[: len(chunk)])
            except DeviceOutOfMemory:  # smaller batches cannot help a model that always runs this many
                raise SubmissionError(
                    f"the model was exported with a fixed batch of {self.fixed_batch}, which does not fit in the "
                    "device's memory; export it with a dynamic batch dimension"
                ) from None
        return np.concatenate(chunks)


class OnnxPixelPredictor(OnnxPredictor):
    """The model with the recipe's normalisation in front of its graph (onnx_pixels.py): uint8 pixels go in,
    and onnxruntime normalises them on its own device. predict(), the plain float32 contract the engine does
    not use for it, loads the model as submitted on first use."""

    def __init__(self, session, pixels_input: str, path: Path):
        super().__init__(session)
        self.pixels_input, self.path, self._plain = pixels_input, path, None

    def predict_into(
        self, pixels: np.ndarray, out: np.ndarray, recipe: Recipe, batch_size: int, on_batch: Callable[[int], None]
    ) -> None:
        # np.array reads the next batch out of the memory-mapped cache while the model runs the current one
        run = functools.partial(self._in_chunks, self.session, self.pixels_input)
        predict_batches_into(pixels, out, batch_size, np.array, run, on_batch)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self._plain is None:
            self._plain = OnnxPredictor(_session(str(self.path)))
            self._plain.run_options = self.run_options  # one stop() ends both
        return self._plain.predict(batch)
