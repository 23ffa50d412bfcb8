"""Entering one complete case through the browser: page loads, form submissions, server time.

Method
------
1. A fresh SQLite registry in a scratch directory (``--var-dir``), migrated, with one site and
   one data manager; ``--demo`` seeds the demo registry into it first (``manage.py seed_demo``),
   so the server answers on a populated database. The web server is ``manage.py runserver``
   (``--noreload``) of the code in ``--code`` (default: this checkout), so an older checkout can
   be measured with this same script.
2. Headless Chromium (Playwright, ``/usr/bin/chromium``) logs in (not counted) and enters the
   case of issue 15: enrolment, a baseline lab panel, the baseline tumour, 3 TACE sessions, one
   systemic line, 6 scans (a baseline and 5 follow-ups) with 2 target lesions each, 2 adverse
   events, a follow-up contact and the death — the way the screen allows with the fewest
   screens: on a page with lesion boxes in the scan rows everything after enrolment is one
   save; on one without, a scan's lesions are entered on the scan's own page, and follow-ups
   after their baseline is saved with its lesions (else the save is refused).
3. Counted from the browser's own network events: *page loads* (HTML documents rendered: GETs
   and POSTs answered with a page), *form submissions* (POSTs of a page), *rejected saves*
   (a POST answered with the form again, or with a 4xx/5xx), and the live-preview requests
   (``fetch``). *Server time* is the browser's request-start → response-start of each of them.

Usage: ``.venv/bin/python benchmarks/bench_entry.py [--demo] [--code PATH]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "pw-123456789"


@dataclass(frozen=True)
class Case:
    """The case entered (issue 15); the smoke test enters a smaller one."""

    tace_sessions: int = 3
    follow_up_scans: int = 5
    adverse_events: int = 2


TACE_DATES = ["2023-03-01", "2023-04-12", "2023-05-24"]
SCANS = [  # (date, lesion 1 mm, lesion 2 mm): baseline first
    ("2023-02-25", "40", "25"),
    ("2023-04-05", "35", "22"),
    ("2023-05-17", "30", "20"),
    ("2023-06-28", "28", "18"),
    ("2023-08-09", "32", "20"),
    ("2023-09-20", "45", "30"),
]
EVENTS = [("Fever", "1", "2023-03-03", "local"), ("Hypertension", "2", "2023-03-20", "systemic")]


@dataclass
class Meter:
    """What the browser asked of the server while the case was entered."""

    documents: list[tuple[str, int, float]] = field(default_factory=list)  # method, status, ms
    previews: list[float] = field(default_factory=list)
    counting: bool = False

    def on_response(self, response) -> None:
        if not self.counting:
            return
        request = response.request
        timing = request.timing
        server_ms = max(0.0, timing["responseStart"] - timing["requestStart"])
        if request.resource_type == "document":
            self.documents.append((request.method, response.status, server_ms))
        elif request.resource_type == "fetch" and "/derived/" in request.url:
            self.previews.append(server_ms)

    @property
    def page_loads(self) -> int:
        return sum(1 for _, status, _ in self.documents if status == 200)

    @property
    def submissions(self) -> int:
        return sum(1 for method, _, _ in self.documents if method == "POST")

    @property
    def rejected(self) -> int:
        return sum(1 for method, status, _ in self.documents if method == "POST" and status != 302)

    def summary(self) -> dict[str, float]:
        times = [ms for _, _, ms in self.documents] + self.previews
        return {
            "page loads": self.page_loads,
            "form submissions": self.submissions,
            "rejected saves": self.rejected,
            "preview requests": len(self.previews),
            "server ms, total": round(sum(times)),
            "server ms, median": round(statistics.median(times)) if times else 0,
            "server ms, max": round(max(times)) if times else 0,
            "responses over 500 ms": sum(1 for ms in times if ms > 500),
        }


# --- the case -------------------------------------------------------------------------------


def _save(page, button: str = "_continue") -> None:
    page.click(f"#content-main form input[name={button}] >> nth=-1")
    page.wait_for_load_state("load")
    errors = page.locator(".errorlist, .errornote")
    if errors.count():
        raise AssertionError(f"save refused: {errors.all_inner_texts()}")


def _add(page, group: str) -> int:
    """Click 'Add another' of a section; the index of the new row."""
    total = int(page.input_value(f"input[name={group}-TOTAL_FORMS]"))
    details = page.locator(f"#{group}-group details:not([open]) > summary")
    if details.count():
        details.first.click()  # a folded section (death on older screens)
    page.click(f"#{group}-group .add-row a")
    return total


def _grade(page, row: str, grade: str) -> None:
    selector = f"#id_{row}-grade"
    if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
        page.select_option(selector, grade)
    else:
        page.fill(selector, grade)


def _term(page, row: str, term: str) -> None:
    page.click(f"#id_{row}-term + .select2")
    page.fill(".select2-container--open .select2-search__field", term[:4])
    page.click(f".select2-results__option:text-is('{term}')")


def enrol(page, base_url: str, reference: str) -> None:
    page.goto(f"{base_url}/admin/registry/patient/add/")
    page.fill("#id_site_patient_ref", reference)
    page.select_option("#id_sex", "male")
    page.fill("#id_birth_year", "1958")
    page.fill("#id_body_weight_kg", "62")
    page.check("#id_etiology_hbv")
    page.select_option("#id_antiviral_therapy", "true")
    page.fill("#id_diagnosis_date", "2023-01-10")
    page.select_option("#id_diagnosis_basis", "imaging")
    page.select_option("#id_histology_subtype", "conventional")
    page.fill("#id_index_date", "2023-03-01")
    page.fill("#id_ecog_ps", "0")
    _save(page, "_save")
    page.wait_for_selector("#patient-status")


def _everything_but_scans(page, case: Case) -> None:
    row = f"lab_panels-{_add(page, 'lab_panels')}"
    for name, value in (
        ("sample_date", "2023-02-20"),
        ("albumin_g_l", "40"),
        ("total_bilirubin_umol_l", "17"),
        ("inr", "1.1"),
        ("afp_ng_ml", "250"),
    ):
        page.fill(f"#id_{row}-{name}", value)
    page.select_option(f"#id_{row}-ascites", "none")
    page.select_option(f"#id_{row}-encephalopathy", "none")
    row = f"tumour_assessment-{_add(page, 'tumour_assessment')}"
    page.fill(f"#id_{row}-imaging_date", "2023-02-15")
    page.fill(f"#id_{row}-tumour_number", "2")
    page.fill(f"#id_{row}-max_diameter_cm", "4")
    for number, day in enumerate(TACE_DATES[: case.tace_sessions], start=1):
        row = f"tace_sessions-{_add(page, 'tace_sessions')}"
        page.fill(f"#id_{row}-session_number", str(number))
        page.select_option(f"#id_{row}-technique", "ctace")
        page.fill(f"#id_{row}-start_date", day)
        page.select_option(f"#id_{row}-chemo_agent", "epirubicin")
        page.fill(f"#id_{row}-chemo_dose_mg", "50")
        page.fill(f"#id_{row}-lipiodol_ml", "10")
        page.select_option(f"#id_{row}-technically_adequate", "true")
    row = f"systemic_therapies-{_add(page, 'systemic_therapies')}"
    page.select_option(f"#id_{row}-agent", "lenvatinib")
    page.fill(f"#id_{row}-start_date", "2023-03-10")
    page.fill(f"#id_{row}-dose", "8")
    page.select_option(f"#id_{row}-dose_unit", "mg")
    page.fill(f"#id_{row}-schedule", "once daily")
    for term, grade, onset, attribution in EVENTS[: case.adverse_events]:
        row = f"adverse_events-{_add(page, 'adverse_events')}"
        _term(page, row, term)
        _grade(page, row, grade)
        page.fill(f"#id_{row}-onset_date", onset)
        page.select_option(f"#id_{row}-attribution", attribution)
    row = f"follow_ups-{_add(page, 'follow_ups')}"
    page.fill(f"#id_{row}-contact_date", "2023-10-15")
    page.select_option(f"#id_{row}-vital_status", "alive")
    row = f"death-{_add(page, 'death')}"
    page.fill(f"#id_{row}-death_date", "2024-01-20")
    page.select_option(f"#id_{row}-cause", "tumour_progression")


def _scan_row(page, scan: tuple[str, str, str], baseline: bool) -> tuple[str, bool]:
    """A scan row; whether its lesions could be typed in it."""
    row = f"imaging_assessments-{_add(page, 'imaging_assessments')}"
    page.fill(f"#id_{row}-assessment_date", scan[0])
    if baseline:
        page.check(f"#id_{row}-is_baseline")
    page.select_option(f"#id_{row}-modality", "ct")
    in_row = page.locator(f"#id_{row}-target_lesions_mm_0").count() > 0
    if in_row:
        page.fill(f"#id_{row}-target_lesions_mm_0", scan[1])
        page.fill(f"#id_{row}-target_lesions_mm_1", scan[2])
    return row, in_row


def _lesions_on_scan_page(page, scan_date: str, scan: tuple[str, str, str]) -> None:
    """Older screens: open the scan's own page, add its two lesions, save back to the patient."""
    link = page.locator(
        f"tr:has(input[value='{scan_date}']) a.target-lesions-link, "
        f".inline-related:has(input[value='{scan_date}']) a.target-lesions-link"
    )
    link.first.click()
    page.wait_for_load_state("load")
    for index, diameter in enumerate(scan[1:]):
        page.click("#measurements-group .add-row a")
        page.fill(f"#id_measurements-{index}-lesion_number", str(index + 1))
        page.fill(f"#id_measurements-{index}-diameter_mm", diameter)
    _save(page, "_save")


def enter_case(page, case: Case = Case()) -> None:
    """Everything after enrolment, on the patient page the browser is on."""
    scans = SCANS[: 1 + case.follow_up_scans]
    _everything_but_scans(page, case)
    _, in_row = _scan_row(page, scans[0], baseline=True)
    if in_row:
        for scan in scans[1:]:
            _scan_row(page, scan, baseline=False)
        _save(page)  # one save: the baseline, its follow-ups and every lesion
        return
    _save(page)  # the baseline first: follow-ups are refused until it has its lesions
    _lesions_on_scan_page(page, scans[0][0], scans[0])
    for scan in scans[1:]:
        _scan_row(page, scan, baseline=False)
    _save(page)
    for scan in scans[1:]:
        _lesions_on_scan_page(page, scan[0], scan)


# --- the benchmark --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(code: Path, env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=code, env=env, check=True)


def _prepare(code: Path, env: dict, demo: bool) -> None:
    _manage(code, env, "migrate", "--noinput", "-v", "0")
    if demo:
        _manage(code, env, "seed_demo")
    script = (
        "from registry.models import Site\n"
        "from tests.registry.factories import make_data_manager\n"
        "site = Site.objects.filter(code='BE').first() or Site.objects.create(code='BE', "
        "name='Bench site', country='CN')\n"
        "make_data_manager(site, 'dm-bench')\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=code,
        env={**env, "PYTHONPATH": str(code)},
        check=True,
    )


def run(code: Path, var_dir: Path, demo: bool) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "REGISTRY_VAR_DIR": str(var_dir), "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    _prepare(code, env, demo)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=code,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(30_000)
            meter = Meter()
            page.on("response", meter.on_response)
            page.goto(f"{base_url}/admin/login/")
            page.fill("#id_username", "dm-bench")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base_url}/admin/")
            meter.counting = True
            started = time.perf_counter()
            enrol(page, base_url, f"BENCH-{port}")
            enter_case(page)
            page.wait_for_timeout(600)  # a preview asked by the last keystrokes
            elapsed = time.perf_counter() - started
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {**meter.summary(), "wall-clock s (with typing)": round(elapsed, 1)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose server is run")
    parser.add_argument("--demo", action="store_true", help="seed the demo registry first")
    parser.add_argument("--var-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="bench-entry-"))
    result = run(args.code.resolve(), var_dir, args.demo)
    print("| measure | value |\n|---|---|")
    for name, value in result.items():
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
