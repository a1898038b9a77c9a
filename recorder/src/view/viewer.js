// The trace viewer's page (view::html): search, fold and unfold. The tree
// itself is in the markup; this only adds to it. Inlined into every page.
(function () {
  "use strict";
  var runs = Array.prototype.slice.call(document.querySelectorAll("details.run"));
  var search = document.getElementById("search");
  var status = document.getElementById("status");

  // A run's own parts: its summary line and its fields, not its children.
  function ownParts(run) {
    var parts = [];
    for (var c = run.firstElementChild; c; c = c.nextElementSibling) {
      if (!c.classList.contains("children")) parts.push(c);
    }
    return parts;
  }
  var texts = runs.map(function (run) {
    return ownParts(run).map(function (p) { return p.textContent; }).join(" ").toLowerCase();
  });

  function parentRun(run) {
    var p = run.parentElement;
    return p ? p.closest("details.run") : null;
  }

  function unmark() {
    var marks = document.querySelectorAll("main mark");
    for (var i = 0; i < marks.length; i++) {
      var m = marks[i];
      var parent = m.parentNode;
      parent.replaceChild(document.createTextNode(m.textContent), m);
      parent.normalize();
    }
  }

  // Wraps each occurrence of q (lower case) in the text under node in <mark>.
  function mark(node, q) {
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT, null);
    var found = [];
    while (walker.nextNode()) found.push(walker.currentNode);
    found.forEach(function (t) {
      var text = t.nodeValue;
      var lower = text.toLowerCase();
      var at = lower.indexOf(q);
      if (at < 0) return;
      var frag = document.createDocumentFragment();
      var from = 0;
      while (at >= 0) {
        frag.appendChild(document.createTextNode(text.slice(from, at)));
        var m = document.createElement("mark");
        m.textContent = text.slice(at, at + q.length);
        frag.appendChild(m);
        from = at + q.length;
        at = lower.indexOf(q, from);
      }
      frag.appendChild(document.createTextNode(text.slice(from)));
      t.parentNode.replaceChild(frag, t);
    });
  }

  function apply(query) {
    var q = query.trim().toLowerCase();
    unmark();
    runs.forEach(function (r) { r.classList.remove("match", "hidden"); });
    if (!q) {
      status.textContent = runs.length + (runs.length === 1 ? " run" : " runs");
      return;
    }
    var keep = new Set();
    var matched = 0;
    runs.forEach(function (r, i) {
      if (texts[i].indexOf(q) < 0) return;
      matched += 1;
      r.classList.add("match");
      ownParts(r).forEach(function (p) { mark(p, q); });
      for (var a = r; a; a = parentRun(a)) {
        keep.add(a);
        a.open = true;
      }
    });
    runs.forEach(function (r) {
      if (!keep.has(r)) r.classList.add("hidden");
    });
    status.textContent = matched + " of " + runs.length + (runs.length === 1 ? " run" : " runs") + " match";
  }

  function setAll(open) {
    runs.forEach(function (r) { r.open = open; });
  }

  search.addEventListener("input", function () { apply(search.value); });
  search.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      search.value = "";
      apply("");
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
    }
  });
  document.getElementById("expand").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { setAll(false); });

  // A search given in the address: trace.html#search=get_weather
  var hash = window.location.hash;
  var preset = "";
  if (hash.indexOf("#search=") === 0) {
    try {
      preset = decodeURIComponent(hash.slice(8));
    } catch (e) {
      preset = hash.slice(8);
    }
  }
  search.value = preset;
  apply(preset);
  document.body.setAttribute("data-viewer", "ready");
})();
