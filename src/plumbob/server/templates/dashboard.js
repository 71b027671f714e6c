/* plumbob dashboard: filters the fleet table as you type (the form also works without
   JavaScript, on the server). Reads names with textContent/dataset only: nothing parsed as
   HTML. No network. */
(function () {
  "use strict";
  var form = document.getElementById("fleet-filter");
  var table = document.getElementById("fleet-table");
  if (!form || !table) return;
  var rows = table.querySelectorAll("tbody tr.cluster");
  var status = document.getElementById("fleet-status");
  var text = form.querySelector("input[name=q]");
  var stale = form.querySelector("input[name=stale]");

  function apply() {
    var needle = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var match = row.dataset.cluster.toLowerCase().indexOf(needle) !== -1 &&
        (!stale.checked || row.dataset.stale === "1");
      row.classList.toggle("hidden", !match);
      if (match) shown += 1;
    });
    if (status) status.textContent = shown + " of " + rows.length + " clusters shown";
  }

  text.addEventListener("input", apply);
  stale.addEventListener("change", apply);
})();
