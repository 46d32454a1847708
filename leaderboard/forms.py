"""The submission form: the model file and its preprocessing, each field checked by the recipe itself."""

from __future__ import annotations

from pathlib import Path

from django import forms

from leaderboard.models import CARD_FIELDS, Submission, TestSet
from leaderboard.models.submissions import web_address
from plugins.contracts import ModelSource
from plugins.recipe import CHANNEL_ORDERS, INTERPOLATIONS, OUTPUT_KINDS, RECIPE_FIELDS, RESIZE_MODES


def _choices(values) -> list[tuple[str, str]]:
    return [("", "as the model or test set says")] + [(str(value), str(value)) for value in values]


class SubmissionForm(forms.Form):
    testset = forms.ModelChoiceField(queryset=TestSet.objects.all(), to_field_name="name", empty_label=None)
    name = forms.CharField(
        max_length=200, required=False, help_text="Leave empty to use the name in the model's metadata."
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000, help_text="Shown on its page."
    )
    paper_url = forms.CharField(label="Paper", required=False, max_length=500, validators=[web_address])
    code_url = forms.CharField(label="Code", required=False, max_length=500, validators=[web_address])
    licence = forms.CharField(required=False, max_length=100, help_text="Of the weights, e.g. Apache-2.0.")
    architecture = forms.CharField(
        label="Architecture family",
        required=False,
        max_length=100,
        help_text="e.g. resnet; boards filter by it. Leave empty for what the model format finds.",
    )
    model_file = forms.FileField(
        allow_empty_file=True,
        label="Model file",
        required=False,
        help_text="An ONNX model (one file, no external data), or safetensors weights for a timm architecture.",
    )
    model_identifier = forms.CharField(
        label="or a timm model",
        required=False,
        max_length=300,
        help_text="timm:ARCHITECTURE[.TAG], e.g. timm:resnet18 with your weights above, or timm:resnet50.a1_in1k.",
    )
    input_size = forms.IntegerField(required=False, min_value=8, max_value=1024)
    resize = forms.ChoiceField(choices=_choices(RESIZE_MODES), required=False)
    crop_pct = forms.FloatField(required=False, label="Crop fraction")
    interpolation = forms.ChoiceField(choices=_choices(INTERPOLATIONS), required=False)
    mean = forms.CharField(required=False, help_text="Three numbers, R G B, in the units of the value range.")
    std = forms.CharField(required=False, help_text="Three numbers, R G B.")
    value_range = forms.ChoiceField(choices=_choices(["1.0", "255.0"]), required=False)
    channel_order = forms.ChoiceField(choices=_choices(CHANNEL_ORDERS), required=False)
    output = forms.ChoiceField(choices=_choices(OUTPUT_KINDS), required=False)

    def model_source(self) -> ModelSource:
        upload = self.cleaned_data.get("model_file")
        return ModelSource(
            Path(upload.temporary_file_path()) if upload else None,
            self.cleaned_data.get("model_identifier", "").strip(),
        )

    def card(self) -> dict:
        return {field: self.cleaned_data.get(field, "") for field in CARD_FIELDS}

    def recipe_values(self) -> dict:
        """Only what the submitter filled in: the rest comes from the model's metadata or the test set."""
        return {key: self.cleaned_data[key] for key in RECIPE_FIELDS if self.cleaned_data.get(key) not in (None, "")}


class ModelCardForm(forms.ModelForm):
    """The owner's edit of a submission's model card (the fields' own validators: lengths, web addresses)."""

    class Meta:
        model = Submission
        fields = CARD_FIELDS
        labels = {"paper_url": "Paper", "code_url": "Code", "architecture": "Architecture family"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
