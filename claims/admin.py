"""The admin of every domain, imported here so Django's admin autodiscovery registers them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from claims.audit import admin as audit_admin  # noqa: F401
from claims.dealers import admin as dealers_admin  # noqa: F401
from claims.fraud import admin as fraud_admin  # noqa: F401
from claims.notifications import admin as notifications_admin  # noqa: F401
from claims.payouts import admin as payouts_admin  # noqa: F401
from claims.programs import admin as programs_admin  # noqa: F401
from claims.review import admin as review_admin  # noqa: F401

admin.site.site_header = gettext_lazy("汽车消费补贴核补系统")
admin.site.site_title = gettext_lazy("补贴核补")
admin.site.index_title = gettext_lazy("工作台")
