// faqtual embeddable ask box. On another site's page:
//   <div id="faqtual"></div>
//   <script src="https://YOUR-FAQTUAL-HOST/static/widget.js" data-target="faqtual" defer></script>
// The site's origin must be listed in faqtual's cors_origins setting.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) return;
  var origin = new URL(script.src).origin;
  var host = document.getElementById(script.dataset.target || "faqtual");
  if (!host) { host = document.createElement("div"); script.parentNode.insertBefore(host, script); }
  var uid = "faqtual-q-" + Math.random().toString(36).slice(2, 8);

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  var input = el("input", { id: uid, type: "search", maxlength: "2000", style: "flex:1;min-width:0;padding:.5em;font:inherit" });
  var form = el("form", { class: "faqtual-widget-form", style: "display:flex;gap:.4em" }, [
    input, el("button", { type: "submit", style: "font:inherit;padding:.5em 1em" }, ["Ask"])]);
  var out = el("div", { class: "faqtual-widget-answer", "aria-live": "polite" });
  host.replaceChildren(el("div", { class: "faqtual-widget", style: "font:inherit;max-width:40em" }, [
    el("label", { for: uid, style: "display:block;font-weight:600" }, ["Ask about synkinesis"]), form, out]));

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(origin + "/v1/ask", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ question: input.value })
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.ok === false) { out.replaceChildren(el("p", { role: "alert" }, [data.error])); return; }
      if (!data.answered) {
        out.replaceChildren(el("p", { class: "faqtual-widget-none" }, [data.message || ""]));
        return;
      }
      var best = data.answers[0];
      var nodes = [el("h3", {}, [best.question])].concat(
        best.answer.split("\n\n").map(function (p) { return el("p", {}, [p]); }));
      nodes.push(el("p", { style: "font-size:.85em" }, [
        el("a", { href: origin + "/?q=" + encodeURIComponent(data.question), target: "_blank", rel: "noopener" },
          ["More on the full FAQ page"])]));
      if (data.disclaimer) nodes.push(el("p", { style: "font-size:.85em" }, [data.disclaimer]));
      out.replaceChildren.apply(out, nodes);
    }).catch(function () {
      out.replaceChildren(el("p", { role: "alert" }, ["Sorry, the FAQ could not be reached."]));
    });
  });
})();
