// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", function (e) {
  var f = e.target;
  var msg = f.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-print]");
  if (b) { window.print(); }
});
