from django.urls import path

from leaderboard.views import accounts, badges, boards, compare, health, submissions

urlpatterns = [
    path("", boards.index, name="index"),
    path("testsets/<slug:name>/", boards.leaderboard, name="leaderboard"),
    path("compare/", compare.compare_page, name="compare"),
    path("submit/", submissions.submit, name="submit"),
    path("submissions/mine/", submissions.my_submissions, name="my-submissions"),
    path("submissions/<int:pk>/", submissions.detail, name="submission"),
    path("submissions/<int:pk>/cancel/", submissions.cancel, name="submission-cancel"),
    path("submissions/<int:pk>/card/", submissions.edit_card, name="submission-card"),
    path("submissions/<int:pk>/withdraw/", submissions.withdraw, name="submission-withdraw"),
    path("submissions/<int:pk>/badge.svg", badges.badge, name="submission-badge"),
    path("account/", accounts.api_tokens, name="profile"),
    path("account/tokens/", accounts.api_tokens, name="api-tokens"),
    path("account/tokens/revoke/", accounts.revoke_token, name="api-token-revoke"),
    path("healthz", health.health, name="health"),
]
