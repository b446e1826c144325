/* Progressive enhancement for the application and correction forms: steps checked when leaving them (the dry-run
   check), a live subsidy quote, each document uploaded as soon as it is chosen (progress, retries), a masked summary
   before submitting, and before the window opens a countdown with one-tap submission at the opening. Without
   JavaScript the form is one page and posts the files with it. */
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
    next.addEventListener("click", function () { leaveStep(current, function () { showStep(current + 1, true); }); });
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

  // The notice's way of writing a band's bounds: whole ten-thousands as 万元.
  function wan(s) {
    var n = Number(s);
    if (n % 10000 === 0) return t("wan", { n: String(n / 10000) });
    return t("yuan", { n: yuan(s).slice(1) });
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
            ? t("band", { a: wan(q.tier.above), b: wan(q.tier.up_to) })
            : t("band_open", { a: wan(q.tier.above) });
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

  var pending = 0; // documents still uploading

  // --- Field errors beside their fields --------------------------------------------------------------------------
  function setFieldErrors(name, items) {
    var wrap = form.querySelector('[data-field="' + name + '"]');
    var box = document.getElementById("f-" + name + "-error");
    if (!wrap || !box) return false;
    var input = document.getElementById("f-" + name);
    box.innerHTML = "";
    (items || []).forEach(function (e) {
      var p = document.createElement("p");
      p.setAttribute("data-code", e.code || "");
      p.textContent = e.message || "";
      box.appendChild(p);
    });
    var has = !!(items && items.length);
    box.hidden = !has;
    wrap.classList.toggle("has-error", has);
    if (input) {
      var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
        return x && x !== box.id;
      });
      if (has) { ids.push(box.id); input.setAttribute("aria-invalid", "true"); } else input.removeAttribute("aria-invalid");
      if (ids.length) input.setAttribute("aria-describedby", ids.join(" ")); else input.removeAttribute("aria-describedby");
    }
    return has;
  }

  function stepFieldNames(i) {
    return Array.prototype.map.call(steps[i].querySelectorAll("[data-field]"), function (w) {
      return w.getAttribute("data-field");
    });
  }

  // The fields and staged upload ids, without the files themselves (they were uploaded when chosen).
  function formFields() {
    var fd = new FormData(form);
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) { fd.delete(input.name); });
    return fd;
  }

  // --- The dry-run check: each step is checked when leaving it ----------------------------------------------------
  var checkUrl = form.getAttribute("data-check-url");

  function runCheck(callback) {
    if (!checkUrl || !window.fetch) { callback(null); return; }
    fetch(checkUrl, { method: "POST", body: formFields(), headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(callback)
      .catch(function () { callback(null); }); // offline: the server checks again on submit
  }

  // Run `fn` once every document chosen so far has finished uploading.
  function afterUploads(fn) {
    if (pending > 0) { setTimeout(function () { afterUploads(fn); }, 200); return; }
    fn();
  }

  function leaveStep(i, go) {
    if (steps[i].getAttribute("data-step") === "confirm") { go(); return; }
    afterUploads(function () { checkStep(i, go); });
  }

  function checkStep(i, go) {
    runCheck(function (answer) {
      var names = stepFieldNames(i);
      var fields = (answer && answer.status === 400 && answer.body.fields) || {};
      var first = null;
      names.forEach(function (name) {
        if (name.indexOf("_upload") >= 0) return;
        var items = fields[name] || (fields[name + "_upload"]) || [];
        if (setFieldErrors(name, items) && !first) first = document.getElementById("f-" + name);
      });
      if (first) { first.focus(); first.scrollIntoView({ block: "center" }); return; }
      go();
    });
  }

  // --- The summary of everything entered, masked, before submitting -----------------------------------------------
  var MASKED = { id_number: [4, 4], bank_account: [4, 4], phone: [3, 4] };

  function mask(value, keep) {
    if (value.length <= keep[0] + keep[1]) return value.replace(/./g, "*");
    return value.slice(0, keep[0]) + value.slice(keep[0], value.length - keep[1]).replace(/./g, "*") + value.slice(-keep[1]);
  }

  function fieldText(wrap) {
    var name = wrap.getAttribute("data-field");
    var radio = wrap.querySelector("input[type=radio]:checked");
    if (radio) return radio.parentNode.textContent.trim();
    var select = wrap.querySelector("select");
    if (select) return select.value ? select.options[select.selectedIndex].textContent.trim() : "";
    var file = wrap.querySelector("input[type=file]");
    if (file) {
      var staged = document.getElementById("f-" + name + "-upload");
      var chosen = file.files && file.files[0] ? file.files[0].name : "";
      return staged && staged.value ? t("uploaded_file", { x: chosen || "✓" }) : chosen;
    }
    var input = wrap.querySelector("input:not([type=hidden])");
    if (!input || input.type === "checkbox") return null;
    var v = input.value.trim();
    return MASKED[name] && v ? mask(v.replace(/\s/g, ""), MASKED[name]) : v;
  }

  function buildReview() {
    var box = document.getElementById("review-summary");
    if (!box) return;
    box.innerHTML = "";
    steps.forEach(function (step) {
      if (step.getAttribute("data-step") === "confirm") return;
      Array.prototype.forEach.call(step.querySelectorAll("[data-field]"), function (wrap) {
        var text = fieldText(wrap);
        if (text === null) return;
        var label = wrap.querySelector("label, legend");
        var dt = document.createElement("dt");
        dt.textContent = label ? label.firstChild.textContent.trim() : wrap.getAttribute("data-field");
        var dd = document.createElement("dd");
        dd.setAttribute("data-review", wrap.getAttribute("data-field"));
        dd.textContent = text || "—";
        box.appendChild(dt);
        box.appendChild(dd);
      });
    });
    document.getElementById("review").hidden = false;
  }

  var readyBox = document.getElementById("ready-box");
  function checkReady() {
    if (!readyBox) return;
    runCheck(function (answer) {
      if (!answer) return;
      readyBox.hidden = false;
      if (answer.status === 200 && answer.body.ok) {
        readyBox.className = "result ok";
        readyBox.textContent = t("ready", { x: yuan(answer.body.subsidy_amount) });
      } else {
        readyBox.className = "result bad";
        readyBox.textContent = (answer.body && answer.body.message) || t("not_ready", {});
        var fields = answer.body.fields || {};
        Object.keys(fields).forEach(function (name) { setFieldErrors(name, fields[name]); });
      }
    });
  }

  if (stepper && steps.length) {
    var show = showStep;
    showStep = function (i, focus) {
      show(i, focus);
      if (steps[current].getAttribute("data-step") === "confirm") { buildReview(); refreshQuote(); checkReady(); }
    };
  }

  // --- Each document uploads as soon as it is chosen, with progress and retries --------------------------------------
  var uploadUrl = form.getAttribute("data-upload-url");

  function csrfToken() {
    var el = form.querySelector("[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  function uploadDocument(input, attempt) {
    var file = input.files && input.files[0];
    var name = input.name;
    var staged = document.getElementById("f-" + name + "-upload");
    var status = document.getElementById("f-" + name + "-status");
    if (!file || !staged || !uploadUrl) return;
    staged.value = "";
    pending += 1;
    var fd = new FormData();
    fd.append("kind", name);
    fd.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.timeout = 120000;
    status.innerHTML = '<progress max="100" value="0"></progress> <span></span>';
    var bar = status.querySelector("progress");
    var label = status.querySelector("span");
    label.textContent = t("uploading", { p: "0" });
    xhr.upload.addEventListener("progress", function (ev) {
      if (!ev.lengthComputable) return;
      var p = Math.round((ev.loaded / ev.total) * 100);
      bar.value = p;
      label.textContent = t("uploading", { p: String(p) });
    });
    function finished() { pending -= 1; }
    function failed() {
      finished();
      if (attempt < 3) { // a bad connection: try again after a pause that grows
        label.textContent = t("retrying", { n: String(attempt + 1) });
        setTimeout(function () { uploadDocument(input, attempt + 1); }, 1000 * Math.pow(2, attempt));
        return;
      }
      status.textContent = t("upload_failed", {}) + " ";
      var again = document.createElement("button");
      again.type = "button";
      again.className = "retry";
      again.textContent = t("retry", {});
      again.addEventListener("click", function () { uploadDocument(input, 0); });
      status.appendChild(again);
    }
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201 && body.upload_id) {
        finished();
        staged.value = body.upload_id;
        status.textContent = t("uploaded", {});
        setFieldErrors(name, []);
      } else if (xhr.status >= 500 || xhr.status === 429) {
        failed();
      } else {
        finished();
        var items = (body.fields && body.fields.file) || [{ code: body.code, message: body.message }];
        status.textContent = "";
        setFieldErrors(name, items);
      }
    });
    xhr.addEventListener("error", failed);
    xhr.addEventListener("timeout", failed);
    xhr.send(fd);
  }

  form.addEventListener("change", function (e) {
    if (e.target.type === "file") uploadDocument(e.target, 0);
  });

  // --- Before the window opens: a countdown on the server's clock; at the opening one tap submits -------------------
  var launch = document.getElementById("launch-box");
  if (launch) {
    var offset = Number(launch.getAttribute("data-server-now")) - Date.now();
    var countdown = document.getElementById("countdown");
    var submitButton = document.getElementById("submit-btn");
    var notYet = document.getElementById("not-yet");
    var tick = function () {
      var left = Number(launch.getAttribute("data-opens-at")) - (Date.now() + offset);
      if (left <= 0) {
        countdown.textContent = t("open_now", {});
        if (submitButton) { submitButton.disabled = false; submitButton.textContent = t("submit_now", {}); }
        if (notYet) notYet.hidden = true;
        return;
      }
      var s = Math.ceil(left / 1000);
      var d = Math.floor(s / 86400);
      var hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map(function (x) {
        return (x < 10 ? "0" : "") + x;
      }).join(":");
      countdown.textContent = t("countdown", { t: (d ? t("days", { d: String(d) }) : "") + hms });
      setTimeout(tick, 250);
    };
    tick();
  }

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
    if (pending > 0) { // the last document is still on its way: submit as soon as it is there
      var box = document.getElementById("form-errors");
      if (box) { box.hidden = false; box.innerHTML = "<p>" + escapeHtml(t("wait_uploads", {})) + "</p>"; }
      afterUploads(send);
    } else {
      send();
    }
  });

  function send() {
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
    // Documents already staged travel as their upload ids only: the deciding request stays small.
    var body = new FormData(form);
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      var staged = document.getElementById("f-" + input.name + "-upload");
      if (staged && staged.value) body.delete(input.name);
    });
    xhr.send(body);
  }
})();
