// Chainlit 2.11–2.12 opens the side panel by itself whenever an answer brings elements shown
// "side" (upstream issue Chainlit/chainlit#2979), stacking every citation under the title of
// the last one. Keep the behaviour readers expect: the panel opens when they click a
// reference, and shows that text only.
(function () {
  var lastClick = 0;
  var shown = "";
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".element-link")) lastClick = Date.now();
  }, true);

  function close(title) {
    var back = title.querySelector("button");
    if (back) back.click();
    else document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  }

  new MutationObserver(function () {
    var title = document.getElementById("side-view-title");
    var content = document.getElementById("side-view-content");
    if (!title || !content) { shown = ""; return; }
    var signature = title.textContent + "|" + content.childElementCount;
    if (signature === shown) return;
    shown = signature;
    if (Date.now() - lastClick > 1500) close(title);
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})();

// Chainlit's frontend writes a few screen-reader labels in English, outside its translation
// files (the theme switch, the close buttons of panels and dialogs): say them in French.
(function () {
  var french = { "Toggle theme": "Changer de thème", "Close": "Fermer" };
  var pending = false;
  function translate() {
    pending = false;
    document.querySelectorAll("span.sr-only").forEach(function (span) {
      var text = span.textContent;
      if (Object.prototype.hasOwnProperty.call(french, text)) span.textContent = french[text];
    });
  }
  new MutationObserver(function () {
    if (!pending) { pending = true; window.requestAnimationFrame(translate); }
  }).observe(document.body, { childList: true, subtree: true });
  translate();
})();
