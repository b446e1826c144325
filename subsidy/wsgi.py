import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
application = get_wsgi_application()

from subsidy.warmup import web_process_warm  # noqa: E402  (needs the apps loaded above)

web_process_warm()
