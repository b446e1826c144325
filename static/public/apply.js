/* Progressive enhancement for the application and correction forms: steps, a live subsidy quote, previews of the
   chosen photos, and an upload with a progress bar. Without JavaScript the form is one page and posts normally. */
(function () {
  "use strict";
  var form = document.getElementById("apply-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;

  // --- Steps -------------------------------------------------------------------------------------------------
  var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step[data-step]"));
  var stepper = document.querySelector(".stepper");
  var nav = form.querySelector(".step-nav");
  var prev = document.getElementById("prev-btn");
  var next = document.getElementById("next-btn");
  var current = 0;
  var textNode = document.getElementById("apply-text");
  var T = textNode ? JSON.parse(textNode.textContent) : {};
  function t(key, values) {
    return (T[key] || "").replace(/%\((\w+)\)s/g, function (_m, k) { return values[k]; });
  }

  function showStep(i, focus) {
    if (!stepper || !steps.length) return;
    current = Math.max(0, Math.min(i, steps.length - 1));
    steps.forEach(function (s, j) { s.hidden = j !== current; });
    Array.prototype.forEach.call(stepper.querySelectorAll("li"), function (li, j) {
      if (j === current) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
      li.classList.toggle("done", j < current);
    });
    prev.hidden = current === 0;
    next.hidden = current === steps.length - 1;
    nav.hidden = false;
    if (focus) {
      var legend = steps[current].querySelector("legend");
      steps[current].setAttribute("tabindex", "-1");
      steps[current].focus({ preventScroll: true });
      (legend || steps[current]).scrollIntoView({ block: "start" });
    }
  }

  function firstErrorStep() {
    for (var i = 0; i < steps.length; i++) {
      if (steps[i].querySelector(".has-error")) return i;
    }
    return -1;
  }

  if (stepper && steps.length) {
    document.body.classList.add("js-steps");
    stepper.hidden = false;
    prev.addEventListener("click", function () { showStep(current - 1, true); });
    next.addEventListener("click", function () { showStep(current + 1, true); });
    var errorStep = firstErrorStep();
    showStep(errorStep >= 0 ? errorStep : 0, false);
  }

  // A link in the error summary opens the step that holds its field.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("#form-errors a[href^='#f-']");
    if (!link || !stepper || !steps.length) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    for (var i = 0; i < steps.length; i++) {
      if (steps[i].contains(target)) { showStep(i, false); break; }
    }
    e.preventDefault();
    target.focus();
    target.scrollIntoView({ block: "center" });
  });

  // --- Live quote ------------------------------------------------------------------------------------------------
  var quoteUrl = form.getAttribute("data-quote-url");
  var quoteBox = document.getElementById("quote-box");
  var timer = null;

  function yuan(s) {
    var parts = String(s).split(".");
    return "¥" + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (parts[1] || "00");
  }

  function fuelType() {
    var checked = form.querySelector("input[name=fuel_type]:checked");
    return checked ? checked.value : "";
  }

  function setQuote(cls, html) {
    quoteBox.className = "result" + (cls ? " " + cls : "");
    quoteBox.innerHTML = html;
  }

  function escapeHtml(s) {
    var d = document.createElement("div");
    d.textContent = s;
    return d.innerHTML;
  }

  function refreshQuote() {
    var amountInput = form.querySelector("[name=invoice_amount]");
    if (!quoteUrl || !quoteBox || !amountInput) return;
    var amount = amountInput.value.trim();
    var fuel = fuelType();
    if (!amount || !fuel) return;
    var url = quoteUrl + "?" + new URLSearchParams({ invoice_amount: amount, fuel_type: fuel }).toString();
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (q) {
        if (q.eligible) {
          var band = q.tier.up_to
            ? t("band", { a: yuan(q.tier.above), b: yuan(q.tier.up_to) })
            : t("band_open", { a: yuan(q.tier.above) });
          var typed = amount.replace(/[,，¥￥\s]/g, "");
          setQuote("ok", '<p class="big">' + escapeHtml(t("quote", { x: yuan(q.subsidy_amount) })) + "</p><p>" +
            escapeHtml(t("why", { x: yuan(typed), band: band })) + "</p>");
        } else {
          setQuote("bad", "<p>" + escapeHtml(q.message || "") + "</p>");
        }
      })
      .catch(function () { /* the server shows the quote after submitting */ });
  }

  form.addEventListener("input", function (e) {
    if (e.target.name === "invoice_amount" || e.target.name === "fuel_type") {
      clearTimeout(timer);
      timer = setTimeout(refreshQuote, 400);
    }
  });
  form.addEventListener("change", function (e) {
    if (e.target.name === "fuel_type") refreshQuote();
  });

  // --- Previews ---------------------------------------------------------------------------------------------------
  form.addEventListener("change", function (e) {
    var input = e.target;
    if (input.type !== "file") return;
    var box = form.querySelector('[data-preview-for="' + input.name + '"]');
    if (!box) return;
    box.innerHTML = "";
    var file = input.files && input.files[0];
    if (!file) return;
    if (/^image\//.test(file.type) && window.URL) {
      var img = document.createElement("img");
      img.alt = t("chosen", { x: file.name });
      img.src = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(img.src); };
      box.appendChild(img);
    }
    var p = document.createElement("p");
    p.className = "file";
    var size = file.size < 1048576 ? Math.max(1, Math.round(file.size / 1024)) + " KB" : (file.size / 1048576).toFixed(1) + " MB";
    p.textContent = file.name + "（" + size + "）";
    box.appendChild(p);
  });

  // --- Upload with progress; errors are merged into this page so the chosen files stay selected ---------------------
  var button = document.getElementById("submit-btn");
  var upload = form.querySelector(".upload");
  var bar = document.getElementById("upload-progress");
  var percent = document.getElementById("upload-percent");
  var sending = false;

  function mergeErrors(doc) {
    var summary = document.getElementById("form-errors");
    var newSummary = doc.getElementById("form-errors");
    if (summary && newSummary) {
      summary.innerHTML = newSummary.innerHTML;
      summary.hidden = newSummary.hidden;
    }
    Array.prototype.forEach.call(doc.querySelectorAll("[data-field]"), function (wrap) {
      var name = wrap.getAttribute("data-field");
      var mine = form.querySelector('[data-field="' + name + '"]');
      if (!mine) return;
      mine.className = wrap.className;
      var err = doc.getElementById("f-" + name + "-error");
      var myErr = document.getElementById("f-" + name + "-error");
      if (err && myErr) { myErr.innerHTML = err.innerHTML; myErr.hidden = err.hidden; }
      var theirs = wrap.querySelectorAll("input, select, fieldset");
      var ours = mine.querySelectorAll("input, select, fieldset");
      for (var i = 0; i < theirs.length && i < ours.length; i++) {
        ["aria-invalid", "aria-describedby"].forEach(function (attr) {
          if (theirs[i].hasAttribute(attr)) ours[i].setAttribute(attr, theirs[i].getAttribute(attr));
          else ours[i].removeAttribute(attr);
        });
      }
    });
    var newQuote = doc.getElementById("quote-box");
    if (quoteBox && newQuote) { quoteBox.className = newQuote.className; quoteBox.innerHTML = newQuote.innerHTML; }
    var step = firstErrorStep();
    if (stepper && steps.length) showStep(step >= 0 ? step : steps.length - 1, false);
    if (summary && !summary.hidden) { summary.focus(); summary.scrollIntoView({ block: "start" }); }
  }

  function done() {
    sending = false;
    if (button) button.disabled = false;
    if (upload) upload.hidden = true;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (sending) return; // a double click sends once (and the server replays a repeated post anyway)
    sending = true;
    if (button) button.disabled = true;
    if (upload) { upload.hidden = false; bar.value = 0; percent.textContent = "0%"; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (ev) {
      if (!ev.lengthComputable || !bar) return;
      var p = Math.round((ev.loaded / ev.total) * 100);
      bar.value = p;
      percent.textContent = p + "%";
    });
    xhr.addEventListener("load", function () {
      var go = xhr.getResponseHeader("X-Redirect-To");
      if (xhr.status === 204 && go) {
        window.location.assign(go);
        return;
      }
      var target = xhr.responseURL ? new URL(xhr.responseURL) : null;
      if (xhr.status < 300 && target && target.pathname !== new URL(form.action).pathname) {
        window.location.assign(xhr.responseURL);
        return;
      }
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      if (!doc.getElementById("apply-form")) {
        document.open(); document.write(xhr.responseText); document.close();
        return;
      }
      done();
      mergeErrors(doc);
    });
    xhr.addEventListener("error", function () {
      done();
      var summary = document.getElementById("form-errors");
      if (summary) {
        summary.hidden = false;
        summary.innerHTML = "<p>" + escapeHtml(t("network", {})) + "</p>";
        summary.focus();
      }
    });
    xhr.send(new FormData(form));
  });
})();
