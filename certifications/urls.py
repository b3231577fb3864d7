from django.urls import path

from certifications import views

app_name = "certifications"
urlpatterns = [
    path("", views.CertificationListView.as_view(), name="list"),
    path("new/", views.CertificationCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views.CertificationUpdateView.as_view(), name="edit"),
    path("<int:pk>/awarded/", views.AwardedUsersView.as_view(), name="awarded"),
    path("<int:pk>/awarded/zip/", views.AwardsZipView.as_view(), name="awards_zip"),
    path("<int:pk>/import/", views.ImportUploadView.as_view(), name="import_upload"),
    path("imports/<int:pk>/", views.ImportPreviewView.as_view(), name="import_preview"),
    path("imports/<int:pk>/errors.csv", views.ImportErrorsView.as_view(), name="import_errors"),
    path("award/", views.AwardUsersView.as_view(), name="award_users"),
    path("award/confirm/", views.AwardUsersConfirmView.as_view(), name="award_users_confirm"),
    path("awards/<int:pk>/edit/", views.AwardEditView.as_view(), name="award_edit"),
    path("awards/<int:pk>/unassign/", views.AwardUnassignView.as_view(), name="award_unassign"),
    path("awards/<int:pk>/pdf/", views.AwardPdfView.as_view(), name="award_pdf"),
    path("users/<int:user_pk>/", views.UserCertificationsTabView.as_view(), name="user_tab"),
    path("mine/", views.MyCertificatesView.as_view(), name="my_certificates"),
    path("verify/<str:code>/", views.VerifyView.as_view(), name="verify"),
]
