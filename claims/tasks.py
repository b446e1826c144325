"""The Celery tasks of every domain, imported here so the worker's autodiscovery registers them.

Task names follow one scheme, `claims.<domain>.<verb>`; the periodic ones are scheduled in settings.
"""

from claims.checks import tasks as checks_tasks  # noqa: F401
from claims.intake import tasks as intake_tasks  # noqa: F401
from claims.payouts import tasks as payouts_tasks  # noqa: F401
from claims.review import tasks as review_tasks  # noqa: F401
