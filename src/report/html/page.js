(function () {
  "use strict";
  var root = document.documentElement;
  var rows = Array.prototype.slice.call(document.querySelectorAll("details.sc"));
  var toolbar = document.getElementById("toolbar");
  var search = document.getElementById("q");
  var failedOnly = document.getElementById("failed-only");
  var tag = document.getElementById("tag");
  var dialect = document.getElementById("dialect");
  var shown = document.getElementById("shown");
  var none = document.getElementById("none-shown");

  function failing(status) {
    return status === "failed" || status === "errored";
  }

  function filter() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute("data-text");
      var tags = row.getAttribute("data-tags").split(" ");
      var keep = (!failedOnly.checked || failing(row.getAttribute("data-status"))) &&
        (!tag.value || tags.indexOf(tag.value) >= 0) &&
        (!dialect.value || row.getAttribute("data-dialect") === dialect.value) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !keep;
      if (keep) count += 1;
    });
    shown.textContent = count + " of " + rows.length + " scenarios shown";
    none.hidden = count > 0;
  }

  // Opens the element the address points at and every section it sits in.
  function reveal(id, scroll) {
    var target = id && document.getElementById(id);
    if (!target) return null;
    for (var el = target; el; el = el.parentElement) {
      if (el.tagName === "DETAILS") {
        el.open = true;
        el.hidden = false;
      }
    }
    if (scroll) target.scrollIntoView({ block: "start" });
    return target;
  }

  function visible(el) {
    return !!el && el.getClientRects().length > 0 && el.offsetHeight > 0;
  }

  // Each filter alone keeps exactly the scenarios it names; afterwards all are shown again.
  function checkFilters(problems) {
    function expect(what, keep) {
      filter();
      rows.forEach(function (row) {
        if (row.hidden === keep(row)) problems.push(what + " is wrong for " + row.id);
      });
    }
    failedOnly.checked = true;
    expect("failed only", function (row) { return failing(row.getAttribute("data-status")); });
    failedOnly.checked = false;
    if (tag.options.length > 1) {
      tag.value = tag.options[1].value;
      expect("the tag filter", function (row) {
        return row.getAttribute("data-tags").split(" ").indexOf(tag.value) >= 0;
      });
      tag.value = "";
    }
    if (dialect.options.length > 1) {
      dialect.value = dialect.options[1].value;
      expect("the dialect filter", function (row) {
        return row.getAttribute("data-dialect") === dialect.value;
      });
      dialect.value = "";
    }
    if (rows.length) {
      var name = rows[0].querySelector(".name").firstChild.textContent;
      search.value = name.toUpperCase();
      expect("the search", function (row) {
        return row.getAttribute("data-text").indexOf(name.toLowerCase()) >= 0;
      });
      search.value = "";
    }
    filter();
  }

  // What a reader must see: every count with its number. With #selfcheck the filters are
  // tried one by one, and the first failing step with a snapshot diff is opened: its diff
  // must be on screen. The result goes
  // into data- attributes on <html> for a headless browser test to read.
  function selfCheck(deep) {
    var problems = [];
    var counts = document.querySelectorAll("[data-count]");
    if (counts.length === 0) problems.push("no counts on the page");
    Array.prototype.forEach.call(counts, function (c) {
      var number = c.querySelector("b");
      if (!visible(c) || !number || !/^\d+$/.test(number.textContent)) {
        problems.push("count " + c.getAttribute("data-count") + " is not shown");
      }
    });
    if (deep) {
      checkFilters(problems);
      var step = document.querySelector("details.step.failing.has-diff");
      if (!step) {
        root.setAttribute("data-failing-diff", "none");
      } else {
        reveal(step.id, false);
        var diff = step.querySelector("pre.diff");
        var changed = diff && diff.querySelector(".add, .del");
        if (visible(diff) && visible(changed)) {
          root.setAttribute("data-failing-diff", step.id);
        } else {
          problems.push("the diff of " + step.id + " is not shown when it is opened");
        }
      }
    }
    root.setAttribute("data-selfcheck", problems.length ? "failed: " + problems.join("; ") : "ok");
  }

  toolbar.hidden = false;
  [search, failedOnly, tag, dialect].forEach(function (input) {
    input.addEventListener("input", filter);
  });
  filter();
  window.addEventListener("hashchange", function () { reveal(location.hash.slice(1), true); });
  var hash = location.hash.slice(1);
  if (hash && hash !== "selfcheck") reveal(hash, true);
  selfCheck(hash === "selfcheck");
})();
