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

// The welcome screen and the login page show the product's logo (public/logo_*.svg, its name in
// letters): screen readers get that name rather than the framework's alt text « logo ».
(function () {
  var NAME = "Assistant secret professionnel";
  var pending = false;
  function name() {
    pending = false;
    document.querySelectorAll("img.logo").forEach(function (img) {
      if (img.getAttribute("alt") !== NAME) img.setAttribute("alt", NAME);
    });
  }
  new MutationObserver(function () {
    if (!pending) { pending = true; window.requestAnimationFrame(name); }
  }).observe(document.body, { childList: true, subtree: true });
  name();
})();

// Feedback: the framework has one message for a thumb given and for a thumb taken back (a second
// click on it); after taking it back, the reader is told so rather than thanked for it.
(function () {
  var SAVED = "Merci, votre avis est enregistré.";  // fr-FR.json: chat.messages.feedback.status.updated
  var REMOVED = "Votre avis est retiré.";
  var earlier = null;  // while a thumb is being taken back: the toasts shown before the click
  function toasts() { return Array.prototype.slice.call(document.querySelectorAll("[data-sonner-toast]")); }
  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest(".positive-feedback-on, .negative-feedback-on")) earlier = toasts();
    else if (event.target.closest(".positive-feedback-off, .negative-feedback-off, #submit-feedback")) earlier = null;
  }, true);
  new MutationObserver(function () {
    if (!earlier) return;
    toasts().forEach(function (toast) {
      var title = toast.querySelector("[data-title]");
      var text = title && title.firstChild;
      if (earlier.indexOf(toast) < 0 && text && text.nodeType === Node.TEXT_NODE && text.nodeValue === SAVED) {
        text.nodeValue = REMOVED;
        earlier = null;
      }
    });
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})();

// After a question (or a button under a reply), the view lands on the START of the new reply, so it
// is read from its first line. Chainlit's own scrolling to the end of each message is off
// (config.toml: assistant_message_autoscroll); it still puts the question just sent at the top,
// the reply right below it. Here: when the first message answering the reader arrives and its first
// line is not in the top third of the view (a long question; the export or the corpus listing,
// which arrive below the last reply), it is brought to the top. Never when the reader has scrolled
// (wheel, touch, keys, scroll bar) since asking: they are reading something else.
(function () {
  var asked = null;     // step ids of the messages present when the reader asked
  var moved = false;    // the reader has scrolled since
  var pending = false;
  var SCROLL_KEYS = ["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End", " "];

  function replies() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-step-type="assistant_message"]'));
  }
  function stepId(message) {
    var step = message.querySelector('[id^="step-"]');
    return step ? step.id : "";
  }
  function ask() {
    asked = {};
    replies().forEach(function (message) { asked[stepId(message)] = true; });
    moved = false;
  }
  function isAction(button) {  // Chainlit's action buttons carry the action's id (a UUID) and sit in a message
    return button && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(button.id)
      && button.closest("[data-step-type]");
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var button = event.target.closest("button");
    if (!button) return;
    if (button.id === "chat-submit" || button.closest("#starters") || isAction(button)) ask();
  }, true);
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && target.id === "chat-input") {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) ask();
      return;
    }
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (!typing && SCROLL_KEYS.indexOf(event.key) >= 0) moved = true;
  }, true);
  ["wheel", "touchmove"].forEach(function (type) {
    document.addEventListener(type, function () { moved = true; }, { capture: true, passive: true });
  });
  document.addEventListener("mousedown", function (event) {  // on a scroll bar: the target is the box itself
    var box = event.target;
    if (box && box.scrollHeight > box.clientHeight && event.offsetX >= box.clientWidth) moved = true;
  }, true);

  function bringToTop(message) {
    var box = message.closest(".overflow-y-auto");
    if (!box) return;
    var last = null, checks = 0;
    (function settle() {  // wait until the scrolling to the question (smooth, by Chainlit) has ended
      if (moved || !message.isConnected) return;
      if (box.scrollTop !== last && checks++ < 30) {
        last = box.scrollTop;
        window.setTimeout(settle, 120);
        return;
      }
      var top = message.getBoundingClientRect().top - box.getBoundingClientRect().top;
      if (top < 0 || top > box.clientHeight / 3) box.scrollTo({ top: box.scrollTop + top - 16, behavior: "smooth" });
    })();
  }

  function look() {
    pending = false;
    if (!asked) return;
    var fresh = replies().filter(function (message) { var id = stepId(message); return id && !asked[id]; });
    if (!fresh.length) return;
    asked = null;  // later messages of the same answer (the draft, a notice) do not move the view
    bringToTop(fresh[0]);
  }
  new MutationObserver(function () {
    if (!pending) { pending = true; window.requestAnimationFrame(look); }
  }).observe(document.body, { childList: true, subtree: true });
})();
