// Behaviour every page shares, kept in this file because the Content-Security-Policy allows
// no inline script (no onclick=, onchange=, <script> blocks). Progressive enhancement only:
// every form still works without JavaScript.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option sends its form (the language switch).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });

  // <button data-confirm="Question?">: ask before the form is sent (e.g. removing an heir).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // <a data-print>: print the page (the family's view of a claim).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-print]");
    if (link) {
      event.preventDefault();
      window.print();
    }
  });
})();
