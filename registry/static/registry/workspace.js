/* The patient workspace: small helpers around Django's admin form. No clinical rule lives here:
   ranges, conversions and derived values come from the server. */
"use strict";
(function () {
  // --- the label and range hint of a lab value follow its chosen unit ------------------------
  function valueInputOf(select) {
    var field = select.getAttribute("data-value-field");
    var unitName = select.name.split("-").pop();
    return document.getElementById(select.id.slice(0, -unitName.length) + field);
  }

  function showUnit(select) {
    var hints;
    try { hints = JSON.parse(select.getAttribute("data-unit-hints") || "{}"); } catch (e) { return; }
    var hint = hints[select.value];
    var input = valueInputOf(select);
    if (!hint || !input) return;
    var label = document.querySelector('label[for="' + input.id + '"]');
    if (label) label.textContent = hint.label + ":";
    var help = document.getElementById(input.id + "_helptext");
    if (help) help.textContent = hint.help;
    input.setAttribute("aria-description", hint.help);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-unit-hints]")) showUnit(target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-unit-hints]").forEach(function (select) {
      if (!select.name.includes("__prefix__")) showUnit(select);
    });
  });
  // --- target lesions 3-5 exist for RECIST 1.1 only (mRECIST follows at most 2) -----------------
  function showLesionBoxes(row) {
    var criteria = row.querySelector("select[name$='-criteria']");
    var recist = criteria && criteria.value === "recist11";
    row.querySelectorAll("input.lesion-recist-only").forEach(function (input) {
      input.hidden = !recist && !input.value;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[name$='-criteria']")) {
      var row = target.closest("tr");
      if (row) showLesionBoxes(row);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("tr.form-row").forEach(function (row) {
      if (row.querySelector("input.lesion-mm")) showLesionBoxes(row);
    });
  });

  // A row added with "Add another" starts from the template: show its unit too.
  document.addEventListener("formset:added", function (event) {
    event.target.querySelectorAll("select[data-unit-hints]").forEach(showUnit);
    if (event.target.querySelector("input.lesion-mm")) showLesionBoxes(event.target);
  });
})();
