"""manage.py evaluate --model FILE --testset NAME [--json]: the engine without the server, like timm's validate.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from evaluator.engine.evaluation import evaluate
from evaluator.engine.scoring import json_ready
from plugins.errors import SubmissionError
from plugins.precision import PRECISION_POLICIES
from plugins.recipe import RECIPE_FIELDS, Recipe
from plugins.submission_check import check_model, format_for, source_from_argument
from plugins.testset import TestSetManifest, testset_root


class Command(BaseCommand):
    help = "Evaluate a model file on an imported test set and print every label set's metrics."

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="a model file, or an identifier such as timm:resnet18")
        parser.add_argument("--weights", type=Path, help="safetensors weights for an identifier")
        parser.add_argument("--testset", required=True)
        parser.add_argument("--format", default="", help="default: from the identifier, else onnx")
        parser.add_argument("--input-size", type=int)
        parser.add_argument("--crop-pct", type=float)
        parser.add_argument("--resize", choices=["shorter", "squash"])
        parser.add_argument("--interpolation")
        parser.add_argument("--mean", type=float, nargs=3, metavar=("R", "G", "B"))
        parser.add_argument("--std", type=float, nargs=3, metavar=("R", "G", "B"))
        parser.add_argument("--value-range", type=float, choices=[1.0, 255.0])
        parser.add_argument("--channel-order", choices=["RGB", "BGR"])
        parser.add_argument("--output", choices=["logits", "probabilities"])
        parser.add_argument("--batch-size", type=int, default=256)
        parser.add_argument("--precision", choices=PRECISION_POLICIES, default=settings.ZOOBOARD_PRECISION)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, **options):
        try:
            report = self._evaluate(options)
        except (SubmissionError, FileNotFoundError, LookupError) as error:
            sys.stderr.write(f"cannot evaluate: {error}\n")
            sys.exit(1)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for name, score in report["label_sets"].items():
            metrics = ", ".join(f"{key} {value * 100:.2f}%" for key, value in score["metrics"].items())
            self.stdout.write(f"{name}: {metrics}")

    def _evaluate(self, options) -> dict:
        source = source_from_argument(options["model"], options["weights"])
        if source.file is not None and not source.file.is_file():
            raise FileNotFoundError(f"no model file at {source.file}")
        root = testset_root(settings.ZOOBOARD_DATA_DIR, options["testset"])
        manifest = TestSetManifest.load(root)
        model_format = format_for(source, options["format"])
        recipe_values = {key: options[key] for key in RECIPE_FIELDS if options[key] is not None}
        defaults = Recipe.from_dict(manifest.default_preprocessing)
        _, recipe = check_model(model_format, source, len(manifest.class_names), recipe_values, defaults)
        result = evaluate(
            source,
            model_format,
            recipe,
            root,
            settings.ZOOBOARD_MIN_SLICE,
            batch_size=options["batch_size"],
            precision=options["precision"],
            latency_runs=settings.ZOOBOARD_LATENCY_RUNS,
        )
        return {
            "model": options["model"],
            "format": model_format,
            "testset": {"name": manifest.name, "version": manifest.version, "examples": manifest.num_examples},
            "preprocessing": recipe.to_dict(),
            "provider": result.provider,
            "seconds": {key: round(value, 3) for key, value in result.seconds.items()},
            "efficiency": result.efficiency,
            "label_sets": json_ready(result.scores),
        }
