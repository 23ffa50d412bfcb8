from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analyses and reports"
    default_auto_field = "django.db.models.BigAutoField"
