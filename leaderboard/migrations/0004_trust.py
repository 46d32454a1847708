"""Issue 10: exactly-once evaluation (attempts, leases, sent_at), quotas, moderation with its append-only audit
log (a PostgreSQL trigger refuses UPDATE and DELETE on it), and named, hashed API tokens."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# As in leaderboard/models/moderation.py at the time of writing: a migration keeps its own copy.
APPEND_ONLY_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION leaderboard_moderationevent_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the moderation audit log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS leaderboard_moderationevent_append_only ON leaderboard_moderationevent;
CREATE TRIGGER leaderboard_moderationevent_append_only
    BEFORE UPDATE OR DELETE ON leaderboard_moderationevent
    FOR EACH ROW EXECUTE FUNCTION leaderboard_moderationevent_refuse();
"""
DROP_APPEND_ONLY_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS leaderboard_moderationevent_append_only ON leaderboard_moderationevent;
DROP FUNCTION IF EXISTS leaderboard_moderationevent_refuse();
"""


def _on_postgresql(sql: str):
    """The demo's SQLite has no plpgsql; there the ORM's own refusal is the guard."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: the % is plpgsql's own

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("leaderboard", "0003_efficiency"),
        # knox's own migrations create its token table even though KNOX_TOKEN_MODEL swaps it for ours; the
        # empty table's foreign key to auth_user would make every flush (and TRUNCATE) fail, so it is dropped
        ("knox", "0009_extend_authtoken_field"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="result",
            name="attempt",
            field=models.PositiveSmallIntegerField(help_text="the evaluation attempt that wrote it", null=True),
        ),
        migrations.AddField(
            model_name="submission",
            name="approved_at",
            field=models.DateTimeField(blank=True, help_text="moderation: approved for publication", null=True),
        ),
        migrations.AddField(
            model_name="submission",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, help_text="how many times a worker started it"),
        ),
        migrations.AddField(
            model_name="submission",
            name="flag_reason",
            field=models.TextField(blank=True, help_text="moderation: a flag the submitter sees"),
        ),
        migrations.AddField(
            model_name="submission",
            name="flagged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="submission",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="submission",
            name="sent_at",
            field=models.DateTimeField(
                blank=True, help_text="when it was handed to the broker; empty: not yet sent (broker down)", null=True
            ),
        ),
        migrations.AddField(
            model_name="submission",
            name="worker",
            field=models.CharField(blank=True, help_text="the worker holding the lease (host:pid)", max_length=200),
        ),
        migrations.AddField(
            model_name="testset",
            name="daily_quota",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="submissions per user in any 24 hours (staff exempt); blank: ZOOBOARD_DAILY_QUOTA; 0 closes it",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="testset",
            name="requires_approval",
            field=models.BooleanField(
                default=False, help_text="moderation: results go public only once staff approve them"
            ),
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("digest", models.CharField(max_length=128, primary_key=True, serialize=False)),
                ("token_key", models.CharField(db_index=True, max_length=25)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("expiry", models.DateTimeField(blank=True, null=True)),
                ("name", models.CharField(max_length=100)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="auth_token_set",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created"],
            },
        ),
        migrations.CreateModel(
            name="ModerationEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("approve", "Approve"),
                            ("revoke-approval", "Revoke Approval"),
                            ("hide", "Hide"),
                            ("unhide", "Unhide"),
                            ("flag", "Flag"),
                            ("unflag", "Unflag"),
                            ("ban", "Ban"),
                            ("unban", "Unban"),
                            ("rerun", "Rerun"),
                            ("rescore", "Rescore"),
                            ("cancel", "Cancel"),
                            ("set-approval", "set a test set's approval rule"),
                        ],
                        db_index=True,
                        max_length=30,
                    ),
                ),
                ("target", models.CharField(help_text="what was acted on, as it was named then", max_length=300)),
                ("reason", models.TextField(blank=True)),
                ("before", models.JSONField(blank=True, default=dict)),
                ("after", models.JSONField(blank=True, default=dict)),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "submission",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="moderation_events",
                        to="leaderboard.submission",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="the user acted on: the banned user, or the submission's owner",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="moderation_events",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Ban",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reason", models.TextField()),
                ("banned_at", models.DateTimeField(auto_now_add=True)),
                ("lifted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "banned_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "lifted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="bans", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-banned_at"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("lifted_at__isnull", True)),
                        fields=("user",),
                        name="one_active_ban_per_user",
                    )
                ],
            },
        ),
        migrations.RunPython(_on_postgresql(APPEND_ONLY_TRIGGER_SQL), _on_postgresql(DROP_APPEND_ONLY_TRIGGER_SQL)),
        migrations.RunSQL("DROP TABLE IF EXISTS knox_authtoken", migrations.RunSQL.noop),
    ]
