"""Staff API routes (CONTRACT §3, staff table), mounted under /api/v1/ by claims/api/urls.py."""

from django.urls import path

from claims.views_documents import DocumentView

from . import corrections, staff

urlpatterns = [
    path("auth/token/", staff.TokenView.as_view(), name="auth-token"),
    path("staff/reasons/", staff.ReasonListView.as_view(), name="staff-reasons"),
    path("staff/claims/", staff.StaffClaimListView.as_view(), name="staff-claim-list"),
    path("staff/claims/<str:claim_number>/", staff.StaffClaimDetailView.as_view(), name="staff-claim-detail"),
    path("staff/claims/<str:claim_number>/approve/", staff.ApproveView.as_view(), name="staff-claim-approve"),
    path("staff/claims/<str:claim_number>/reject/", staff.RejectView.as_view(), name="staff-claim-reject"),
    path("staff/claims/<str:claim_number>/return/", staff.ReturnView.as_view(), name="staff-claim-return"),
    path("staff/documents/<int:pk>/", DocumentView.as_view(), name="staff-document"),
    path("claims/<str:claim_number>/correct/", corrections.ClaimCorrectView.as_view(), name="claim-correct"),
]
