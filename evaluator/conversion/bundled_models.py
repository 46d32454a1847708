"""The bundled real CIFAR-10 models, each with the converter that writes it as ONNX."""

from __future__ import annotations

from pathlib import Path

import onnx

from evaluator.conversion import akamaster, keras_resnet8

BUNDLED = Path(__file__).resolve().parent.parent / "bundled" / "cifar10-pretrained"

# name shown on the leaderboard -> (converter, source file)
MODELS = {
    "ResNet20 (akamaster)": (akamaster.convert, BUNDLED / "akamaster_resnet" / "resnet20-12fca82f.th"),
    "ResNet32 (akamaster)": (akamaster.convert, BUNDLED / "akamaster_resnet" / "resnet32-d509ac18.th"),
    "ResNet44 (akamaster)": (akamaster.convert, BUNDLED / "akamaster_resnet" / "resnet44-014dd654.th"),
    "ResNet56 (akamaster)": (akamaster.convert, BUNDLED / "akamaster_resnet" / "resnet56-4bfd9763.th"),
    "ResNet-8 (MLPerf Tiny)": (keras_resnet8.convert, BUNDLED / "mlperf_tiny_resnet8" / "pretrainedResnet.h5"),
}


def file_name(model_name: str) -> str:
    return model_name.split(" ")[0].lower().replace("-", "") + ".onnx"


def convert_all(out_dir: Path, only: list[str] | None = None) -> dict[str, Path]:
    """Converts each bundled model (or those whose file name is in only) and returns name -> ONNX path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (convert, source) in MODELS.items():
        target = out_dir / file_name(name)
        if only and target.name not in only:
            continue
        onnx.save(convert(source, name), target)
        written[name] = target
    return written
