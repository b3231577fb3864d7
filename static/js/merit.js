// Small progressive enhancements; every page works without them.
(function () {
  // Users list and similar tables: "select all" checkbox and the bulk action bar.
  document.querySelectorAll("[data-bulk-form]").forEach(function (form) {
    var all = form.querySelector("[data-select-all]");
    var boxes = function () { return form.querySelectorAll("[data-select-row]"); };
    var bar = form.querySelector("[data-bulk-bar]");
    var count = form.querySelector("[data-selected-count]");
    function refresh() {
      var n = Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length;
      if (count) { count.textContent = n; }
      if (bar) { bar.classList.toggle("d-none", n === 0); }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (b) { b.checked = all.checked; });
        refresh();
      });
    }
    form.addEventListener("change", refresh);
    refresh();
  });

  // Background job progress bars poll their status URL until the job finishes.
  document.querySelectorAll("[data-job-status-url]").forEach(function (el) {
    var url = el.getAttribute("data-job-status-url");
    var bar = el.querySelector(".progress-bar");
    var text = el.querySelector("[data-job-text]");
    var status = el.querySelector("[data-job-status]");
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.style.width = job.percent + "%";
          bar.setAttribute("aria-valuenow", job.percent);
          bar.textContent = job.percent + "%";
          if (text) { text.textContent = job.processed + " of " + job.total + " processed, " + job.failed + " failed"; }
          if (status) { status.textContent = job.status_label; }
          if (job.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    if (el.getAttribute("data-job-finished") !== "true") { setTimeout(poll, 500); }
  });

  // Buttons that ask first (data-confirm="question"), print (data-print), or tick every box of
  // a table (data-check-all="selector"): attributes, not inline handlers, so the
  // Content-Security-Policy can refuse every inline script.
  document.addEventListener("click", function (event) {
    var asking = event.target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) { event.preventDefault(); }
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll(all.getAttribute("data-check-all")).forEach(function (box) { box.checked = all.checked; });
    });
  });

  // Mark complete / reset: the activity checkboxes show only for "Chosen activities" (all are
  // shown without JavaScript).
  document.querySelectorAll("[data-testid=progress-form]").forEach(function (form) {
    var box = form.querySelector("#div_id_activities");
    if (!box) { return; }
    function sync() {
      var picked = form.querySelector("input[name=scope]:checked");
      box.classList.toggle("d-none", !picked || picked.value !== "activities");
    }
    form.querySelectorAll("input[name=scope]").forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  });

  // The course player counts the seconds spent on an activity: sent with its form, or by a
  // beacon when the page is left.
  document.querySelectorAll("[data-activity-time-url]").forEach(function (card) {
    var started = Date.now(), sent = false;
    function elapsed() { return Math.round((Date.now() - started) / 1000); }
    document.querySelectorAll("[data-time-form]").forEach(function (form) {
      form.addEventListener("submit", function () { form.querySelector("[name=seconds]").value = elapsed(); sent = true; });
    });
    window.addEventListener("pagehide", function () {
      if (sent || !navigator.sendBeacon) { return; }
      var data = new FormData();
      data.append("seconds", elapsed());
      data.append("csrfmiddlewaretoken", card.getAttribute("data-csrf"));
      navigator.sendBeacon(card.getAttribute("data-activity-time-url"), data);
      sent = true;
    });
  });
})();
