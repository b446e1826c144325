from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "补贴核补"
    default_auto_field = "django.db.models.BigAutoField"
