(function () {
  "use strict";
  var table = document.getElementById("matrix");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var repo = document.getElementById("f-repo");
  var sev = document.getElementById("f-sev");
  var rule = document.getElementById("f-rule");
  var count = document.getElementById("f-count");
  function has(list, word) { return (" " + list + " ").indexOf(" " + word + " ") >= 0; }
  function apply() {
    var r = repo.value.toLowerCase(), s = sev.value, u = rule.value, shown = 0;
    rows.forEach(function (tr) {
      var ok = (!r || tr.dataset.repo.toLowerCase().indexOf(r) >= 0) && (!s || has(tr.dataset.sev, s)) && (!u || has(tr.dataset.rules, u));
      tr.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + rows.length + " images shown";
  }
  [repo, sev, rule].forEach(function (el) { el.addEventListener("input", apply); el.addEventListener("change", apply); });
  Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-key]"), function (th) {
    th.addEventListener("click", function () {
      var key = th.dataset.key, dir = th.dataset.dir === "asc" ? -1 : 1;
      th.dataset.dir = dir > 0 ? "asc" : "desc";
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key], nx = Number(x), ny = Number(y);
        if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) { return (nx - ny) * dir; }
        return x < y ? -dir : x > y ? dir : 0;
      });
      rows.forEach(function (tr) { body.appendChild(tr); });
    });
  });
  apply();
}());
