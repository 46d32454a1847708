"""Top-level routes: pages, the API, the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("leaderboard.api.urls")),
    path("", include("leaderboard.urls")),
]
