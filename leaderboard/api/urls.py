from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from leaderboard.api.views import SubmissionViewSet, TestSetViewSet

router = DefaultRouter()
router.register("submissions", SubmissionViewSet, basename="api-submission")
router.register("testsets", TestSetViewSet, basename="api-testset")

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # GET only: drf-spectacular's page has no template for DRF's OPTIONS metadata and answered it with a 500
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
]
