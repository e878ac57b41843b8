// The app's only script (the CSP allows no inline script). Progressive: every page works without it.
//  1. Registers the service worker (/sw.js), which shows the offline page when the network fails.
//  2. Remembers what the resident last saw: on a page with <section data-snapshot> (the resident
//     home, /me), the section's HTML and the time are kept in this phone's localStorage; the
//     offline page shows them under "last seen at". Signing out (a form posting to /sign-out)
//     forgets them.
//  3. When a boosted link (hx-boost) cannot reach the server, loads the page the ordinary way, so
//     that the service worker answers with the offline page instead of nothing happening.
//  4. Shows the Print buttons (<button data-print hidden>) of printable pages and prints on a tap;
//     without this script they stay hidden and the page says to use the browser's Print command.
"use strict";

(() => {
  const KEY = "mall.snapshot";
  const LANG = "mall.lang";

  function saveSnapshot() {
    const section = document.querySelector("[data-snapshot]");
    if (!section) return;
    const copy = section.cloneNode(true);
    copy.querySelectorAll("script").forEach((node) => node.remove());
    for (const node of [copy, ...copy.querySelectorAll("*")]) {
      for (const name of node.getAttributeNames()) {
        if (name.startsWith("hx-") || name.startsWith("data-hx-") || name === "id") {
          node.removeAttribute(name);
        }
      }
    }
    const snapshot = { html: copy.innerHTML, at: new Date().toISOString() };
    try {
      localStorage.setItem(KEY, JSON.stringify(snapshot));
    } catch (error) {
      // Storage full or disabled: the offline page then says nothing is saved.
    }
  }

  function readSnapshot() {
    try {
      const snapshot = JSON.parse(localStorage.getItem(KEY) || "null");
      return snapshot && typeof snapshot.html === "string" ? snapshot : null;
    } catch (error) {
      return null;
    }
  }

  function showSnapshot(section) {
    const snapshot = readSnapshot();
    if (!snapshot) return;
    const at = new Date(snapshot.at);
    const time = document.getElementById("offline-snapshot-at");
    time.dateTime = at.toISOString();
    time.textContent = shownAsInChina(at);
    document.getElementById("offline-snapshot-body").innerHTML = snapshot.html;
    document.getElementById("offline-nothing").hidden = true;
    section.hidden = false;
  }

  // As the passbook shows times: on a clock in China (UTC+8), whatever the phone's own zone.
  function shownAsInChina(at) {
    const options = {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    };
    try {
      return at.toLocaleString(document.documentElement.lang || "zh-Hans", options);
    } catch (error) {
      return at.toLocaleString();
    }
  }

  // The offline page is cached once: it follows the elder-mode choice made since (the cookie),
  // and the worker fetches it again when the language of the pages changes.
  function followElderChoice() {
    const elder = document.cookie.match(/(?:^|;\s*)elder=([01])/);
    if (elder) document.documentElement.classList.toggle("elder", elder[1] === "1");
  }

  function rememberLanguage() {
    const lang = document.documentElement.lang;
    try {
      if (localStorage.getItem(LANG) === lang) return;
      localStorage.setItem(LANG, lang);
    } catch (error) {
      return;
    }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.ready.then((registration) => {
        if (registration.active) registration.active.postMessage("refresh-offline");
      });
    }
  }

  // Storage is read at once on the offline page (it is what the page is for), and elsewhere
  // after the page has loaded, when the phone is idle, so it never delays what the resident sees.
  const later = (work) => (window.requestIdleCallback || window.setTimeout)(work);
  const offlinePage = document.getElementById("offline-snapshot");
  if (offlinePage) {
    showSnapshot(offlinePage);
    followElderChoice();
  } else {
    window.addEventListener("load", () => later(() => {
      saveSnapshot();
      rememberLanguage();
    }));
  }
  document.addEventListener("htmx:afterSettle", () => later(saveSnapshot));

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && new URL(form.action).pathname === "/sign-out") {
      try {
        localStorage.removeItem(KEY);
      } catch (error) {
        // Nothing to forget.
      }
    }
  });

  document.addEventListener("htmx:sendError", (event) => {
    const detail = event.detail;
    if (detail.boosted && detail.requestConfig.verb === "get") {
      window.location.assign(detail.pathInfo.finalRequestPath || detail.pathInfo.requestPath);
    }
  });

  function showPrintButtons() {
    document.querySelectorAll("button[data-print]").forEach((button) => { button.hidden = false; });
  }
  showPrintButtons();
  document.addEventListener("htmx:afterSettle", showPrintButtons);
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("button[data-print]")) {
      window.print();
    }
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register("/sw.js").catch(() => {
        // No worker (private window, old phone): the site still works online.
      });
    });
  }
})();
