"""The admin of every domain, imported here so Django's admin autodiscovery registers them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from claims.audit import admin as audit_admin  # noqa: F401
from claims.audit.services import audit_log
from claims.dealers import admin as dealers_admin  # noqa: F401
from claims.fraud import admin as fraud_admin  # noqa: F401
from claims.notifications import admin as notifications_admin  # noqa: F401
from claims.payouts import admin as payouts_admin  # noqa: F401
from claims.programs import admin as programs_admin  # noqa: F401
from claims.review import admin as review_admin  # noqa: F401

admin.site.site_header = gettext_lazy("汽车消费补贴核补系统")
admin.site.site_title = gettext_lazy("补贴核补")
admin.site.index_title = gettext_lazy("工作台")

_admin_login = admin.site.login


def _audited_admin_login(request, extra_context=None):
    """The admin's own login, with an audit row (and the validated client address) for each one that succeeds,
    as the API's token login writes one."""
    was_authenticated = request.user.is_authenticated
    response = _admin_login(request, extra_context)
    if request.method == "POST" and not was_authenticated and request.user.is_authenticated:
        audit_log("staff_login", request=request, via="admin")
    return response


admin.site.login = _audited_admin_login
