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
      var row = target.closest(".inline-related, tr");
      if (row) showLesionBoxes(row);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".inline-related, tr.form-row").forEach(function (row) {
      if (row.querySelector("input.lesion-mm")) showLesionBoxes(row);
    });
  });

  // --- derived values as the data manager types: computed by the server, nothing saved -----------
  function readonlyCell(scope, field) {
    var box = scope.querySelector(".fieldBox.field-" + field) ||
      scope.querySelector(".form-row.field-" + field) ||
      scope.querySelector("td.field-" + field);
    if (!box) return null;
    return box.querySelector(".readonly") || box.querySelector("p") || box;
  }

  function showDerived(answer) {
    var form = document.getElementById("patient_form");
    answer.values.forEach(function (value) {
      var scope = value.prefix ? document.getElementById(value.prefix) : form.querySelector(":scope > div");
      if (!scope) return;
      var cell = readonlyCell(scope, value.field);
      if (cell && cell.textContent !== value.text) {
        cell.textContent = value.text;
        cell.setAttribute("data-live", "1");
      }
    });
    var box = document.getElementById("live-warnings");
    if (!box) return;
    var lines = answer.warnings.map(function (w) { return "If saved now: " + w; });
    Object.keys(answer.errors).forEach(function (prefix) {
      var fields = answer.errors[prefix];
      Object.keys(fields).forEach(function (field) {
        lines.push("Will be refused (" + (prefix || "patient") + (field === "__all__" ? "" : " · " + field) + "): " + fields[field].join(" "));
      });
    });
    box.innerHTML = "";
    if (!lines.length) return;
    var list = document.createElement("ul");
    list.className = "live-warning-list";
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  var pending = null, sequence = 0;
  function askDerived() {
    var config = document.getElementById("workspace-config");
    var form = document.getElementById("patient_form");
    var url = config && config.getAttribute("data-derived-url");
    if (!url || !form) return;
    var mine = ++sequence;
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && mine === sequence) showDerived(answer); })
      .catch(function () { /* the preview is a help; the save still validates everything */ });
  }

  function derivedSoon() {
    clearTimeout(pending);
    pending = setTimeout(askDerived, 350);
  }

  document.addEventListener("input", function (event) {
    if (event.target.form && event.target.form.id === "patient_form") derivedSoon();
  });
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.form.id === "patient_form") derivedSoon();
  });

  // --- the grade list offers only the grades the chosen CTCAE term allows ----------------------
  var termGrades = null;
  function allowedGrades(termId) {
    if (termGrades === null) {
      var data = document.getElementById("ctcae-term-grades");
      termGrades = data ? JSON.parse(data.textContent) : {};
    }
    return termGrades[termId] || [1, 2, 3, 4, 5];
  }

  function narrowGrades(termSelect) {
    var grade = document.getElementById(termSelect.id.replace(/term$/, "grade"));
    if (!grade) return;
    var allowed = allowedGrades(termSelect.value).map(String);
    Array.prototype.forEach.call(grade.options, function (option) {
      var ok = option.value === "" || allowed.indexOf(option.value) >= 0;
      option.hidden = !ok;
      option.disabled = !ok;
    });
    if (grade.value && allowed.indexOf(grade.value) < 0) grade.value = "";
  }

  function termsIn(scope) {
    return scope.querySelectorAll("select[name$='-term']");
  }
  document.addEventListener("DOMContentLoaded", function () {
    termsIn(document).forEach(function (select) {
      if (!select.name.includes("__prefix__")) narrowGrades(select);
    });
    // The term is a select2 autocomplete: its changes come as jQuery events.
    if (window.django && window.django.jQuery) {
      window.django.jQuery(document).on("change", "select[name$='-term']", function () {
        narrowGrades(this);
        derivedSoon();
      });
    }
  });

  // --- Enter in a field does not submit the whole page -------------------------------------------
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !target.form || target.form.id !== "patient_form") return;
    if (target.tagName === "TEXTAREA" || target.type === "submit" || target.type === "button") return;
    // A save is a deliberate click (or Enter on a save button), never a side effect of typing.
    event.preventDefault();
  });

  // --- typed data survives a save the server refuses outright (a 400 or 403 page) -------------
  // Before each save the form's values are kept in this tab's sessionStorage. A page that shows
  // the save's outcome (the success message linking to the record, or the form re-rendered
  // with its errors) drops them; a later visit to the record that finds them offers them back.
  var DRAFT = "registry-entry-draft:";

  function draftKey(path) { return DRAFT + path; }

  function keepDraft(form) {
    var values = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name.includes("__prefix__")) return;
      if (el.type === "submit" || el.type === "button" || el.type === "file") return;
      if (el.type === "checkbox" || el.type === "radio") {
        values.push([el.name, el.checked ? (el.value || "on") : null, el.type]);
      } else if (el.tagName === "SELECT") {
        var chosen = el.options[el.selectedIndex];
        values.push([el.name, el.value, "select", chosen ? chosen.text : ""]);
      } else {
        values.push([el.name, el.value, "text"]);
      }
    });
    try {
      sessionStorage.setItem(draftKey(location.pathname), JSON.stringify({ at: Date.now(), values: values }));
    } catch (e) { /* storage full or disabled: the server-side checks still apply */ }
  }

  function addRowsFor(values) {
    values.forEach(function (entry) {
      var match = /^(.*)-TOTAL_FORMS$/.exec(entry[0]);
      if (!match) return;
      var total = document.querySelector("input[name='" + entry[0] + "']");
      var link = document.querySelector("#" + match[1] + "-group .add-row a");
      var guard = 0;
      while (total && link && parseInt(total.value, 10) < parseInt(entry[1], 10) && guard++ < 200) {
        link.click();
      }
    });
  }

  function restoreDraft(draft) {
    addRowsFor(draft.values);
    draft.values.forEach(function (entry) {
      var name = entry[0], value = entry[1], kind = entry[2];
      if (/-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/.test(name)) return;
      var fields = document.getElementsByName(name);
      if (!fields.length) return;
      var el = fields[0];
      if (kind === "checkbox" || kind === "radio") {
        Array.prototype.forEach.call(fields, function (f) {
          f.checked = kind === "checkbox" ? value !== null : f.value === value;
        });
      } else if (kind === "select") {
        if (value && !Array.prototype.some.call(el.options, function (o) { return o.value === value; })) {
          el.appendChild(new Option(entry[3] || value, value, true, true));
        }
        el.value = value;
        if (window.django && window.django.jQuery) window.django.jQuery(el).trigger("change");
      } else {
        el.value = value;
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function offerDraft() {
    var key = draftKey(location.pathname);
    var saved = sessionStorage.getItem(key);
    if (!saved) return;
    var draft;
    try { draft = JSON.parse(saved); } catch (e) { sessionStorage.removeItem(key); return; }
    var form = document.getElementById("patient_form") || document.querySelector("#content-main form");
    if (!form) return;
    var box = document.createElement("div");
    box.id = "draft-restore";
    box.className = "errornote";
    box.textContent = "Your last save of this page, at " + new Date(draft.at).toLocaleTimeString() +
      ", did not reach the registry (the server refused the request): nothing of it was saved. ";
    var restore = document.createElement("button");
    restore.type = "button"; restore.className = "button"; restore.id = "draft-restore-button";
    restore.textContent = "Put back what I typed";
    var discard = document.createElement("button");
    discard.type = "button"; discard.className = "button"; discard.id = "draft-discard-button";
    discard.textContent = "Discard it";
    restore.addEventListener("click", function () {
      restoreDraft(draft);
      sessionStorage.removeItem(key);
      box.textContent = "Restored: check the values and save again.";
    });
    discard.addEventListener("click", function () { sessionStorage.removeItem(key); box.remove(); });
    box.appendChild(restore); box.appendChild(discard);
    form.parentNode.insertBefore(box, form);
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The outcome of a save: a success message links to the saved record; errors re-render it.
    document.querySelectorAll(".messagelist .success a[href]").forEach(function (link) {
      sessionStorage.removeItem(draftKey(new URL(link.href, location.href).pathname));
    });
    if (document.querySelector(".errornote, .errorlist")) {
      sessionStorage.removeItem(draftKey(location.pathname));
    }
    offerDraft();
    var form = document.getElementById("patient_form");
    if (form) form.addEventListener("submit", function () { keepDraft(form); });
  });

  // A row added with "Add another" starts from the template: show its unit too.
  document.addEventListener("formset:added", function (event) {
    event.target.querySelectorAll("select[data-unit-hints]").forEach(showUnit);
    if (event.target.querySelector("input.lesion-mm")) showLesionBoxes(event.target);
  });
})();
