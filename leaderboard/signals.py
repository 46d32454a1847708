"""Changes that reach the boards without going through leaderboard/ranking.py's callers: a ban saved or deleted
directly (the admin, a shell), a test set's approval rule saved, results deleted by a cascade (a user or a
submission deleted). Each re-ranks the boards it touches. A user saved under a new name, or a label set edited,
only makes the boards showing it stale in the cache (leaderboard/board_cache.py)."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from leaderboard import ranking
from leaderboard.models import Ban, BoardEntry, LabelSet, Result, TestSet


@receiver([post_save, post_delete], sender=Ban)
def ban_changed(sender, instance: Ban, **kwargs) -> None:
    ranking.changed_after_commit(
        Result.objects.filter(submission__owner_id=instance.user_id).values_list("label_set_id", flat=True)
    )


@receiver(post_save, sender=TestSet)
def testset_saved(sender, instance: TestSet, created: bool, **kwargs) -> None:
    if not created:  # requires_approval may have changed
        ranking.changed_after_commit(instance.label_sets.values_list("pk", flat=True))


@receiver(post_delete, sender=Result)
def result_deleted(sender, instance: Result, **kwargs) -> None:
    ranking.changed_after_commit([instance.label_set_id])


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and "username" not in update_fields):  # a sign-in: last_login
        return
    boards = BoardEntry.objects.filter(submission__owner=instance).values_list("label_set_id", flat=True)
    ranking.restamp(boards.distinct())


@receiver(post_save, sender=LabelSet)
def label_set_saved(sender, instance: LabelSet, created: bool, **kwargs) -> None:
    """A label set edited (its title, whether it is current...): every board of its test set shows it, as a tab or
    beside its own columns. A new one changes their keys by itself (its pk joins them)."""
    if not created:
        ranking.restamp(instance.testset.label_sets.values_list("pk", flat=True))
