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
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
