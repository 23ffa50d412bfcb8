from django.urls import path

from registry.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_page, name="import"),
    path("jobs/<int:pk>/", views.job_page, name="job"),
    path("jobs/<int:pk>/errors.csv", views.job_errors_csv, name="errors_csv"),
    path("jobs/<int:pk>/commit/", views.job_commit, name="commit"),
    path("template.xlsx", views.template_download, name="template"),
    path("template/<slug:section>.csv", views.template_section_download, name="template_section"),
    path("dictionary.csv", views.dictionary_download, name="dictionary"),
]
