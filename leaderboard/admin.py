"""Moderation in Django's admin: hide or show submissions, cancel evaluations, inspect results."""

from __future__ import annotations

from django.contrib import admin, messages

from leaderboard.models import InvalidTransition, LabelSet, Result, SliceResult, Status, Submission, TestSet
from leaderboard.queue import enqueue_rescore


class LabelSetInline(admin.TabularInline):
    model = LabelSet
    extra = 0
    fields = ["name", "protocol", "version", "is_current", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(LabelSet)
class LabelSetAdmin(admin.ModelAdmin):
    list_display = ["testset", "name", "version", "protocol", "is_current", "created_at"]
    list_filter = ["testset", "name", "is_current"]
    actions = ["rescore"]

    @admin.action(description="Re-score every stored prediction against this version (on a worker)")
    def rescore(self, request, queryset):
        for label_set in queryset.select_related("testset"):
            if enqueue_rescore(label_set.testset.name, label_set.name, label_set.version):
                self.message_user(request, f"Re-scoring against {label_set} is queued.")
            else:
                self.message_user(request, f"Could not queue re-scoring against {label_set}.", messages.ERROR)


@admin.register(TestSet)
class TestSetAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "version", "num_examples", "updated_at"]
    readonly_fields = ["reader", "class_names", "num_examples", "data_path", "version"]
    inlines = [LabelSetInline]


class ResultInline(admin.TabularInline):
    model = Result
    extra = 0
    fields = ["label_set", "headline_metric", "headline", "metrics"]
    readonly_fields = fields
    can_delete = False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "owner", "testset", "status", "hidden", "created_at", "finished_at"]
    list_filter = ["status", "hidden", "testset", "model_format"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [
        "status",
        "progress_done",
        "progress_total",
        "error_message",
        "provider",
        "timings",
        "preprocessing",
        "model_details",
        "created_at",
        "started_at",
        "scoring_at",
        "finished_at",
    ]
    inlines = [ResultInline]
    actions = ["hide", "unhide", "cancel"]

    @admin.action(description="Hide from the public leaderboards")
    def hide(self, request, queryset):
        self.message_user(request, f"{queryset.update(hidden=True)} submission(s) hidden.")

    @admin.action(description="Show on the public leaderboards")
    def unhide(self, request, queryset):
        self.message_user(request, f"{queryset.update(hidden=False)} submission(s) shown.")

    @admin.action(description="Cancel the evaluation")
    def cancel(self, request, queryset):
        cancelled = 0
        for submission in queryset:
            try:
                submission.move_to(Status.CANCELLED)
                cancelled += 1
            except InvalidTransition as error:
                self.message_user(request, str(error), messages.WARNING)
        self.message_user(request, f"{cancelled} submission(s) cancelled.")


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = ["submission", "label_set", "headline_metric", "headline", "created_at"]
    list_filter = ["label_set__testset", "label_set__name"]


@admin.register(SliceResult)
class SliceResultAdmin(admin.ModelAdmin):
    list_display = ["result", "slicer", "name", "count"]
    list_filter = ["slicer"]
