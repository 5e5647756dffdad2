from django.urls import path

from . import views

urlpatterns = [
    path("rebates/agreements", views.RebateAgreementListCreateView.as_view(), name="rebate-agreement-list"),
    path(
        "rebates/agreements/<int:pk>",
        views.RebateAgreementDetailView.as_view(),
        name="rebate-agreement-detail",
    ),
    path(
        "rebates/agreements/<int:pk>/statement",
        views.RebateStatementView.as_view(),
        name="rebate-agreement-statement",
    ),
]
