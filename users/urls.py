from django.urls import path

from users.views import organisation, profile, record, security, users_list

app_name = "users"
urlpatterns = [
    path("users/", users_list.UserListView.as_view(), name="list"),
    path("users/bulk/", users_list.UserBulkView.as_view(), name="bulk"),
    path("users/add/", users_list.UserAddView.as_view(), name="add"),
    path("users/<int:pk>/", record.UserDetailView.as_view(), name="detail"),
    path(
        "users/<int:user_pk>/password/", record.UserSetPasswordView.as_view(), name="set_password"
    ),
    path("users/<int:user_pk>/role/", record.UserRoleView.as_view(), name="change_role"),
    path("users/<int:user_pk>/active/", record.UserSetActiveView.as_view(), name="set_active"),
    path("users/<int:user_pk>/invite/", record.UserInviteView.as_view(), name="invite"),
    path("users/<int:user_pk>/events/", record.UserEventsView.as_view(), name="events"),
    path(
        "users/<int:user_pk>/sessions/end/",
        security.UserSessionsEndView.as_view(),
        name="sessions_end",
    ),
    path("profile/sessions/end/", security.MySessionsEndView.as_view(), name="my_sessions_end"),
    path("profile/two-factor/", security.TwoFactorManageView.as_view(), name="two_factor"),
    path("profile/", profile.ProfileView.as_view(), name="profile"),
    path(
        "invitation/<uidb64>/<token>/",
        profile.InviteAcceptView.as_view(),
        name="invite_accept",
    ),
    path("departments/", organisation.DepartmentListView.as_view(), name="department_list"),
    path(
        "departments/<int:pk>/", organisation.DepartmentEditView.as_view(), name="department_edit"
    ),
    path("groups/", organisation.UserGroupListView.as_view(), name="group_list"),
    path("groups/<int:pk>/", organisation.UserGroupEditView.as_view(), name="group_edit"),
    path("custom-fields/", organisation.CustomFieldListView.as_view(), name="customfield_list"),
    path(
        "custom-fields/<int:pk>/",
        organisation.CustomFieldEditView.as_view(),
        name="customfield_edit",
    ),
]
