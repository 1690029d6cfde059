"use strict";
(function () {
  // --- problems: rendered in the page; filtered by category or kind, and searched ---
  const problems = Array.from(document.querySelectorAll("#problems > li.problem"));
  const texts = new Map();
  function problemText(item) {  // its words, lower-cased once, when a search first needs them
    if (!texts.has(item)) texts.set(item, (item.textContent + " " + item.dataset.code).toLowerCase());
    return texts.get(item);
  }
  const problemFilter = document.getElementById("problem-filter");
  const problemSearch = document.getElementById("problem-search");
  const problemCount = document.getElementById("problem-count");

  function problemMatches(item, choice, needle) {
    let wanted = choice === "all";
    if (choice.startsWith("label:")) wanted = item.dataset.label === choice.slice(6);
    else if (!wanted) wanted = item.dataset.category === choice;
    return wanted && (needle === "" || problemText(item).includes(needle));
  }

  function filterProblems() {
    const choice = problemFilter.value;
    const needle = problemSearch.value.trim().toLowerCase();
    let shown = 0;
    for (const item of problems) {
      const visible = problemMatches(item, choice, needle);
      item.hidden = !visible;
      if (visible) shown += 1;
    }
    problemCount.textContent = shown + " of " + problems.length + " problems shown";
  }

  if (problemFilter) {
    problemFilter.addEventListener("change", filterProblems);
    problemSearch.addEventListener("input", filterProblems);
    filterProblems();
  }

  // --- documents linked: rows built from the data block, a page at a time ---
  const PAGE = 500;
  const RANKS = { broken: 0, unverified: 1, redirected: 2, ok: 3, excluded: 4 };
  const groups = { problems: ["broken", "unverified"] };
  const data = JSON.parse(document.getElementById("results-data").textContent).map(function (row, index) {
    return {
      index: index, url: row[0], category: row[1], status: row[2], statusSort: row[3], statusClass: row[4],
      code: row[5], links: row[6], final: row[7], rank: RANKS[row[1]],
      search: (row[0] + " " + row[1] + " " + row[5] + " " + row[2]).toLowerCase(),
    };
  });
  const table = document.getElementById("results");
  const body = table.tBodies[0];
  const select = document.getElementById("category-filter");
  const search = document.getElementById("text-filter");
  const counter = document.getElementById("shown-count");
  const more = document.getElementById("show-more");
  const keys = { rank: "rank", status: "statusSort", url: "url", links: "links", code: "code" };
  let order = data;
  let matching = [];
  let limit = PAGE;

  function cell(row, text, className) {
    const td = row.insertCell();
    if (className) td.className = className;
    if (text !== null) td.textContent = text;
    return td;
  }

  function render(entry) {
    const row = document.createElement("tr");
    row.dataset.url = entry.url;
    row.dataset.category = entry.category;
    row.dataset.status = String(entry.statusSort);
    row.dataset.links = String(entry.links);
    const badge = document.createElement("span");
    badge.className = "badge cat-" + entry.category;
    badge.textContent = entry.category;
    cell(row, null).appendChild(badge);
    const status = document.createElement("span");
    status.className = "sc c-" + entry.statusClass.replace(/ /g, "-");
    status.textContent = entry.status;
    cell(row, null, "status").appendChild(status);
    const url = cell(row, null, "url");
    if (/^(https?|file):/i.test(entry.url)) {
      const link = document.createElement("a");
      link.href = entry.url;
      link.rel = "noopener noreferrer";
      link.textContent = entry.url;
      url.appendChild(link);
    } else {
      url.textContent = entry.url;
    }
    if (entry.final) {
      const final = document.createElement("div");
      final.className = "final";
      final.textContent = "→ " + entry.final;
      url.appendChild(final);
    }
    cell(row, entry.links ? entry.links.toLocaleString("en") : "start URL", "links");
    cell(row, entry.code, "code");
    return row;
  }

  function show() {
    const fragment = document.createDocumentFragment();
    for (const entry of matching.slice(0, limit)) fragment.appendChild(render(entry));
    body.replaceChildren(fragment);
    const shown = Math.min(limit, matching.length);
    counter.textContent = shown + " of " + matching.length + " documents shown (" + data.length + " in all)";
    more.hidden = shown >= matching.length;
  }

  function applyFilter() {
    const category = select.value;
    const needle = search.value.trim().toLowerCase();
    const wanted = groups[category] || [category];
    matching = order.filter(function (entry) {
      return (category === "all" || wanted.includes(entry.category)) &&
        (needle === "" || entry.search.includes(needle));
    });
    limit = PAGE;
    show();
  }

  function compare(key, a, b) {
    const field = keys[key];
    if (typeof a[field] === "number") return a[field] - b[field];
    return a[field].localeCompare(b[field]);
  }

  for (const button of table.querySelectorAll("th button[data-sort]")) {
    button.addEventListener("click", function () {
      const header = button.closest("th");
      const next = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      for (const other of table.querySelectorAll("th[aria-sort]")) other.setAttribute("aria-sort", "none");
      header.setAttribute("aria-sort", next);
      const sign = next === "ascending" ? 1 : -1;
      order = data.slice().sort(function (a, b) {
        return sign * compare(button.dataset.sort, a, b) || a.index - b.index;
      });
      applyFilter();
    });
  }
  more.addEventListener("click", function () {
    limit += PAGE;
    show();
  });
  select.addEventListener("change", applyFilter);
  search.addEventListener("input", applyFilter);
  applyFilter();
})();
