from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    # the Payments tab of the user record and its actions
    path("users/<int:user_pk>/", views.UserPaymentsView.as_view(), name="user_tab"),
    path("users/<int:user_pk>/record/", views.UserPaymentRecordView.as_view(), name="user_record"),
    path(
        "users/<int:user_pk>/payments/<int:pk>/refund/",
        views.UserRefundView.as_view(),
        name="user_refund",
    ),
    path(
        "users/<int:user_pk>/subscriptions/<int:pk>/cancel/",
        views.UserSubscriptionCancelView.as_view(),
        name="user_subscription_cancel",
    ),
    path("users/<int:user_pk>/seats/", views.UserSeatAssignView.as_view(), name="user_seat_assign"),
    path(
        "users/<int:user_pk>/seats/<int:pk>/release/",
        views.UserSeatReleaseView.as_view(),
        name="user_seat_release",
    ),
    path(
        "users/<int:user_pk>/receipts/<int:pk>/",
        views.UserReceiptView.as_view(),
        name="user_receipt",
    ),
    # the learner's own
    path("mine/", views.MyPaymentsView.as_view(), name="mine"),
    path("mine/receipts/<int:pk>/", views.MyReceiptView.as_view(), name="my_receipt"),
    path("mine/card/", views.CardSetupStartView.as_view(), name="card_setup"),
    path("mine/card/done/", views.CardSetupDoneView.as_view(), name="card_setup_done"),
    # providers
    path("webhooks/stripe/", views.StripeWebhookView.as_view(), name="stripe_webhook"),
    # admins
    path("report/", views.PaymentsReportView.as_view(), name="report"),
    path("report/transactions.csv", views.TransactionsExportView.as_view(), name="export"),
]
