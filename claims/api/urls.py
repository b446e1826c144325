"""Every route of the JSON API, mounted under /api/v1/, grouped by audience (see docs/api.md)."""

from django.urls import path

from claims.accounts import api as accounts_api
from claims.appeals import api as appeals_api
from claims.dealers import api as dealers_api
from claims.intake import api as intake_api
from claims.intake import api_corrections
from claims.ledger import api as ledger_api
from claims.notifications import api as notifications_api
from claims.payouts import api as payouts_api
from claims.programs import api as programs_api
from claims.review import api as review_api
from claims.review.views import DocumentView

app_name = "api"
BATCH = "staff/payout-batches/<int:batch_id>"
urlpatterns = [
    # --- Public and applicant ---------------------------------------------------------------------------------
    path("programs/", programs_api.ProgramListView.as_view(), name="program-list"),
    path("programs/<slug:code>/", programs_api.ProgramDetailView.as_view(), name="program-detail"),
    path("programs/<slug:code>/quote", programs_api.QuoteView.as_view(), name="program-quote"),
    path("programs/<slug:code>/quote/", programs_api.QuoteView.as_view()),
    path("programs/<slug:code>/ledger/", ledger_api.LedgerListView.as_view(), name="ledger-list"),
    path(
        "programs/<slug:code>/ledger/<int:seq>.csv", ledger_api.LedgerFileView.as_view(), name="ledger-file"
    ),
    path("claims/", intake_api.ClaimSubmitView.as_view(), name="claim-submit"),
    path("claims/lookup/", intake_api.ClaimLookupView.as_view(), name="claim-lookup"),
    path("claims/recover/", notifications_api.ClaimNumberRecoverView.as_view(), name="claim-recover"),
    path("claims/<str:claim_number>/appeal/", appeals_api.ClaimAppealView.as_view(), name="claim-appeal"),
    path("claims/check/", intake_api.ClaimCheckView.as_view(), name="claim-check"),
    path("uploads/", intake_api.UploadView.as_view(), name="upload"),
    path(
        "claims/<str:claim_number>/withdraw/", intake_api.ClaimWithdrawView.as_view(), name="claim-withdraw"
    ),
    path(
        "claims/<str:claim_number>/correct/", api_corrections.ClaimCorrectView.as_view(), name="claim-correct"
    ),
    path(
        "claims/<str:claim_number>/bank-account/",
        payouts_api.ClaimBankAccountView.as_view(),
        name="claim-bank-account",
    ),
    # --- Staff: review ----------------------------------------------------------------------------------------
    path("auth/token/", accounts_api.TokenView.as_view(), name="auth-token"),
    path("staff/reasons/", review_api.ReasonListView.as_view(), name="staff-reasons"),
    path("staff/claims/", review_api.StaffClaimListView.as_view(), name="staff-claim-list"),
    path("staff/claims/search/", review_api.StaffClaimSearchView.as_view(), name="staff-claim-search"),
    path(
        "staff/claims/<str:claim_number>/",
        review_api.StaffClaimDetailView.as_view(),
        name="staff-claim-detail",
    ),
    path(
        "staff/claims/<str:claim_number>/approve/",
        review_api.ApproveView.as_view(),
        name="staff-claim-approve",
    ),
    path(
        "staff/claims/<str:claim_number>/reject/", review_api.RejectView.as_view(), name="staff-claim-reject"
    ),
    path(
        "staff/claims/<str:claim_number>/return/", review_api.ReturnView.as_view(), name="staff-claim-return"
    ),
    path("staff/dealer-sales/", dealers_api.DealerSalesView.as_view(), name="dealer-sales"),
    path(
        "staff/claims/<str:claim_number>/appeal-decision/",
        appeals_api.AppealDecisionView.as_view(),
        name="staff-claim-appeal-decision",
    ),
    path("staff/documents/<int:pk>/", DocumentView.as_view(), name="staff-document"),
    # --- Staff: finance ---------------------------------------------------------------------------------------
    path("staff/payout-batches/", payouts_api.PayoutBatchListView.as_view(), name="payout-batch-list"),
    path(f"{BATCH}/", payouts_api.PayoutBatchDetailView.as_view(), name="payout-batch-detail"),
    path(f"{BATCH}/approve/", payouts_api.PayoutBatchApproveView.as_view(), name="payout-batch-approve"),
    path(f"{BATCH}/cancel/", payouts_api.PayoutBatchCancelView.as_view(), name="payout-batch-cancel"),
    path(f"{BATCH}/file", payouts_api.PayoutBatchFileView.as_view(), name="payout-batch-file"),
    path(f"{BATCH}/file/", payouts_api.PayoutBatchFileView.as_view()),
    path(f"{BATCH}/results/", payouts_api.PayoutResultsView.as_view(), name="payout-batch-results"),
    path(
        "staff/claims/<str:claim_number>/payout-retry/",
        payouts_api.PayoutRetryView.as_view(),
        name="payout-retry",
    ),
    path("staff/reports/<slug:code>/<slug:kind>/", payouts_api.ReportView.as_view(), name="program-report"),
]
