from django.urls import include, path

from . import public

app_name = "api"
urlpatterns = [
    path("programs/", public.ProgramListView.as_view(), name="program-list"),
    path("programs/<slug:code>/", public.ProgramDetailView.as_view(), name="program-detail"),
    path("programs/<slug:code>/quote", public.QuoteView.as_view(), name="program-quote"),
    path("programs/<slug:code>/quote/", public.QuoteView.as_view()),
    path("claims/", public.ClaimSubmitView.as_view(), name="claim-submit"),
    path("claims/lookup/", public.ClaimLookupView.as_view(), name="claim-lookup"),
    path("claims/<str:claim_number>/withdraw/", public.ClaimWithdrawView.as_view(), name="claim-withdraw"),
    path("", include("claims.api.staff_urls")),  # staff API and corrections (issue 5)
    path("", include("claims.api.finance_urls")),  # payouts, bank files, reports, new bank details (issue 7)
]
