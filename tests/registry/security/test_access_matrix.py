"""Issue 17: the access matrix, generated from the URL resolver.

Every route × role × own/other site object × read/write is requested. For each answer:

- never a server error;
- anonymous users reach only the public routes (login, health, the API root, the token
  endpoint); everything else is a redirect to the login, 401, 403 or 404;
- a site's staff never read or change another site's object (no 2xx on it, and the other
  site's records keep their version);
- no body holds an identifying or free-text value (a planted marker) of a site the role may not
  see: another site's for site staff; any site's for registry-wide roles;
- and the changelist-lookup attack of item 1 (``?site_patient_ref__startswith=``) is refused.

``RULES`` names, for each route, what its URL needs and what it is. A route that no rule
describes fails ``test_every_route_has_a_rule``: a new page or endpoint is added to the matrix
on purpose, not by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import get_resolver, reverse

from analytics.models import RunOutput
from registry.choices import Role
from registry.models import ImportJob, LabPanel, Patient
from tests.analytics.test_run_helpers import make_cohort, queue_run
from tests.registry.factories import make_site, make_user

from .markers import planted_patient


@dataclass(frozen=True)
class Rule:
    """``needs``: which object fills the URL (none, admin, api, patient, job, run, output);
    ``public``: reachable without logging in; ``write``: POST is tried on the other site's
    object (never on one's own: the matrix must not change the data it reads)."""

    needs: str = "none"
    public: bool = False
    write: bool = True


RULES: list[tuple[str, Rule]] = [
    # public
    (r"^healthz$", Rule(public=True, write=False)),
    (r"^admin:(login|logout)$", Rule(public=True, write=False)),
    (r"^api:token$", Rule(public=True, write=False)),
    (r"^(api|analytics-api):api-root$", Rule(public=True, write=False)),
    (r"^None$", Rule(public=True, write=False)),  # "/" redirects to the admin
    (r"^admin:None$", Rule(needs="catchall", write=False)),  # unknown admin paths
    # the admin: site-wide pages, then one family per registered model
    (r"^admin:(index|password_change|password_change_done|jsi18n)$", Rule(write=False)),
    (r"^admin:autocomplete$", Rule(write=False)),
    (r"^admin:view_on_site$", Rule(needs="view_on_site", write=False)),
    (r"^admin:app_list$", Rule(needs="app_label", write=False)),
    (
        r"^admin:registry_patient_(transition|query_open|query_step|derived_preview)$",
        Rule(needs="patient"),
    ),
    (r"^admin:\w+_(changelist|add)$", Rule()),
    (r"^admin:\w+_(change|delete|history)$", Rule(needs="admin")),
    # the API
    (r"^api:token-revoke$", Rule(write=False)),
    (
        r"^api:patient-(detail|record|endpoints|lock|unlock|verify|reopen|mark-complete)$",
        Rule(needs="patient"),
    ),
    (r"^api:export-section$", Rule(needs="section", write=False)),
    (r"^api:export-\w+$", Rule(write=False)),
    (r"^api:ctcae-term-detail$", Rule(needs="term")),
    (r"^api:[\w-]+-list$", Rule()),
    (r"^api:[\w-]+-detail$", Rule(needs="api")),
    (r"^analytics-api:(run-detail|run-outputs|run-rerun)$", Rule(needs="run")),
    (r"^analytics-api:run-output-download$", Rule(needs="output")),
    (
        r"^analytics-api:(cohort|arm|definition|grouping)-detail$",
        Rule(needs="definition", write=False),
    ),
    (r"^analytics-api:grouping-preview$", Rule(needs="definition", write=False)),
    (r"^analytics-api:[\w-]+-list$", Rule()),
    (r"^api-(schema|docs|redoc)$", Rule(write=False)),
    # the registry's own pages
    (r"^imports:(job|errors_csv|commit)$", Rule(needs="job")),
    (r"^imports:template_section$", Rule(needs="section", write=False)),
    (r"^imports:(import|template|dictionary)$", Rule(write=False)),
    (r"^exports:export$", Rule(write=False)),
    (r"^exports:download$", Rule(needs="kind", write=False)),
    (r"^analytics:(run_detail|run_progress|run_rerun)$", Rule(needs="run")),
    (r"^analytics:output_download$", Rule(needs="output")),
    (r"^analytics:(run_list|run_new|definitions)$", Rule()),
]


def all_routes() -> list[tuple[str, object]]:
    routes = []

    def walk(patterns, namespace: str):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                inner = ":".join(x for x in (namespace, pattern.namespace) if x)
                walk(pattern.url_patterns, inner)
            else:
                name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
                routes.append((name, pattern))

    walk(get_resolver().url_patterns, "")
    return routes


def rule_for(name: str) -> Rule | None:
    return next((rule for pattern, rule in RULES if re.match(pattern, name)), None)


def test_every_route_has_a_rule():
    missing = sorted({name for name, _ in all_routes() if rule_for(name) is None})
    assert missing == []


# --- the world --------------------------------------------------------------------------------

ROLES = [
    "anonymous",
    "data_manager",
    "monitor",
    "site_investigator",
    "registry_investigator",
    "registry_admin",
]
SITE_ROLES = {"data_manager", "monitor", "site_investigator"}


@pytest.fixture
def world(db, shared_media):
    """Two sites, each with a patient whose every section holds planted markers; a user per
    role (site roles at NT); an import job per site; an analysis run with an output."""
    from django.core.files.base import ContentFile

    if True:
        nt, sh = make_site("NT"), make_site("SH", "Shanghai")
        users = {
            "data_manager": make_user("m-dm", Role.DATA_MANAGER, nt, is_staff=True),
            "monitor": make_user("m-mon", Role.MONITOR, nt, is_staff=True),
            "site_investigator": make_user("m-si", Role.SITE_INVESTIGATOR, nt, is_staff=True),
            "registry_investigator": make_user(
                "m-ri", Role.REGISTRY_INVESTIGATOR, None, is_staff=True
            ),
            "registry_admin": make_user("m-ra", Role.REGISTRY_ADMIN, None, is_staff=True),
        }
        sh_manager = make_user("m-dm-sh", Role.DATA_MANAGER, sh, is_staff=True)
        own, own_markers = planted_patient(nt, users["data_manager"], tag="N")
        other, other_markers = planted_patient(sh, sh_manager, tag="S")
        jobs = {
            "own": ImportJob.objects.create(
                site=nt,
                created_by=users["data_manager"],
                original_filename="nt.csv",
                errors=[
                    {
                        "sheet": "labs",
                        "row": 2,
                        "column": "site_patient_ref",
                        "value": own.site_patient_ref,
                        "reason": "x",
                    }
                ],
            ),
            "other": ImportJob.objects.create(
                site=sh,
                created_by=sh_manager,
                original_filename="sh.csv",
                errors=[
                    {
                        "sheet": "labs",
                        "row": 2,
                        "column": "site_patient_ref",
                        "value": other.site_patient_ref,
                        "reason": "x",
                    }
                ],
            ),
        }
        run = queue_run(users["registry_investigator"], make_cohort("all"))
        output = RunOutput(run=run, kind=RunOutput.Kind.CSV, name="table.csv", size_bytes=3)
        output.file.save("table.csv", ContentFile(b"a,b"))
        return {
            "users": users,
            "patients": {"own": own, "other": other},
            "markers": {"own": own_markers, "other": other_markers},
            "jobs": jobs,
            "run": run,
            "output": output,
        }


def admin_model(name: str):
    """The model of an admin route name such as ``admin:registry_labpanel_change``."""
    label = name.split(":", 1)[1].rsplit("_", 1)[0]
    for model in admin.site._registry:
        if f"{model._meta.app_label}_{model._meta.model_name}" == label:
            return model
    return None


def record_of(model, site_code: str):
    """A row of ``model`` belonging to the site (or any row when the model has no site)."""
    for path in ("site__code", "patient__site__code", "assessment__patient__site__code"):
        try:
            return model.objects.filter(**{path: site_code}).order_by("pk").first()
        except Exception:
            continue
    return model.objects.order_by("pk").first()


API_MODELS = {}


def api_model(name: str):
    from registry.api import urls as api_urls

    if not API_MODELS:
        for _prefix, viewset, basename in api_urls.router.registry:
            queryset = getattr(viewset, "queryset", None)
            if queryset is not None:
                API_MODELS[basename] = queryset.model
    return API_MODELS.get(name.split(":", 1)[1].rsplit("-", 1)[0])


def url_for(name: str, pattern, rule: Rule, world, which: str) -> str | None:
    """The route's URL for the own (NT) or other (SH) site's object; None if it has none."""
    site_code = "NT" if which == "own" else "SH"
    patient = world["patients"][which]
    groups = list(pattern.pattern.regex.groupindex)
    kwargs: dict = {}
    if "format" in groups:
        kwargs["format"] = "json"
    needs = rule.needs
    if needs == "admin":
        model = admin_model(name)
        obj = record_of(model, site_code) if model else None
        if obj is None:
            return None
        kwargs["object_id"] = obj.pk
    elif needs == "patient":
        if name.startswith("admin:"):
            kwargs["object_id"] = patient.pk
            if "name" in groups:
                kwargs["name"] = "mark_complete"
            if "query_id" in groups:
                kwargs.update(query_id=1, step="answer")
        else:
            kwargs["study_id"] = patient.study_id
    elif needs == "api":
        model = api_model(name)
        obj = record_of(model, site_code) if model else None
        if obj is None:
            return None
        kwargs["pk"] = obj.pk
    elif needs == "view_on_site":
        from django.contrib.contenttypes.models import ContentType

        kwargs.update(
            content_type_id=ContentType.objects.get_for_model(Patient).pk, object_id=patient.pk
        )
    elif needs == "term":
        kwargs["code"] = "x"
    elif needs == "job":
        kwargs["pk"] = world["jobs"][which].pk
    elif needs in ("run", "definition"):
        kwargs["pk"] = world["run"].pk if needs == "run" else 1
    elif needs == "output":
        kwargs.update(pk=world["run"].pk, output_pk=world["output"].pk)
        if "name" in groups:
            kwargs["name"] = world["output"].name
    elif needs == "section":
        kwargs["section"] = "labs"
    elif needs == "kind":
        kwargs["kind"] = "labs"
    elif needs == "app_label":
        kwargs["app_label"] = "registry"
    if name == "None":
        return "/"
    if needs == "catchall":
        return "/admin/no-such-page/"
    return reverse(name, kwargs=kwargs)


def leaked(body: str, markers: dict[str, str]) -> list[str]:
    return [field for field, value in markers.items() if value in body]


def test_the_access_matrix(client, world):
    """One test over every role (the world is built once): every problem is listed at once."""
    from django.core.cache import cache

    problems: list[str] = []
    for role in ROLES:
        cache.clear()  # API throttles count per client; each role starts fresh
        problems += matrix_problems(client, world, role)
    assert problems == [], "\n".join(problems)


def matrix_problems(client, world, role: str) -> list[str]:
    user = world["users"].get(role)
    forbidden = dict(world["markers"]["other"])
    if role not in SITE_ROLES:
        forbidden.update(world["markers"]["own"])  # registry-wide roles see no site's text
    other_versions = {
        LabPanel: list(
            LabPanel.objects.filter(patient=world["patients"]["other"]).values_list("pk", "version")
        ),
        Patient: list(
            Patient.objects.filter(pk=world["patients"]["other"].pk).values_list("pk", "version")
        ),
    }
    problems: list[str] = []
    seen: set[str] = set()
    for name, pattern in all_routes():
        rule = rule_for(name)
        assert rule is not None, name
        objects = (
            ["own", "other"]
            if rule.needs not in ("none", "section", "kind", "app_label", "term", "definition")
            else ["own"]
        )
        for which in objects:
            url = url_for(name, pattern, rule, world, which)
            if url is None or url in seen:
                continue
            seen.add(url)
            methods = ["get"] + (["post"] if rule.write and which == "other" else [])
            for method in methods:
                if user is not None:
                    client.force_login(user)
                else:
                    client.logout()
                response = getattr(client, method)(url)
                status = response.status_code
                where = f"{role} {method.upper()} {url} ({name}, {which}) → {status}"
                if status >= 500:
                    problems.append(f"server error: {where}")
                    continue
                if role == "anonymous" and not rule.public:
                    redirect_to_login = status == 302 and "login" in response.get("Location", "")
                    if not (redirect_to_login or status in (401, 403, 404, 405)):
                        problems.append(f"anonymous reached: {where}")
                # Django's admin answers a record outside the user's queryset, like a missing
                # one, with a redirect to the admin index ("does not exist"): a refusal.
                refused_redirect = status == 302 and response.get("Location") == "/admin/"
                reached = 200 <= status < 300 or (
                    status == 302 and method == "post" and not refused_redirect
                )
                if (
                    role in SITE_ROLES
                    and which == "other"
                    and rule.needs in ("admin", "patient", "api", "job")
                    and reached
                ):
                    problems.append(f"other site's object reached: {where}")
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                found = leaked(body.decode("utf-8", "replace"), forbidden)
                if found:
                    problems.append(f"leak of {found}: {where}")
    # The changelist-lookup attack of item 1.
    if user is not None:
        client.force_login(user)
        attack = client.get("/admin/registry/patient/", {"site_patient_ref__startswith": "ZQX"})
        if attack.status_code not in (400, 403):
            problems.append(f"changelist lookup accepted for {role}: {attack.status_code}")
    after = {
        LabPanel: list(
            LabPanel.objects.filter(patient=world["patients"]["other"]).values_list("pk", "version")
        ),
        Patient: list(
            Patient.objects.filter(pk=world["patients"]["other"].pk).values_list("pk", "version")
        ),
    }
    if len(seen) < 300:  # every route, most of them for two objects
        problems.append(f"{role}: only {len(seen)} URLs requested")
    if role in SITE_ROLES and after != other_versions:
        problems.append(f"{role} changed the other site's records: {other_versions} → {after}")
    return problems


def test_the_own_site_reads_its_objects_and_registry_roles_read_every_site(client, world):
    own, other = world["patients"]["own"], world["patients"]["other"]
    client.force_login(world["users"]["data_manager"])
    assert client.get(f"/admin/registry/patient/{own.pk}/change/").status_code == 200
    assert client.get(f"/api/v1/patients/{own.study_id}/").status_code == 200
    client.force_login(world["users"]["registry_investigator"])
    assert client.get(f"/api/v1/patients/{other.study_id}/record/").status_code == 200
    assert apps.get_model("registry", "Patient").objects.count() == 2
