"""The reviewers' page of fraud-signal clusters (one card, phone or image across claims)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, REVIEWER, has_role
from claims.fraud.models import DocumentFingerprint
from claims.fraud.selectors import image_clusters, shared_clusters


@admin.register(DocumentFingerprint)
class FraudClustersAdmin(RoleAdmin):
    """Shown as "疑似关联申请": the model's list is replaced by the clusters page."""

    view_roles = (REVIEWER, AUDITOR)

    def changelist_view(self, request, extra_context=None):
        if not has_role(request.user, *self.view_roles):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("疑似关联申请：同一银行卡、手机号或图片用于多份申请"),
            "opts": self.opts,
            "sections": [
                (_("同一银行卡"), "card", shared_clusters("bank_account_hash")),
                (_("同一手机号"), "phone", shared_clusters("phone_hash")),
                (_("几乎相同的图片"), "image", image_clusters()),
            ],
        }
        return TemplateResponse(request, "claims/admin/fraud_clusters.html", context)
