"""The SMS outbox in the admin: read-only, never the phone number (only its masked form, from the claim)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, REVIEWER
from claims.appeals.models import Appeal
from claims.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(RoleAdmin):
    view_roles = (REVIEWER, AUDITOR)
    list_display = ("created_at", "claim", "phone", "event", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "event")
    search_fields = ("claim__claim_number",)
    list_select_related = ("claim",)
    fields = ("claim", "event", "text", "status", "attempts", "last_error", "provider_reference", "sent_at")
    readonly_fields = fields

    @admin.display(description=_("手机号"))
    def phone(self, obj: Notification) -> str:
        return obj.claim.phone_masked


@admin.register(Appeal)
class AppealAdmin(RoleAdmin):
    view_roles = (REVIEWER, AUDITOR)
    list_display = ("submitted_at", "claim", "decision", "decided_by", "decided_at")
    list_filter = ("decision",)
    search_fields = ("claim__claim_number",)
    list_select_related = ("claim", "decided_by")
    fields = (
        "claim",
        "reason",
        "documents",
        "rejection_reason",
        "rejected_by",
        "decision",
        "decided_by",
        "note",
    )
    readonly_fields = fields
