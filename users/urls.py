# TEMPORARY placeholders so the skeleton runs; the users work replaces them.
from django.urls import path
from django.views.generic import TemplateView

app_name = "users"
users_patterns = [
    path("users/", TemplateView.as_view(template_name="base.html"), name="list"),
    path("users/<int:pk>/", TemplateView.as_view(template_name="base.html"), name="detail"),
    path("users/<int:pk>/events/", TemplateView.as_view(template_name="base.html"), name="events"),
    path("profile/", TemplateView.as_view(template_name="base.html"), name="profile"),
]
urlpatterns = users_patterns
