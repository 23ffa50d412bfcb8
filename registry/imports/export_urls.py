from django.urls import path

from registry.imports import views

app_name = "exports"
urlpatterns = [
    path("", views.export_page, name="export"),
    path("download/<slug:kind>/", views.export_download, name="download"),
]
