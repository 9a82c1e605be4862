// The coverage charts: each <div data-chart="KEY"> is drawn from the Plotly figure in the
// <script type="application/json" id="KEY-figure"> next to it (built in Python, see
// coverage/charts.py), with the plotly.min.js of the installed `plotly` package. A static file
// because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.dataset.chart + "-figure");
    if (!source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    var lang = document.documentElement.lang || "id";
    var dictionary = {};
    // the mode bar's labels in the page's language (Plotly looks its English text up here)
    if (el.dataset.labelPng) {
      dictionary["Download plot as a PNG"] = el.dataset.labelPng;
      dictionary["Download plot"] = el.dataset.labelPng;
    }
    if (el.dataset.labelWait) {
      dictionary["Taking snapshot - this may take a few seconds"] = el.dataset.labelWait;
    }
    var locales = {};
    locales[lang] = { dictionary: dictionary, format: {} };
    var config = {
      responsive: true,
      displaylogo: false,
      locale: lang,
      locales: locales,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
      toImageButtonOptions: { format: "png", filename: el.dataset.filename || "cakupan", scale: 2 },
    };
    window.Plotly.newPlot(el, figure.data, figure.layout, config).then(function () {
      // a bar with a link (customdata) opens the list behind it
      el.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        if (point && typeof point.customdata === "string" && point.customdata) {
          window.location.assign(point.customdata);
        }
      });
      el.classList.add("chart-ready");
    });
  }

  function start() {
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
