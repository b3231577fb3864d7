# TEMPORARY placeholders so the navigation resolves; the achievements work replaces them.
from django.urls import path
from django.views.generic import TemplateView

app_name = "achievements"
urlpatterns = [
    path("settings/", TemplateView.as_view(template_name="base.html"), name="settings"),
    path("me/", TemplateView.as_view(template_name="base.html"), name="my_achievements"),
]
