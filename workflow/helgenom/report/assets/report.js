/* helgenom report: sortable tables, the candidate filters, evidence rows and links between
   rows. Written for this page; no library, no network, no storage, no eval. */
(function () {
  "use strict";

  /* A table body's rows in groups: a row and the evidence row(s) right after it. */
  function groupsOf(body) {
    var groups = [];
    Array.prototype.forEach.call(body.rows, function (row) {
      if (row.classList.contains("evidence") && groups.length) {
        groups[groups.length - 1].push(row);
      } else {
        groups.push([row]);
      }
    });
    return groups;
  }

  /* The value a cell sorts by: data-sort, else its text; numbers as numbers, null last. */
  function keyOf(cell, numeric) {
    var raw = cell ? cell.getAttribute("data-sort") : null;
    if (raw === null) {
      raw = cell ? cell.textContent.trim() : "";
    }
    if (numeric) {
      var value = parseFloat(raw);
      return isNaN(value) ? null : value;
    }
    return raw === "" ? null : raw.toLowerCase();
  }

  /* Sort by a header: numbers start high-to-low, text A-Z (data-first="asc" or "desc" says
     otherwise); a second click reverses. Ties keep the page's original order. */
  function sortBy(table, header) {
    var numeric = header.getAttribute("data-type") === "num";
    var state = header.getAttribute("aria-sort");
    var first = header.getAttribute("data-first");
    var descending = state === "ascending" ? true : state === "descending" ? false
      : (first ? first === "desc" : numeric);
    var column = header.cellIndex;
    var body = table.tBodies[0];
    var groups = groupsOf(body).map(function (rows) {
      return { rows: rows, key: keyOf(rows[0].cells[column], numeric),
               order: Number(rows[0].getAttribute("data-order")) };
    });
    groups.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        return a.key === b.key ? a.order - b.order : (a.key === null ? 1 : -1);
      }
      var step = a.key < b.key ? -1 : (a.key > b.key ? 1 : 0);
      return (descending ? -step : step) || a.order - b.order;
    });
    var sorted = document.createDocumentFragment();
    groups.forEach(function (group) {
      group.rows.forEach(function (row) { sorted.appendChild(row); });
    });
    body.appendChild(sorted);
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) {
      if (cell.hasAttribute("aria-sort")) {
        cell.setAttribute("aria-sort", cell === header ? (descending ? "descending" : "ascending")
                                                       : "none");
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tBodies.length || !table.tHead) {
      return;
    }
    groupsOf(table.tBodies[0]).forEach(function (rows, index) {
      rows[0].setAttribute("data-order", String(index));
    });
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th[aria-sort]"), function (th) {
      var button = th.querySelector("button.sort");
      if (button) {
        button.addEventListener("click", function () { sortBy(table, th); });
      }
    });
  });

  /* The candidate table: evidence rows, filters, links to a row. */
  var table = document.getElementById("candidates");
  if (!table) {
    return;
  }
  var rows = Array.prototype.slice.call(table.querySelectorAll("tr.cand"));
  var text = document.getElementById("filter-text");
  var model = document.getElementById("filter-model");
  var kind = document.getElementById("filter-type");
  var shown = document.getElementById("shown-count");

  function evidenceOf(row) {
    return document.getElementById(row.getAttribute("data-evidence"));
  }

  rows.forEach(function (row) {
    row.searchText = (row.textContent + " " + (row.getAttribute("data-search") || ""))
      .toLowerCase();
  });

  function setOpen(row, open) {
    row.classList.toggle("open", open);
    var button = row.querySelector("button.toggle");
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    evidenceOf(row).hidden = !open || row.hidden;
  }

  function matches(row) {
    var wanted = text.value.trim().toLowerCase();
    if (wanted && row.searchText.indexOf(wanted) < 0) {
      return false;
    }
    if (model.value && row.getAttribute("data-models").split("|").indexOf(model.value) < 0) {
      return false;
    }
    return !kind.value || row.getAttribute("data-type") === kind.value;
  }

  function applyFilters() {
    var count = 0;
    rows.forEach(function (row) {
      row.hidden = !matches(row);
      evidenceOf(row).hidden = row.hidden || !row.classList.contains("open");
      count += row.hidden ? 0 : 1;
    });
    shown.textContent = count + " of " + rows.length;
  }

  [text, model, kind].forEach(function (control) {
    control.addEventListener("input", applyFilters);
    control.addEventListener("change", applyFilters);
  });
  document.getElementById("filter-clear").addEventListener("click", function () {
    text.value = "";
    model.value = "";
    kind.value = "";
    applyFilters();
  });
  document.getElementById("open-all").addEventListener("click", function () {
    rows.forEach(function (row) { setOpen(row, true); });
  });
  document.getElementById("close-all").addEventListener("click", function () {
    rows.forEach(function (row) { setOpen(row, false); });
  });

  table.addEventListener("click", function (event) {
    var row = event.target.closest("tr.cand");
    if (row && !event.target.closest("a")) {
      setOpen(row, !row.classList.contains("open"));
    }
  });

  /* A link to a candidate row (a compound partner, an SV on the list): show the row even
     when the filters hid it, scroll to it and mark it. */
  function jumpTo(id) {
    var row = document.getElementById(id);
    if (!row || !row.classList.contains("cand")) {
      return false;
    }
    if (row.hidden) {
      document.getElementById("filter-clear").click();
    }
    rows.forEach(function (other) { other.classList.remove("flash"); });
    row.classList.add("flash");
    row.scrollIntoView({ block: "center" });
    var button = row.querySelector("button.toggle");
    if (button) {
      button.focus({ preventScroll: true });
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.jump");
    if (link && jumpTo(link.getAttribute("data-target"))) {
      event.preventDefault();
    }
  });

  /* report.html#c3 opens candidate 3 (the run index links the top candidate so). */
  if (location.hash.length > 1) {
    var target = location.hash.slice(1);
    if (jumpTo(target)) {
      setOpen(document.getElementById(target), true);
    }
  }
  applyFilters();
}());
