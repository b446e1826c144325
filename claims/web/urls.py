from django.urls import path

from claims.ledger import views as ledger_views
from claims.web import appeals, views

app_name = "web"
urlpatterns = [
    path("", views.program_list, name="programs"),
    path("p/<slug:code>/", views.program_detail, name="program"),
    path("p/<slug:code>/apply/", views.apply, name="apply"),
    path("p/<slug:code>/ledger/", ledger_views.ledger_page, name="ledger"),
    path("p/<slug:code>/ledger/verify/", ledger_views.ledger_verify_page, name="ledger-verify"),
    path("claim/", views.lookup, name="lookup"),
    path("claim/forget/", views.forget, name="forget"),
    path("claim/recover/", appeals.recover, name="recover"),
    path("claim/<str:claim_number>/", views.claim_detail, name="claim"),
    path("claim/<str:claim_number>/submitted/", views.submitted, name="submitted"),
    path("claim/<str:claim_number>/withdraw/", views.withdraw, name="withdraw"),
    path("claim/<str:claim_number>/correct/", views.correct, name="correct"),
    path("claim/<str:claim_number>/bank-account/", views.bank_account, name="bank-account"),
    path("claim/<str:claim_number>/appeal/", appeals.appeal, name="appeal"),
]
