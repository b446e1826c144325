from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from subsidy.health import healthz

handler500 = "subsidy.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/", healthz),
    path("admin/", admin.site.urls),
    path("api/v1/", include("claims.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # The buyers' pages, at the site root: keep last so every route above wins.
    path("", include("claims.web.urls")),
]
