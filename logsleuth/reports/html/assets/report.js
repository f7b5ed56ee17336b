// Draw the timeline from the embedded figure spec; the spec is JSON, never code.
(function () {
  "use strict";
  var done = function () { document.body.setAttribute("data-rendered", "1"); };
  var spec = JSON.parse(document.getElementById("timeline-figure").textContent);
  var el = document.getElementById("timeline");
  if (!spec || !window.Plotly) { el.remove(); done(); return; }
  // a fixed height: resizes (e.g. a full-page screenshot) must not collapse the container
  el.style.height = spec.layout.height + "px";
  window.Plotly.newPlot(el, spec.data, spec.layout, {
    responsive: true, displaylogo: false, scrollZoom: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", filename: "incident-timeline" }
  }).then(done, function (err) { console.error(err); done(); });
})();
