# TEMPORARY placeholders so the navigation resolves; the progress work replaces them.
from django.urls import path
from django.views.generic import TemplateView

app_name = "progress"
urlpatterns = [
    path("courses/", TemplateView.as_view(template_name="base.html"), name="course_list"),
    path("my-courses/", TemplateView.as_view(template_name="base.html"), name="my_courses"),
]
