"""Top-level routes: pages, the API, the admin; Django's own errors answer JSON under /api/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", include("leaderboard.api.urls")),
    path("", include("leaderboard.urls")),
]

handler400 = "leaderboard.api.errors.bad_request"
handler403 = "leaderboard.api.errors.permission_denied"
handler404 = "leaderboard.api.errors.page_not_found"
handler500 = "leaderboard.api.errors.server_error"
