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
})();
