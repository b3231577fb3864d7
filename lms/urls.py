from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from lms import views
from users.views.security import MeritLoginView, TwoFactorVerifyView

jobs_patterns = (
    [
        path("", views.JobListView.as_view(), name="job_list"),
        path("<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
        path("<int:pk>/status/", views.JobStatusView.as_view(), name="job_status"),
        path("<int:pk>/download/", views.JobResultDownloadView.as_view(), name="job_download"),
    ],
    "lms",
)

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("view-mode/", views.ViewModeSwitchView.as_view(), name="view_mode"),
    path("jobs/", include(jobs_patterns)),
    path("", include("users.urls")),
    path("achievements/", include("achievements.urls")),
    path("certifications/", include("certifications.urls")),
    path("learning/", include("progress.urls")),
    path("payments/", include("payments.urls")),
    path("hijack/", include("hijack.urls")),
    path("django-admin/", admin.site.urls),
]
urlpatterns += [
    path(
        f"{settings.MEDIA_URL.strip('/')}/<path:path>", views.MediaImageView.as_view(), name="media"
    )
]

urlpatterns += [
    path("accounts/login/", MeritLoginView.as_view(), name="login"),
    path("accounts/two-factor/", TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("accounts/", include("django.contrib.auth.urls")),
]
