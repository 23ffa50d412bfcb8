from rest_framework.routers import DefaultRouter

from analytics.api import views

app_name = "analytics-api"

router = DefaultRouter()
router.register("runs", views.AnalysisRunViewSet, basename="run")
router.register("cohorts", views.CohortDefinitionViewSet, basename="cohort")
router.register("arms", views.ArmDefinitionViewSet, basename="arm")
router.register("groupings", views.GroupingDefinitionViewSet, basename="grouping")
router.register("definitions", views.AnalysisDefinitionViewSet, basename="definition")

urlpatterns = router.urls
