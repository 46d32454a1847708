"""Moderation through the admin, as staff: each action's effect and its audit row (who, what, when, why), an
audit log that cannot be changed or deleted (admin, ORM, SQL), bans, and approval before publication."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from config.celery import EVALUATE_TASK, RESCORE_TASK
from leaderboard.models import Action, AppendOnlyError, Ban, ModerationEvent, Status, Submission
from leaderboard.models.moderation import APPEND_ONLY_TRIGGER_SQL
from tests.helpers import finished_submission

SUBMISSIONS = "/admin/leaderboard/submission/"
USERS = "/admin/auth/user/"


def act(client, changelist: str, action: str, *objects):
    """Picks an action for the selected rows on an admin list, as the dropdown does."""
    return client.post(changelist, {"action": action, "_selected_action": [o.pk for o in objects], "index": 0})


def act_with_reason(client, changelist: str, action: str, reason: str, *objects):
    """The action's intermediate page answered with a reason."""
    asked = act(client, changelist, action, *objects)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    fields = {"action": action, "_selected_action": [o.pk for o in objects], "reason": reason, "apply": "yes"}
    return client.post(changelist, fields)


@pytest.fixture
def moderator(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def done(cifar10, alice):
    return finished_submission(cifar10, alice, "AliceNet", 0.8103, 0.9872)


def the_event(action: Action) -> ModerationEvent:
    return ModerationEvent.objects.get(action=action)


def assert_audited(event: ModerationEvent, staff, submission=None, reason="", started=None):
    assert event.actor == staff and event.reason == reason
    assert event.submission_id == (submission.pk if submission else None)
    assert started <= event.at <= timezone.now()


PUBLIC = ("/", "/testsets/cifar10/", "/api/testsets/cifar10/leaderboard/", "/api/submissions/")


def public_pages(client) -> dict[str, str]:
    """What an anonymous visitor reads: the home page, the board (with its chart's data), the API's board and list."""
    client.logout()
    return {path: client.get(path).content.decode() for path in PUBLIC}


def shown_nowhere(client, name: str) -> bool:
    return not any(name in page for page in public_pages(client).values())


def shown_everywhere(client, name: str) -> bool:
    pages = public_pages(client)
    chart = pages["/testsets/cifar10/"].split('id="cost-chart-data"')[-1]
    return all(name in page for page in pages.values()) and name in chart


def test_hiding_asks_why_then_hides_and_is_audited(moderator, done, staff, client):
    started = timezone.now()
    asked = act(moderator, SUBMISSIONS, "hide", done)
    assert "Hide submissions" in asked.content.decode() and not Submission.objects.get(pk=done.pk).hidden
    response = act_with_reason(moderator, SUBMISSIONS, "hide", "copies a published model", done)
    assert response.status_code == 302 and Submission.objects.get(pk=done.pk).hidden
    event = the_event(Action.HIDE)
    assert_audited(event, staff, done, "copies a published model", started)
    assert event.before == {"hidden": False} and event.after == {"hidden": True} and event.user == done.owner
    assert shown_nowhere(client, done.name)


def test_hiding_without_a_reason_is_refused_and_changes_nothing(moderator, done):
    response = act_with_reason(moderator, SUBMISSIONS, "hide", "  ", done)
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Submission.objects.get(pk=done.pk).hidden and not ModerationEvent.objects.exists()


def test_unhiding_shows_it_again_and_is_audited(moderator, cifar10, alice, staff, client):
    hidden = finished_submission(cifar10, alice, "Back on the board", 0.8, 0.9, hidden=True)
    started = timezone.now()
    assert act(moderator, SUBMISSIONS, "unhide", hidden).status_code == 302
    assert not Submission.objects.get(pk=hidden.pk).hidden
    assert_audited(the_event(Action.UNHIDE), staff, hidden, "", started)
    assert shown_everywhere(client, hidden.name)


def test_the_submitter_reads_a_flag_on_her_page_and_in_the_api(moderator, done, alice, bob, staff, client, api_as):
    started = timezone.now()
    act_with_reason(moderator, SUBMISSIONS, "flag", "the description does not say what the model is", done)
    assert_audited(the_event(Action.FLAG), staff, done, "the description does not say what the model is", started)
    client.force_login(alice)
    assert "the description does not say what the model is" in client.get(f"/submissions/{done.pk}/").content.decode()
    moderation = api_as(alice).get(f"/api/submissions/{done.pk}/").json()["moderation"]
    assert moderation["flag"] == "the description does not say what the model is" and moderation["flagged_at"]
    # the flag is for her: another researcher sees the (public) submission, not the flag
    client.force_login(bob)
    assert "does not say" not in client.get(f"/submissions/{done.pk}/").content.decode()
    assert api_as(bob).get(f"/api/submissions/{done.pk}/").json()["moderation"] is None


def test_clearing_a_flag_is_audited(moderator, done, alice, api_as):
    act_with_reason(moderator, SUBMISSIONS, "flag", "unclear", done)
    act(moderator, SUBMISSIONS, "unflag", done)
    assert api_as(alice).get(f"/api/submissions/{done.pk}/").json()["moderation"]["flag"] is None
    assert the_event(Action.UNFLAG).before["flag_reason"] == "unclear"


def test_cancelling_a_queued_evaluation_is_audited(moderator, cifar10, alice, staff):
    queued = Submission.objects.create(owner=alice, testset=cifar10, name="Queued", preprocessing={})
    started = timezone.now()
    act(moderator, SUBMISSIONS, "cancel", queued)
    assert Submission.objects.get(pk=queued.pk).status == Status.CANCELLED
    event = the_event(Action.CANCEL)
    assert_audited(event, staff, queued, "", started)
    assert event.before == {"status": "queued"}


def test_cancelling_a_finished_submission_changes_nothing(moderator, done):
    response = act(moderator, SUBMISSIONS, "cancel", done)
    assert "cannot move from done to cancelled" in moderator.get(response["Location"]).content.decode()
    assert Submission.objects.get(pk=done.pk).status == Status.DONE and not ModerationEvent.objects.exists()


def test_staff_cancelling_through_the_api_is_audited_and_the_owner_is_not(cifar10, alice, staff, api_as):
    theirs = Submission.objects.create(owner=alice, testset=cifar10, name="Theirs", preprocessing={})
    own = Submission.objects.create(owner=alice, testset=cifar10, name="Own", preprocessing={})
    assert api_as(staff).post(f"/api/submissions/{theirs.pk}/cancel/").status_code == 200
    assert api_as(alice).post(f"/api/submissions/{own.pk}/cancel/").status_code == 200
    assert list(ModerationEvent.objects.values_list("submission", "actor")) == [(theirs.pk, staff.pk)]


def test_a_rerun_queues_a_finished_submission_again(
    moderator, done, staff, sent_tasks, django_capture_on_commit_callbacks
):
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        act(moderator, SUBMISSIONS, "rerun", done)
    rerun = Submission.objects.get(pk=done.pk)
    assert rerun.status == Status.QUEUED and not rerun.results.exists()
    assert (EVALUATE_TASK, done.pk) in [(name, kwargs["args"][0]) for name, kwargs in sent_tasks]
    event = the_event(Action.RERUN)
    assert_audited(event, staff, done, "", started)
    assert event.before["status"] == "done"


def test_a_rescore_queues_every_current_label_set_of_the_test_set(moderator, done, staff, sent_tasks, cifar10):
    started = timezone.now()
    act(moderator, SUBMISSIONS, "rescore", done)
    current = {(ls.name, ls.version) for ls in cifar10.label_sets.filter(is_current=True)}
    queued = {(kwargs["args"][1], kwargs["args"][2]) for name, kwargs in sent_tasks if name == RESCORE_TASK}
    assert current and queued == current
    event = the_event(Action.RESCORE)
    assert_audited(event, staff, done, "", started)
    assert len(event.after["queued"]) == len(current)


def test_approval_gates_the_boards_the_home_page_and_the_api(moderator, cifar10, alice, bob, staff, client, api_as):
    cifar10.requires_approval = True
    cifar10.save()
    waiting = finished_submission(cifar10, alice, "Awaiting approval", 0.8103, 0.9872)
    assert shown_nowhere(client, waiting.name)
    assert api_as(bob).get(f"/api/submissions/{waiting.pk}/").status_code == 404
    client.force_login(alice)
    assert "publishes results once a moderator approves" in client.get(f"/submissions/{waiting.pk}/").content.decode()
    assert api_as(alice).get(f"/api/submissions/{waiting.pk}/").json()["moderation"]["approval"] == "awaiting"
    assert api_as(staff).get(f"/api/submissions/{waiting.pk}/").status_code == 200

    client.force_login(staff)
    started = timezone.now()
    act(client, SUBMISSIONS, "approve", waiting)
    assert_audited(the_event(Action.APPROVE), staff, waiting, "", started)
    assert shown_everywhere(client, waiting.name)
    assert api_as(alice).get(f"/api/submissions/{waiting.pk}/").json()["moderation"]["approval"] == "approved"


def test_revoking_an_approval_takes_the_result_off_the_boards(moderator, cifar10, alice, client):
    cifar10.requires_approval = True
    cifar10.save()
    approved = finished_submission(cifar10, alice, "Approved once", 0.8, 0.9)
    act(moderator, SUBMISSIONS, "approve", approved)
    act(moderator, SUBMISSIONS, "revoke_approval", approved)
    assert shown_nowhere(client, approved.name)
    assert ModerationEvent.objects.filter(action=Action.REVOKE_APPROVAL, submission=approved).exists()


def test_a_test_set_without_approval_publishes_at_once(done, client):
    assert shown_everywhere(client, done.name)


@pytest.fixture
def alice_with_work(cifar10, alice, done):
    queued = Submission.objects.create(owner=alice, testset=cifar10, name="Alice's queued", preprocessing={})
    running = Submission.objects.create(owner=alice, testset=cifar10, name="Alice's running", preprocessing={})
    running.move_to(Status.RUNNING)
    return done, queued, running


def test_a_ban_cancels_pending_work_hides_results_and_refuses_the_token(
    moderator, alice, alice_with_work, staff, client, api_as
):
    done, queued, running = alice_with_work
    alice_api = api_as(alice)
    assert alice_api.get("/api/submissions/").status_code == 200
    started = timezone.now()
    act_with_reason(moderator, USERS, "ban", "submitted the test labels as a model", alice)

    assert not type(alice).objects.get(pk=alice.pk).is_active
    assert Ban.objects.active().get(user=alice).reason == "submitted the test labels as a model"
    assert {s.status for s in Submission.objects.filter(pk__in=[queued.pk, running.pk])} == {Status.CANCELLED}
    assert Submission.objects.get(pk=done.pk).status == Status.DONE  # hidden, not rewritten
    assert shown_nowhere(client, done.name)
    event = the_event(Action.BAN)
    assert_audited(event, staff, None, "submitted the test labels as a model", started)
    assert event.user == alice and sorted(event.after["cancelled"]) == sorted([queued.pk, running.pk])

    assert alice_api.get("/api/submissions/").status_code == 401
    assert (
        alice_api.post("/api/submissions/", {"testset": "cifar10", "model_identifier": "timm:resnet18"}).status_code
        == 401
    )
    assert Submission.objects.filter(owner=alice).count() == 3


def test_a_banned_user_cannot_sign_in_and_is_signed_out(moderator, alice, client):
    act_with_reason(moderator, USERS, "ban", "spam", alice)
    client.logout()
    response = client.post("/accounts/login/", {"login": "alice", "password": "password"})
    assert response.status_code == 302 and response["Location"] == "/accounts/inactive/"
    assert "_auth_user_id" not in client.session
    assert "This account is inactive." in client.get("/accounts/inactive/").content.decode()
    client.force_login(alice)  # a session from before the ban
    assert client.get("/submissions/mine/").status_code == 302


def test_banning_from_the_submission_list_bans_the_submitter(moderator, alice, done, client):
    act_with_reason(moderator, SUBMISSIONS, "ban_owners", "flooded the queue", done)
    assert Ban.objects.active().filter(user=alice).exists() and shown_nowhere(client, done.name)


def test_staff_cannot_be_banned(moderator, staff):
    act_with_reason(moderator, USERS, "ban", "oops", staff)
    assert not Ban.objects.exists() and type(staff).objects.get(pk=staff.pk).is_active


def test_lifting_a_ban_restores_sign_in_and_results(moderator, alice, done, staff, client):
    act_with_reason(moderator, USERS, "ban", "mistaken identity", alice)
    act(moderator, USERS, "unban", alice)
    assert type(alice).objects.get(pk=alice.pk).is_active and not Ban.objects.active().exists()
    assert Ban.objects.get(user=alice).lifted_by == staff  # the record stays
    assert the_event(Action.UNBAN).actor == staff
    assert shown_everywhere(client, done.name)


@pytest.fixture
def event(moderator, done):
    act_with_reason(moderator, SUBMISSIONS, "hide", "the original reason", done)
    return the_event(Action.HIDE)


def test_the_audit_log_is_readable_in_the_admin(moderator, event):
    listed = moderator.get("/admin/leaderboard/moderationevent/").content.decode()
    assert "the original reason" in listed and "staff" in listed
    page = moderator.get(f"/admin/leaderboard/moderationevent/{event.pk}/change/")
    assert page.status_code == 200 and "the original reason" in page.content.decode()
    assert 'name="reason"' not in page.content.decode() and 'name="_save"' not in page.content.decode()


def test_the_audit_log_cannot_be_changed_or_deleted_in_the_admin(moderator, event):
    url = f"/admin/leaderboard/moderationevent/{event.pk}/"
    assert moderator.post(f"{url}change/", {"reason": "rewritten", "action": "unhide"}).status_code == 403
    assert moderator.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert moderator.get("/admin/leaderboard/moderationevent/add/").status_code == 403
    bulk = act(moderator, "/admin/leaderboard/moderationevent/", "delete_selected", event)
    assert bulk.status_code in (200, 302)
    assert ModerationEvent.objects.get(pk=event.pk).reason == "the original reason"


def test_the_audit_log_cannot_be_changed_or_deleted_through_the_orm(event):
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ModerationEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        ModerationEvent.objects.filter(pk=event.pk).delete()
    assert ModerationEvent.objects.get(pk=event.pk).reason == "the original reason"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE leaderboard_moderationevent SET reason = 'rewritten'", "DELETE FROM leaderboard_moderationevent"],
)
def test_the_audit_log_cannot_be_changed_or_deleted_in_sql(event, statement):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY_TRIGGER_SQL)  # what the migration installs
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
        cursor.execute(
            "INSERT INTO leaderboard_moderationevent (at, actor_id, action, target, reason, before, after)"
            " VALUES (now(), %s, 'hide', 'x', 'appended', '{}', '{}')",
            [event.actor_id],
        )
    assert ModerationEvent.objects.get(pk=event.pk).reason == "the original reason"
    assert ModerationEvent.objects.count() == 2  # appending still works


def test_a_submissions_file_and_figures_are_read_only_in_the_admin(moderator, done):
    Submission.objects.filter(pk=done.pk).update(
        model_sha256="5f" * 32, efficiency={"throughput": 1234.5}, timings={"run": 9.75}
    )
    page = moderator.get(f"{SUBMISSIONS}{done.pk}/change/").content.decode()
    assert "5f" * 32 in page and "1234.5" in page and "9.75" in page
    for field in ("model_sha256", "efficiency", "timings", "model_details", "preprocessing", "hidden", "model_file"):
        assert f'name="{field}"' not in page
    moderator.post(f"{SUBMISSIONS}{done.pk}/change/", {"hidden": "on", "model_sha256": "0" * 64})
    unchanged = Submission.objects.get(pk=done.pk)
    assert unchanged.model_sha256 == "5f" * 32 and not unchanged.hidden


def test_the_submission_list_filters_and_searches(moderator, done, cifar10, bob):
    finished_submission(cifar10, bob, "BobNet", 0.7, 0.9)
    act_with_reason(moderator, SUBMISSIONS, "flag", "unclear", done)
    flagged = moderator.get(f"{SUBMISSIONS}?flagged=yes").content.decode()
    assert "AliceNet" in flagged and "BobNet" not in flagged
    searched = moderator.get(f"{SUBMISSIONS}?q=bob").content.decode()
    assert "BobNet" in searched and "AliceNet" not in searched


def posted_again(page, **changes) -> dict:
    """An admin change form's data as the browser would send it back, with some fields changed."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value not in (None, False):
                data[bound.html_name] = "on" if value is True else value
    return {**data, **changes}


def test_requiring_approval_on_a_test_set_is_audited(moderator, cifar10, staff):
    url = f"/admin/leaderboard/testset/{cifar10.pk}/change/"
    started = timezone.now()
    response = moderator.post(url, posted_again(moderator.get(url), requires_approval="on"))
    assert response.status_code == 302
    cifar10.refresh_from_db()
    assert cifar10.requires_approval
    event = the_event(Action.SET_APPROVAL)
    assert_audited(event, staff, None, "", started)
    assert event.after == {"requires_approval": True} and event.target == "test set cifar10"


@pytest.mark.parametrize(
    "path, shows",
    [
        (SUBMISSIONS, "AliceNet"),
        (f"{SUBMISSIONS}?approval=not-required", "AliceNet"),
        (f"{SUBMISSIONS}?owner__is_active__exact=0", "AliceNet"),
        (USERS, "alice"),
        ("/admin/leaderboard/ban/?lifted_at__isempty=1", "alice"),
        ("/admin/leaderboard/moderationevent/?action__exact=ban", "user alice"),
        ("/admin/leaderboard/result/", "AliceNet"),
    ],
)
def test_the_moderation_lists_render_for_staff(moderator, done, path, shows):
    act_with_reason(moderator, SUBMISSIONS, "ban_owners", "spam", done)
    page = moderator.get(path)
    assert page.status_code == 200 and shows in page.content.decode()


def test_marking_a_baseline_is_audited_and_pins_it_on_the_board(moderator, done, cifar10, bob, staff, client):
    stronger = finished_submission(cifar10, bob, "Stronger", 0.95, 0.99)
    started = timezone.now()
    assert act(moderator, SUBMISSIONS, "mark_baseline", done).status_code == 302
    assert Submission.objects.get(pk=done.pk).is_baseline
    event = the_event(Action.MARK_BASELINE)
    assert_audited(event, staff, done, "", started)
    assert event.before == {"is_baseline": False} and event.after == {"is_baseline": True}
    client.logout()
    board = client.get("/api/testsets/cifar10/leaderboard/?owner=bob").json()
    assert [row["name"] for row in board["rows"]] == [stronger.name]
    assert [row["name"] for row in board["baselines"]] == [done.name]
    moderator.force_login(staff)
    assert act(moderator, SUBMISSIONS, "unmark_baseline", done).status_code == 302
    assert client.get("/api/testsets/cifar10/leaderboard/").json()["baselines"] == []
