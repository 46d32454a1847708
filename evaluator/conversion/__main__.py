"""python -m evaluator.conversion OUT_DIR: writes the bundled real CIFAR-10 models as ONNX files."""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluator.conversion.bundled_models import convert_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--only", nargs="*", help="file names to write, e.g. resnet20.onnx")
    args = parser.parse_args()
    for name, path in convert_all(args.out_dir, args.only).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
