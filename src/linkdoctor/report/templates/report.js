"use strict";
(function () {
  const table = document.getElementById("results");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const select = document.getElementById("category-filter");
  const search = document.getElementById("text-filter");
  const counter = document.getElementById("shown-count");
  const groups = { problems: ["broken", "unverified"] };
  const numeric = new Set(["rank", "status", "index"]);

  function matches(row, category, needle) {
    const wanted = category === "all" || (groups[category] || [category]).includes(row.dataset.category);
    return wanted && (needle === "" || row.dataset.search.includes(needle));
  }

  function applyFilter() {
    const category = select.value;
    const needle = search.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const visible = matches(row, category, needle);
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    counter.textContent = shown + " of " + rows.length + " links shown";
  }

  function compare(key, a, b) {
    if (numeric.has(key)) return Number(a.dataset[key]) - Number(b.dataset[key]);
    return a.dataset[key].localeCompare(b.dataset[key]);
  }

  function sortBy(key, direction) {
    const sign = direction === "ascending" ? 1 : -1;
    const sorted = rows.slice().sort(function (a, b) {
      return sign * compare(key, a, b) || compare("index", a, b);
    });
    const fragment = document.createDocumentFragment();
    for (const row of sorted) fragment.appendChild(row);
    body.appendChild(fragment);
  }

  for (const button of table.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", function () {
      const header = button.closest("th");
      const next = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      for (const other of table.querySelectorAll("th[aria-sort]")) other.setAttribute("aria-sort", "none");
      header.setAttribute("aria-sort", next);
      sortBy(button.dataset.sort, next);
    });
  }
  select.addEventListener("change", applyFilter);
  search.addEventListener("input", applyFilter);
  applyFilter();
})();
