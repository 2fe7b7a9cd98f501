/* amwgen built-in theme: progressive enhancement only; every page works without it.
   1. <time> elements with a moment (datetime with a time) read "today", "yesterday",
      "3 days ago" (days of the reader's calendar) for 30 days, the date kept in the title.
   2. The search page (form[data-amw-search]) queries the Pagefind index in /pagefind/. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var DAY = 86400000;

  // The reader's calendar day of a moment, as a count of days: "yesterday" is the day
  // before today on the reader's calendar, not 24 to 48 hours ago.
  function dayOf(moment) {
    var d = new Date(moment);
    return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / DAY;
  }

  function relativeDates() {
    if (!window.Intl || !Intl.RelativeTimeFormat) return;
    var words = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    var now = Date.now();
    document.querySelectorAll("time[datetime*='T']").forEach(function (el) {
      var when = Date.parse(el.getAttribute("datetime"));
      var days = dayOf(now) - dayOf(when);
      if (isNaN(when) || when > now || days > 30) return;
      el.title = el.textContent;
      el.textContent = words.format(-days, "day");
    });
  }

  function fill(template, n, query) {
    return template.replace("{n}", String(n)).replace("{query}", query);
  }

  function searchPage() {
    var form = document.querySelector("form[data-amw-search]");
    if (!form) return;
    var bundle = form.getAttribute("data-amw-search");
    var input = form.querySelector("input[name=q]");
    var status = document.getElementById("amw-search-status");
    var list = document.getElementById("amw-search-results");
    var plural = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang) : null;
    var engine = null;
    var latest = 0;
    var timer = 0;

    function load() {
      if (!engine) {
        engine = import(bundle + "pagefind.js").then(function (pagefind) {
          return Promise.resolve(pagefind.options({ baseUrl: bundle.replace(/pagefind\/$/, "") }))
            .then(function () { return pagefind; });
        });
      }
      return engine;
    }

    function item(data) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = data.url;
      link.textContent = (data.meta && data.meta.title) || data.url;
      var excerpt = document.createElement("p");
      // Pagefind escapes the page text; keep only its <mark> highlights.
      excerpt.innerHTML = String(data.excerpt || "").replace(/<(?!\/?mark>)[^>]*>/g, "");
      li.append(link, excerpt);
      return li;
    }

    function run(query) {
      var mine = ++latest;
      query = query.trim();
      if (!query) {
        status.textContent = "";
        list.replaceChildren();
        return;
      }
      load()
        .then(function (pagefind) { return pagefind.search(query); })
        .then(function (found) {
          var shown = found.results.slice(0, 20).map(function (r) { return r.data(); });
          return Promise.all(shown).then(function (items) { return [found.results.length, items]; });
        })
        .then(function (pair) {
          if (mine !== latest) return;
          var count = pair[0];
          var form_ = plural && plural.select(count) === "one" ? "one" : "other";
          var text = count ? status.dataset[form_] : status.dataset.none;
          status.textContent = fill(text, count, query);
          list.replaceChildren.apply(list, pair[1].map(item));
        })
        .catch(function (err) {
          status.textContent = String(err);
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(input.value);
    });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = new URL(window.location.href);
        url.searchParams.set("q", input.value);
        history.replaceState(null, "", url);
        run(input.value);
      }, 200);
    });
    var initial = new URLSearchParams(window.location.search).get("q") || "";
    input.value = initial;
    if (initial) run(initial);
  }

  relativeDates();
  searchPage();
})();
