// Battle map big screen: fetches /api/v1/battlemap every 60 s and redraws
// the figures, the tables and (when ECharts is embedded) the charts. The
// page works without it (tables, refreshed by <meta refresh> in <noscript>).
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) { return; }
  var api = root.getAttribute("data-api");
  var L = {};
  try { L = JSON.parse(root.getAttribute("data-labels") || "{}"); } catch (e) { L = {}; }
  var every = (parseInt(root.getAttribute("data-refresh"), 10) || 60) * 1000;
  var en = L.lang === "en";
  var lights = ["red", "yellow", "green", "not_started", "done"];
  var colors = { red: "#ff5252", yellow: "#ffd740", green: "#69f0ae", not_started: "#90a4ae", done: "#82b1ff" };
  var charts = null;

  function byId(id) { return document.getElementById(id); }
  function text(id, v) { var e = byId(id); if (e) { e.textContent = String(v); } }
  function cell(tag, txt, cls) {
    var c = document.createElement(tag);
    c.textContent = txt == null ? "" : String(txt);
    if (cls) { c.className = cls; }
    return c;
  }
  function row(cells) { var tr = document.createElement("tr"); cells.forEach(function (c) { tr.appendChild(c); }); return tr; }
  function fill(tableId, rows) {
    var t = byId(tableId);
    if (!t) { return; }
    var body = t.tBodies[0] || t.appendChild(document.createElement("tbody"));
    while (body.firstChild) { body.removeChild(body.firstChild); }
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function two(n) { return n < 10 ? "0" + n : String(n); }
  function stamp(d) {
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }
  function areaName(a) { return en && a.name_en ? a.name_en : a.name; }
  function status(msg) {
    var s = byId("screen-status");
    if (!s) { return; }
    s.textContent = msg || "";
    s.className = msg ? "stale" : "";
  }

  function render(b) {
    text("s-total", b.total);
    text("s-overdue", b.overdue);
    lights.forEach(function (l) { text("s-" + l, b.lights[l]); });
    if (b.generated_at) {
      var g = new Date(b.generated_at);
      text("screen-updated", stamp(g).slice(0, 16));
    }
    fill("s-matrix", (b.areas || []).map(function (a) {
      return row([cell("th", areaName(a))].concat(lights.map(function (l) { return cell("td", a.lights[l], "c-" + l); }), [cell("td", a.total)]));
    }));
    fill("s-lights", lights.map(function (l) { return row([cell("th", L[l] || l, "c-" + l), cell("td", b.lights[l])]); }));
    fill("s-units", (b.units || []).slice(0, 20).map(function (u) {
      return row([cell("th", u.name), cell("td", u.tasks), cell("td", u.red, "c-red"), cell("td", u.yellow, "c-yellow"),
        cell("td", u.overdue), cell("td", u.completion_rate.toFixed(1) + "%")]);
    }));
    fill("s-urgent", (b.timeline || []).filter(function (t) { return t.light === "red" || t.light === "yellow"; }).slice(0, 20).map(function (t) {
      var dot = document.createElement("span");
      dot.className = "dot l-" + t.light;
      var c0 = document.createElement("td");
      c0.appendChild(dot);
      return row([c0, cell("td", t.title), cell("td", t.unit_name), cell("td", t.due), cell("td", t.light_reason)]);
    }));
    if (charts) { draw(b); }
  }

  function draw(b) {
    var areas = (b.areas || []).slice().reverse();
    charts.areas.setOption({
      backgroundColor: "transparent",
      textStyle: { color: "#cfe0ff", fontSize: 14 },
      legend: { top: 0, textStyle: { color: "#cfe0ff" } },
      grid: { left: 8, right: 16, top: 34, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { color: "#9fb3d9" }, splitLine: { lineStyle: { color: "#1b3158" } } },
      yAxis: { type: "category", data: areas.map(areaName), axisLabel: { color: "#e3ecff", fontSize: 14 } },
      series: lights.map(function (l) {
        return { name: L[l] || l, type: "bar", stack: "all", itemStyle: { color: colors[l] }, data: areas.map(function (a) { return a.lights[l]; }) };
      })
    }, true);
    charts.lights.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "item" },
      legend: { bottom: 0, textStyle: { color: "#cfe0ff" } },
      series: [{
        type: "pie", radius: ["42%", "70%"], center: ["50%", "45%"],
        label: { color: "#e3ecff", formatter: "{b}\n{c}", fontSize: 15 },
        data: lights.map(function (l) { return { name: L[l] || l, value: b.lights[l], itemStyle: { color: colors[l] } }; })
      }]
    }, true);
  }

  function load() {
    if (!window.fetch) { return; }
    fetch(api, { credentials: "same-origin", headers: { "Accept": "application/json", "Accept-Language": en ? "en" : "zh-CN" } }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (b) {
      render(b);
      status("");
    }).catch(function () { status(L.offline || "offline"); });
  }

  function tick() {
    var c = byId("screen-clock");
    if (c) { c.textContent = stamp(new Date()); }
  }

  if (window.echarts && root.getAttribute("data-echarts")) {
    root.classList.add("has-charts");
    charts = {
      areas: window.echarts.init(byId("chart-areas"), null, { renderer: "canvas" }),
      lights: window.echarts.init(byId("chart-lights"), null, { renderer: "canvas" })
    };
    window.addEventListener("resize", function () { charts.areas.resize(); charts.lights.resize(); });
  }
  load();
  window.setInterval(load, every);
  tick();
  window.setInterval(tick, 1000);
})();
