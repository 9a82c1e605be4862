// Calculator pages, progressive enhancement only (the forms work without it): choosing an
// occupation fills its sector; the work-accident fields show only for a JKK event; errors
// from the previous answer clear when the form is sent again.
(function () {
  function followEventType(root) {
    root.querySelectorAll("form[data-calc]").forEach(function (form) {
      var checked = form.querySelector("input[name=type]:checked");
      if (!checked) return;
      form.querySelectorAll("[data-jkk]").forEach(function (section) {
        section.hidden = checked.value !== "jkk";
      });
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[name=occupation]")) {
      var option = target.selectedOptions[0];
      var sector = target.form.querySelector("select[name=sector]");
      if (option && option.dataset.sector && sector) sector.value = option.dataset.sector;
    }
    if (target.matches("input[name=type]")) followEventType(document);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-calc]");
    if (!form) return;
    form.querySelectorAll("p.error, div.error").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
  });

  document.addEventListener("DOMContentLoaded", function () { followEventType(document); });
  document.addEventListener("htmx:load", function () { followEventType(document); });
})();
