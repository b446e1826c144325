from django.apps import AppConfig


class OcrConfig(AppConfig):
    name = "ocr"
    verbose_name = "票证识别"
    default_auto_field = "django.db.models.BigAutoField"
