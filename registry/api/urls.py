from django.urls import include, path
from rest_framework.routers import DefaultRouter

from registry.api import views
from registry.api.tokens import ObtainToken, RevokeToken

router = DefaultRouter()
router.register("sites", views.SiteViewSet, basename="site")
router.register("ctcae-terms", views.CtcaeTermViewSet, basename="ctcae-term")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("lab-panels", views.LabPanelViewSet, basename="lab-panel")
router.register("tumour-assessments", views.TumourAssessmentViewSet, basename="tumour-assessment")
router.register("tace-sessions", views.TaceSessionViewSet, basename="tace-session")
router.register("haic-cycles", views.HaicCycleViewSet, basename="haic-cycle")
router.register(
    "radiotherapy-courses", views.RadiotherapyCourseViewSet, basename="radiotherapy-course"
)
router.register("local-procedures", views.LocalProcedureViewSet, basename="local-procedure")
router.register("systemic-therapies", views.SystemicTherapyViewSet, basename="systemic-therapy")
router.register(
    "imaging-assessments", views.ImagingAssessmentViewSet, basename="imaging-assessment"
)
router.register(
    "lesion-measurements", views.LesionMeasurementViewSet, basename="lesion-measurement"
)
router.register("adverse-events", views.AdverseEventViewSet, basename="adverse-event")
router.register("follow-ups", views.FollowUpViewSet, basename="follow-up")
router.register("progression-events", views.ProgressionEventViewSet, basename="progression-event")
router.register("deaths", views.DeathViewSet, basename="death")
router.register("imports", views.ImportJobViewSet, basename="import-job")
router.register("exports", views.ExportViewSet, basename="export")

app_name = "api"
urlpatterns = [
    path("auth/token/", ObtainToken.as_view(), name="token"),
    path("auth/token/revoke/", RevokeToken.as_view(), name="token-revoke"),
    path("", include(router.urls)),
]
