from django.urls import path

from achievements import views

app_name = "achievements"
urlpatterns = [
    path("settings/", views.GamificationSettingsView.as_view(), name="settings"),
    path("badges/new/", views.BadgeCreateView.as_view(), name="badge_create"),
    path("badges/<int:pk>/", views.BadgeUpdateView.as_view(), name="badge_update"),
    path("badges/<int:pk>/apply/", views.BadgeApplyView.as_view(), name="badge_apply"),
    path("points/courses/", views.CoursePointsListView.as_view(), name="course_points"),
    path(
        "points/courses/<int:pk>/",
        views.CoursePointsEditView.as_view(),
        name="course_points_edit",
    ),
    path("me/", views.MyAchievementsView.as_view(), name="my_achievements"),
    path("leaderboard/", views.LeaderboardView.as_view(), name="leaderboard"),
    path("users/<int:user_pk>/", views.UserAchievementsView.as_view(), name="user_tab"),
    path(
        "users/<int:user_pk>/points/",
        views.UserPointsManageView.as_view(),
        name="user_points_manage",
    ),
    path(
        "users/<int:user_pk>/badges/grant/",
        views.UserBadgeGrantView.as_view(),
        name="user_badge_grant",
    ),
    path(
        "users/<int:user_pk>/badges/<int:badge_pk>/revoke/",
        views.UserBadgeRevokeView.as_view(),
        name="user_badge_revoke",
    ),
    path("bulk/points/", views.BulkPointsView.as_view(), name="bulk_points"),
    path("bulk/badge/", views.BulkBadgeView.as_view(), name="bulk_badge"),
]
