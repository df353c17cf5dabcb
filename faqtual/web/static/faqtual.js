// faqtual patient page: answers in place through the JSON API. The page works without this file.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  var box = document.getElementById("q");
  var region = document.getElementById("answer");
  if (!form || !box || !region || !window.fetch) return;
  var threshold = parseFloat(form.dataset.threshold || "0.5");
  var helpUrl = form.dataset.helpUrl || "";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function words(confidence) {
    if (confidence >= Math.max(0.85, threshold)) return "Good match";
    if (confidence >= threshold) return "Possible match";
    return "Not sure";
  }

  function askLink(question) {
    return el("li", {}, [el("a", { "data-ask": "", href: "/?q=" + encodeURIComponent(question) }, [question])]);
  }

  function choices(label, questions) {
    if (!questions.length) return null;
    return el("nav", { class: "choices", "aria-label": label }, [
      el("h3", {}, [label]), el("ul", {}, questions.map(askLink))]);
  }

  function feedbackForm(data, best) {
    var f = el("form", { class: "feedback", method: "post", action: "/feedback", "aria-label": "Was this helpful?" }, [
      el("span", { class: "feedback-label" }, ["Was this helpful?"]),
      el("button", { type: "submit", name: "helpful", value: "yes" }, ["Yes"]),
      el("button", { type: "submit", name: "helpful", value: "no" }, ["No"])]);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter || f.querySelector("button");
      fetch("/v1/feedback", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ query_id: data.query_id, entry_id: best.entry_id, helpful: button.value === "yes" })
      }).then(function (r) {
        f.replaceChildren(el("p", { class: "thanks", role: "status" },
          [r.ok ? "Thank you for your feedback." : "Sorry, your feedback could not be saved."]));
      });
    });
    return f;
  }

  function card(data) {
    var parts = [];
    if (data.answered) {
      var best = data.answers[0];
      var w = words(best.confidence);
      var meta = [el("span", { class: "confidence confidence-" + (w === "Good match" ? "good" : "possible") }, [w])];
      if (best.source) {
        var src = /^https?:\/\//.test(best.url || "") ? el("a", { href: best.url, rel: "noopener" }, [best.source]) : best.source;
        meta.push(el("span", { class: "source" }, ["Source: ", src]));
      }
      parts.push(el("article", { class: "card", id: "answer-card", "data-entry-id": best.entry_id }, [
        el("h2", { class: "card-question" }, [best.question]),
        el("div", { class: "card-answer" }, best.answer.split("\n\n").map(function (p) { return el("p", {}, [p]); })),
        el("p", { class: "card-meta" }, meta),
        feedbackForm(data, best)]));
      var near = data.answers.filter(function (a) { return data.did_you_mean.indexOf(a.entry_id) >= 0; });
      parts.push(choices("Did you mean", near.map(function (a) { return a.question; })));
      parts.push(choices("Related questions", data.related));
    } else if (!data.answers.length) {
      // A safety message or a reply to a greeting: the message is the whole answer.
      parts.push(el("article", { class: "card card-message", id: "message-card" },
        (data.message || "").split("\n\n").map(function (p) { return el("p", {}, [p]); })));
      parts.push(choices("Questions you can ask", data.related));
    } else {
      var none = [el("h2", {}, ["No answer found"]), el("p", { class: "no-answer-message" }, [data.message || ""])];
      if (helpUrl) none.push(el("p", {}, ["Where to get help: ", el("a", { href: helpUrl, rel: "noopener" }, [helpUrl])]));
      parts.push(el("article", { class: "card card-none", id: "no-answer" }, none));
      parts.push(choices("Closest questions in this FAQ", data.answers.map(function (a) { return a.question; })));
    }
    return parts.filter(Boolean);
  }

  function show(nodes) {
    region.replaceChildren.apply(region, nodes);
  }

  function ask(question, push) {
    region.setAttribute("aria-busy", "true");
    return fetch("/v1/ask", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ question: question })
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || "Something went wrong; please try again.");
        show(card(data));
        if (push) history.pushState({ q: question }, "", "/?q=" + encodeURIComponent(question));
      });
    }).catch(function (err) {
      show([el("p", { class: "error", role: "alert" }, [err.message])]);
    }).finally(function () { region.removeAttribute("aria-busy"); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask(box.value, true);
  });

  region.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-ask]");
    if (!link) return;
    event.preventDefault();
    var question = link.textContent;
    box.value = question;
    ask(question, true).then(function () { box.focus(); });
  });

  window.addEventListener("popstate", function (event) {
    if (event.state && event.state.q) { box.value = event.state.q; ask(event.state.q, false); }
  });

  // Server-rendered feedback forms: send through the API and stay on the page.
  region.querySelectorAll("form.feedback").forEach(function (f) {
    var card = f.closest("[data-entry-id]");
    var qid = f.querySelector("input[name=query_id]");
    if (!card || !qid) return;
    f.replaceWith(feedbackForm({ query_id: qid.value }, { entry_id: card.dataset.entryId }));
  });
})();
