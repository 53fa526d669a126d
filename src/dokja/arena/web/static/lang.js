// The language toggle: Korean and English live side by side in the page; one is shown.
(function () {
  "use strict";
  var root = document.documentElement;
  function apply(lang) {
    root.setAttribute("data-lang", lang);
    root.setAttribute("lang", lang);
    document.querySelectorAll("[data-placeholder-" + lang + "]").forEach(function (el) {
      el.setAttribute("placeholder", el.getAttribute("data-placeholder-" + lang));
    });
  }
  document.getElementById("lang-toggle").addEventListener("click", function () {
    var next = root.getAttribute("data-lang") === "ko" ? "en" : "ko";
    document.cookie = "dokja_lang=" + next + "; path=/; max-age=31536000; samesite=lax";
    apply(next);
  });
})();
