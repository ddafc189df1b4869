// 对标 charts: every element with data-chart holds {"type", "data"} as JSON
// (bars per subject, trend lines, radar per category). Without ECharts the
// tables next to them carry the same figures.
(function () {
  "use strict";
  function draw(el) {
    if (!window.echarts || !el.getAttribute("data-echarts")) { return; }
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    var d = spec.data || {}, opt = null, red = "#c62828", grey = "#90a4ae";
    if (spec.type === "bars" && d.names && d.names.length) {
      opt = {
        grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
        tooltip: {}, xAxis: { type: "category", data: d.names, axisLabel: { interval: 0, rotate: 30 } },
        yAxis: { type: "value", name: d.unit || "" },
        series: [{ type: "bar", data: d.values.map(function (v, i) { return { value: v, itemStyle: { color: d.us[i] ? red : grey } }; }) }]
      };
    } else if (spec.type === "trend" && d.periods && d.periods.length) {
      opt = {
        grid: { left: 8, right: 8, top: 30, bottom: 8, containLabel: true }, tooltip: { trigger: "axis" },
        legend: { data: d.labels }, xAxis: { type: "category", data: d.periods }, yAxis: { type: "value", scale: true },
        series: [{ name: d.labels[0], type: "line", data: d.us, connectNulls: true, itemStyle: { color: red } },
                 { name: d.labels[1], type: "line", data: d.best, connectNulls: true, itemStyle: { color: grey } }]
      };
    } else if (spec.type === "radar" && d.names && d.names.length > 2) {
      opt = {
        tooltip: {}, radar: { indicator: d.names.map(function (n) { return { name: n, max: 100 }; }) },
        series: [{ type: "radar", data: [{ value: d.values, name: d.label, itemStyle: { color: red }, areaStyle: { opacity: 0.2 } }] }]
      };
    }
    if (!opt) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(opt);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function init() {
    var els = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < els.length; i++) { draw(els[i]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
