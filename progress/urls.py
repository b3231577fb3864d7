from django.urls import path

from progress import views

app_name = "progress"
urlpatterns = [
    # the catalog (admins)
    path("courses/", views.CourseListView.as_view(), name="course_list"),
    path("courses/<int:pk>/", views.CourseDetailView.as_view(), name="course_detail"),
    # the user record tabs
    path("users/<int:user_pk>/progress/", views.UserProgressView.as_view(), name="user_progress"),
    path(
        "users/<int:user_pk>/progress/update/",
        views.UserProgressChangeView.as_view(),
        name="user_progress_update",
    ),
    path(
        "users/<int:user_pk>/progress/reset/",
        views.UserProgressResetView.as_view(),
        name="user_progress_reset",
    ),
    path("users/<int:user_pk>/access/", views.UserAccessView.as_view(), name="user_access"),
    path(
        "users/<int:user_pk>/access/<str:kind>/<int:pk>/",
        views.UserAccessChangeView.as_view(),
        name="user_access_change",
    ),
    path("users/<int:user_pk>/activity/", views.UserActivityView.as_view(), name="user_activity"),
    path(
        "users/<int:user_pk>/activity/attempts/<int:pk>/forgive/",
        views.ExamAttemptForgiveView.as_view(),
        name="attempt_forgive",
    ),
    path(
        "users/<int:user_pk>/engagement/",
        views.UserEngagementView.as_view(),
        name="user_engagement",
    ),
    path(
        "users/<int:user_pk>/transcript/",
        views.UserTranscriptView.as_view(),
        name="user_transcript",
    ),
    # bulk actions from the users list
    path(
        "bulk/update-progress/",
        views.BulkProgressView.as_view(),
        name="bulk_update_progress",
    ),
    path(
        "bulk/reset-progress/",
        views.BulkResetProgressView.as_view(),
        name="bulk_reset_progress",
    ),
    path("bulk/enroll/", views.BulkEnrollView.as_view(), name="bulk_enroll"),
    path("courses/enroll-csv/", views.CsvEnrollView.as_view(), name="csv_enroll"),
    # the learner's player
    path("my-courses/", views.MyCoursesView.as_view(), name="my_courses"),
    path("my-courses/<int:pk>/", views.PlayerCourseView.as_view(), name="player_course"),
    path(
        "my-courses/activity/<int:pk>/",
        views.PlayerActivityView.as_view(),
        name="player_activity",
    ),
    path(
        "my-courses/activity/<int:pk>/time/",
        views.ActivityTimeView.as_view(),
        name="activity_time",
    ),
    path("my-transcript/", views.MyTranscriptView.as_view(), name="my_transcript"),
]
