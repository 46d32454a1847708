"""Moderation in Django's admin: approve, hide, flag, ban, re-run, re-score and cancel, each action audited
(leaderboard/moderating.py); the audit log and bans are read-only here, a submission's file and figures too."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse

from leaderboard import moderating
from leaderboard.models import (
    Ban,
    InvalidTransition,
    LabelSet,
    ModerationEvent,
    Result,
    SliceResult,
    Submission,
    TestSet,
)
from leaderboard.queue import enqueue_rescore

User = get_user_model()


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), max_length=2000, strip=True)


def ask_reason(model_admin, request, queryset, title: str, explanation: str, apply):
    """The intermediate page for actions that need a reason; once one is given, apply(reason) runs and the
    admin goes back to the list."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        apply(form.cleaned_data["reason"])
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "form": form,
        "queryset": queryset,
        "opts": model_admin.model._meta,
        "action": request.POST["action"],
        "select_across": request.POST.get("select_across", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/leaderboard/reason.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only moderation writes: readable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    list_display = ["name", "title", "version", "num_examples", "requires_approval", "updated_at"]
    list_filter = ["requires_approval"]
    readonly_fields = ["reader", "class_names", "num_examples", "data_path", "version"]
    inlines = [LabelSetInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "requires_approval" in form.changed_data:
            moderating.set_approval_rule(obj, request.user, obj.requires_approval)


class ResultInline(admin.TabularInline):
    model = Result
    extra = 0
    fields = ["label_set", "headline_metric", "headline", "metrics"]
    readonly_fields = fields
    can_delete = False


class ModerationEventInline(admin.TabularInline):
    model = ModerationEvent
    fk_name = "submission"
    extra = 0
    fields = ["at", "actor", "action", "reason", "before", "after"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "moderation history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApprovalFilter(admin.SimpleListFilter):
    title = "approval"
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("awaiting", "awaiting approval"), ("approved", "approved"), ("not-required", "not required")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(testset__requires_approval=True, approved_at__isnull=True)
        if self.value() == "approved":
            return queryset.filter(approved_at__isnull=False)
        if self.value() == "not-required":
            return queryset.filter(testset__requires_approval=False)
        return queryset


class FlaggedFilter(admin.SimpleListFilter):
    title = "flagged"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "flagged"), ("no", "not flagged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(flag_reason="")
        if self.value() == "no":
            return queryset.filter(flag_reason="")
        return queryset


# The submission's page in the admin; whatever is not named here (fields added later) lands in "Other".
SUBMISSION_FIELDSETS = [
    (None, ["name", "owner", "testset", "description", "created_at"]),
    ("Model", ["model_format", "model_identifier", "stored_file", "model_sha256", "preprocessing", "model_details"]),
    (
        "Evaluation",
        ["status", "progress_done", "progress_total", "error_message", "provider", "timings", "efficiency"]
        + ["started_at", "scoring_at", "finished_at"],
    ),
    ("Moderation", ["hidden", "approved_at", "flag_reason", "flagged_at", "is_baseline", "owner_ban"]),
]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Submissions arrive through the site, the API or `manage.py submit` and leave only through moderation:
    nothing is added, edited or deleted here (hide instead of deleting, so the audit log's rows stay whole)."""

    list_display = ["id", "name", "owner", "testset", "status", "hidden", "approval", "flagged", "is_baseline"]
    list_display += ["created_at"]
    list_filter = ["status", "hidden", "is_baseline", ApprovalFilter, FlaggedFilter, "testset", "model_format"]
    list_filter += ["owner__is_active"]
    list_select_related = ["owner", "testset"]
    search_fields = ["=id", "name", "owner__username", "model_sha256", "model_identifier", "flag_reason"]
    date_hierarchy = "created_at"
    inlines = [ResultInline, ModerationEventInline]
    actions = ["approve", "revoke_approval", "hide", "unhide", "flag", "unflag", "ban_owners", "rerun", "rescore"]
    actions += ["cancel", "mark_baseline", "unmark_baseline"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fieldsets(self, request, obj=None):
        named = {field for _, fields in SUBMISSION_FIELDSETS for field in fields}
        other = [field.name for field in Submission._meta.fields if field.name not in named | {"id", "model_file"}]
        fieldsets = [(title, {"fields": fields}) for title, fields in SUBMISSION_FIELDSETS]
        return fieldsets + ([("Other", {"fields": other})] if other else [])

    def get_readonly_fields(self, request, obj=None):
        return [field for _, options in self.get_fieldsets(request, obj) for field in options["fields"]]

    @admin.display(description="stored file")
    def stored_file(self, submission):
        # a path and size, not a link: uploads are never served, only read by the workers
        if not submission.model_file:
            return "none (a model named by identifier)"
        try:
            return f"{submission.model_file.name} ({submission.model_file.size:,} bytes)"
        except OSError:
            return f"{submission.model_file.name} (missing from the media folder)"

    @admin.display(description="owner's ban")
    def owner_ban(self, submission):
        ban = Ban.objects.active().filter(user=submission.owner_id).first()
        return f"banned {ban.banned_at:%Y-%m-%d %H:%M} by {ban.banned_by}: {ban.reason}" if ban else "not banned"

    @admin.display(description="approval")
    def approval(self, submission):
        if not submission.testset.requires_approval:
            return "not required"
        return "approved" if submission.approved_at else "awaiting"

    @admin.display(description="flagged", boolean=True)
    def flagged(self, submission):
        return bool(submission.flag_reason)

    def _each(self, request, queryset, operation, done: str, reason: str = ""):
        changed = 0
        for submission in queryset.select_related("owner", "testset"):
            try:
                changed += bool(operation(submission, request.user, reason))
            except (InvalidTransition, moderating.ModerationError) as error:
                self.message_user(request, f"{submission}: {error}", messages.WARNING)
        self.message_user(request, f"{changed} submission(s) {done}.")

    @admin.action(description="Approve for publication", permissions=["change"])
    def approve(self, request, queryset):
        self._each(request, queryset, moderating.approve, "approved")

    @admin.action(description="Revoke the approval", permissions=["change"])
    def revoke_approval(self, request, queryset):
        self._each(request, queryset, moderating.revoke_approval, "no longer approved")

    @admin.action(description="Hide from the public (asks why)", permissions=["change"])
    def hide(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            "Hide submissions",
            "Hidden submissions are seen by their submitters and staff only.",
            lambda reason: self._each(request, queryset, moderating.hide, "hidden", reason),
        )

    @admin.action(description="Mark as a baseline (marked on every board, pinned above it)", permissions=["change"])
    def mark_baseline(self, request, queryset):
        self._each(request, queryset, moderating.mark_baseline, "marked as baselines")

    @admin.action(description="No longer a baseline", permissions=["change"])
    def unmark_baseline(self, request, queryset):
        self._each(request, queryset, moderating.unmark_baseline, "no longer baselines")

    @admin.action(description="Show to the public again", permissions=["change"])
    def unhide(self, request, queryset):
        self._each(request, queryset, moderating.unhide, "shown")

    @admin.action(description="Flag with a reason the submitter sees", permissions=["change"])
    def flag(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            "Flag submissions",
            "The submitter reads this reason on the submission's page and in the API.",
            lambda reason: self._each(request, queryset, moderating.flag, "flagged", reason),
        )

    @admin.action(description="Clear the flag", permissions=["change"])
    def unflag(self, request, queryset):
        self._each(request, queryset, moderating.unflag, "unflagged")

    @admin.action(description="Ban the submitters (asks why)", permissions=["change"])
    def ban_owners(self, request, queryset):
        owners = User.objects.filter(pk__in=queryset.values("owner"))
        return ask_reason(
            self,
            request,
            queryset,
            "Ban the submitters",
            f"Bans {', '.join(owner.username for owner in owners)}: no sign-in, no API token, pending "
            "submissions cancelled, every result hidden.",
            lambda reason: ban_each(self, request, owners, reason),
        )

    @admin.action(description="Re-run the evaluation (finished submissions)", permissions=["change"])
    def rerun(self, request, queryset):
        self._each(request, queryset, moderating.rerun, "queued again")

    @admin.action(description="Re-score their test sets' current label sets (on a worker)", permissions=["change"])
    def rescore(self, request, queryset):
        try:
            label_sets = moderating.rescore(list(queryset.select_related("owner")), request.user)
        except moderating.ModerationError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"Re-scoring queued for {', '.join(label_sets)}.")

    @admin.action(description="Cancel the evaluation", permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, moderating.cancel, "cancelled")


def ban_each(model_admin, request, users, reason: str) -> None:
    banned = 0
    for user in users:
        try:
            banned += moderating.ban(user, request.user, reason)
        except moderating.ModerationError as error:
            model_admin.message_user(request, str(error), messages.WARNING)
    model_admin.message_user(request, f"{banned} user(s) banned.")


admin.site.unregister(User)


@admin.register(User)
class ModeratedUserAdmin(UserAdmin):
    list_display = [*UserAdmin.list_display, "is_active", "banned"]
    actions = ["ban", "unban"]

    @admin.display(description="banned", boolean=True)
    def banned(self, user):
        return Ban.objects.active().filter(user=user).exists()

    @admin.action(description="Ban (asks why)", permissions=["change"])
    def ban(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            "Ban users",
            "Banned users cannot sign in or use their API tokens; their pending submissions are cancelled and "
            "their results hidden.",
            lambda reason: ban_each(self, request, queryset, reason),
        )

    @admin.action(description="Lift the ban", permissions=["change"])
    def unban(self, request, queryset):
        lifted = sum(moderating.unban(user, request.user) for user in queryset)
        self.message_user(request, f"{lifted} ban(s) lifted.")


@admin.register(Ban)
class BanAdmin(ReadOnlyAdmin):
    list_display = ["user", "reason", "banned_by", "banned_at", "lifted_at", "lifted_by"]
    list_filter = [("lifted_at", admin.EmptyFieldListFilter), "banned_at"]
    search_fields = ["user__username", "reason"]


@admin.register(ModerationEvent)
class ModerationEventAdmin(ReadOnlyAdmin):
    """The audit log: every moderation action, who did it, when and why. Append-only (see the model)."""

    list_display = ["at", "actor", "action", "target", "reason"]
    list_filter = ["action", "at", "actor"]
    search_fields = ["target", "reason", "actor__username", "user__username", "=submission__id"]
    date_hierarchy = "at"
    list_select_related = ["actor"]


@admin.register(Result)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ["submission", "label_set", "headline_metric", "headline", "created_at"]
    list_filter = ["label_set__testset", "label_set__name"]


@admin.register(SliceResult)
class SliceResultAdmin(ReadOnlyAdmin):
    list_display = ["result", "slicer", "name", "count"]
    list_filter = ["slicer"]
