"""Routes of the finance API and of the applicant's new bank details (issue 7)."""

from django.urls import path

from . import finance

urlpatterns = [
    path("staff/payout-batches/", finance.PayoutBatchListView.as_view(), name="payout-batch-list"),
    path(
        "staff/payout-batches/<int:batch_id>/",
        finance.PayoutBatchDetailView.as_view(),
        name="payout-batch-detail",
    ),
    path(
        "staff/payout-batches/<int:batch_id>/approve/",
        finance.PayoutBatchApproveView.as_view(),
        name="payout-batch-approve",
    ),
    path(
        "staff/payout-batches/<int:batch_id>/file",
        finance.PayoutBatchFileView.as_view(),
        name="payout-batch-file",
    ),
    path("staff/payout-batches/<int:batch_id>/file/", finance.PayoutBatchFileView.as_view()),
    path(
        "staff/payout-batches/<int:batch_id>/results/",
        finance.PayoutResultsView.as_view(),
        name="payout-batch-results",
    ),
    path("staff/reports/<slug:code>/<slug:kind>/", finance.ReportView.as_view(), name="program-report"),
    path(
        "claims/<str:claim_number>/bank-account/",
        finance.ClaimBankAccountView.as_view(),
        name="claim-bank-account",
    ),
]
