from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "HCC registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The admin has autodiscovered every app's admin module by now (it is listed first).
        from django.contrib import admin

        from registry.admin.base import harden_every_admin

        harden_every_admin(admin.site)
