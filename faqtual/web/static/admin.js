// faqtual curator page: browse, search and edit entries; review unanswered questions and feedback.
// Everything goes through the curator API with the key typed in (kept for this tab only).
(function () {
  "use strict";
  var keyBox = document.getElementById("api-key");
  var status = document.getElementById("status");
  var state = { key: sessionStorage.getItem("faqtual-key") || "", entries: [] };
  if (state.key) keyBox.value = state.key;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function say(text) { status.textContent = text; }

  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + state.key } };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function showEntries() {
    var needle = document.getElementById("entry-search").value.toLowerCase();
    var rows = state.entries.filter(function (e) {
      return !needle || (e.question + " " + e.answer + " " + e.alternates.join(" ")).toLowerCase().indexOf(needle) >= 0;
    }).map(function (e) {
      var edit = el("button", { type: "button", "aria-label": "Edit: " + e.question }, ["Edit"]);
      edit.addEventListener("click", function () { fill(e); });
      return el("tr", {}, [el("td", {}, [e.question]), el("td", {}, [e.entry_id]), el("td", {}, [edit])]);
    });
    document.getElementById("entries").replaceChildren.apply(document.getElementById("entries"), rows);
  }

  function fill(e) {
    document.getElementById("e-id").value = e.entry_id;
    document.getElementById("e-question").value = e.question;
    document.getElementById("e-alternates").value = e.alternates.join("\n");
    document.getElementById("e-answer").value = e.answer;
    document.getElementById("e-source").value = e.source || "";
    document.getElementById("e-question").focus();
  }

  function entryOptions() {
    return state.entries.map(function (e) { return el("option", { value: e.entry_id }, [e.question]); });
  }

  function showUnanswered(groups) {
    var rows = groups.map(function (g) {
      var select = el("select", { "aria-label": "Entry for: " + g.example }, entryOptions());
      if (g.best_entry_id) select.value = g.best_entry_id;
      var accept = el("button", { type: "button" }, ["Accept"]);
      accept.addEventListener("click", function () {
        api("POST", "/v1/admin/entries/" + encodeURIComponent(select.value) + "/alternates",
          { question: g.example, query_id: g.query_ids[0] })
          .then(function (w) { load("Added as an alternate; KB version " + w.kb_version + "."); })
          .catch(function (err) { say(err.message); });
      });
      return el("tr", {}, [el("td", {}, [g.example]), el("td", {}, [String(g.count)]),
        el("td", {}, [(g.best_entry_id || "-") + " (" + g.best_confidence.toFixed(2) + ")"]),
        el("td", {}, [select, " ", accept])]);
    });
    var body = document.getElementById("unanswered");
    body.replaceChildren.apply(body, rows);
  }

  function showFeedback(items) {
    var rows = items.map(function (f) {
      return el("tr", {}, [el("td", {}, [f.entry_id]), el("td", {}, [f.helpful ? "yes" : "no"]), el("td", {}, [f.comment || ""])]);
    });
    var body = document.getElementById("feedback");
    body.replaceChildren.apply(body, rows);
  }

  function load(done) {
    return Promise.all([
      fetch("/v1/entries").then(function (r) { return r.json(); }),
      api("GET", "/v1/admin/unanswered"),
      api("GET", "/v1/admin/feedback")
    ]).then(function (all) {
      state.entries = all[0];
      showEntries(); showUnanswered(all[1]); showFeedback(all[2]);
      say((done ? done + " " : "") + state.entries.length + " entries, " + all[1].length + " unanswered groups, " + all[2].length + " feedback.");
    }).catch(function (err) { say(err.message); });
  }

  document.getElementById("key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    state.key = keyBox.value;
    sessionStorage.setItem("faqtual-key", state.key);
    load("Key in use.");
  });
  document.getElementById("entry-search").addEventListener("input", showEntries);
  document.getElementById("entry-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var id = document.getElementById("e-id").value.trim();
    var body = {
      question: document.getElementById("e-question").value,
      answer: document.getElementById("e-answer").value,
      alternates: document.getElementById("e-alternates").value.split("\n").filter(function (s) { return s.trim(); }),
      source: document.getElementById("e-source").value || null
    };
    (id ? api("PUT", "/v1/admin/entries/" + encodeURIComponent(id), body) : api("POST", "/v1/admin/entries", body))
      .then(function (w) { load("Saved " + w.entry_id + "; KB version " + w.kb_version + "."); })
      .catch(function (err) { say(err.message); });
  });
  document.getElementById("e-delete").addEventListener("click", function () {
    var id = document.getElementById("e-id").value.trim();
    if (!id || !window.confirm("Delete entry " + id + "?")) return;
    api("DELETE", "/v1/admin/entries/" + encodeURIComponent(id))
      .then(function (w) { load("Deleted; KB version " + w.kb_version + "."); })
      .catch(function (err) { say(err.message); });
  });
  if (state.key) load();
})();
