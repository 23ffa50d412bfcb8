from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("runs/new/", views.run_new, name="run_new"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress.json", views.run_progress, name="run_progress"),
    path("runs/<int:pk>/rerun/", views.run_again, name="run_rerun"),
    path(
        "runs/<int:pk>/files/<int:output_pk>/<str:name>",
        views.output_download,
        name="output_download",
    ),
    path("definitions/", views.definitions, name="definitions"),
]
