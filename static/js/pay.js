// The pay code, on the resident's phone (/me/pay, and the offline page the service worker shows).
// Progressive: without this script the pay page still renews its code through htmx.
//  1. Keeps the screen awake while a code is shown ([data-keep-awake]), with the Wake Lock API
//     where the browser has it; the browser drops the lock when the page is hidden, so it is
//     asked for again when the page is visible again. Where there is no such API, nothing.
//  2. Never shows a pay code past its end: #paycode carries when it expires and the server's
//     clock (data-expires, data-now, ms); once it expired by the server's clock the code is
//     hidden and a new one asked for at once (a phone that slept skipped htmx's timers).
//  3. Offline pay codes (mall/people/offline_codes.py): on a page with [data-offline-owner],
//     while online, fetches a batch from /me/pay/offline when the one kept has less than
//     FETCH_BEFORE left, and keeps it in this phone's storage. When the network is gone (a
//     request of the pay page fails, or the browser says so), the page says "no network" and
//     shows the offline code of the current window with the time it has left, then the next;
//     when none is left it says so and shows no code. Signing out forgets the batch.
"use strict";

(() => {
  const STORE = "mall.offline";
  const FETCH_BEFORE = 20 * 60 * 1000;
  let lock = null;
  let offline = false;
  let fetching = false;
  let shownCode = null;
  let paycodeSeen = null;
  let paycodeOffset = 0;

  // 1. The screen stays awake ---------------------------------------------------------------
  async function keepAwake() {
    if (!("wakeLock" in navigator) || lock || document.visibilityState !== "visible") return;
    if (!document.querySelector("[data-keep-awake]")) return;
    try {
      const sentinel = await navigator.wakeLock.request("screen");
      lock = sentinel;
      sentinel.addEventListener("release", () => {
        if (lock === sentinel) lock = null;
      });
    } catch (error) {
      lock = null; // refused (battery saver, no permission): the screen may dim, nothing else
    }
  }

  function letSleep() {
    if (!lock) return;
    const sentinel = lock;
    lock = null;
    sentinel.release().catch(() => {});
  }

  // 3. The batch of offline codes kept on this phone ----------------------------------------
  function readBatch() {
    try {
      const batch = JSON.parse(localStorage.getItem(STORE) || "null");
      return batch && Array.isArray(batch.codes) ? batch : null;
    } catch (error) {
      return null;
    }
  }

  function serverNow(offset) {
    return Date.now() + offset;
  }

  async function fetchBatch(owner) {
    const kept = readBatch();
    if (kept && kept.owner === owner && kept.codes.length) {
      const last = kept.codes[kept.codes.length - 1];
      if (last.until - serverNow(kept.offset) > FETCH_BEFORE) return;
    }
    if (fetching || navigator.onLine === false) return;
    fetching = true;
    try {
      const response = await fetch("/me/pay/offline", {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const body = await response.json();
      const batch = {
        owner: String(body.resident_id),
        offset: Date.parse(body.server_time) - Date.now(),
        codes: body.codes.map((c) => ({
          digits: c.digits,
          qr: c.qr,
          from: Date.parse(c.show_from),
          until: Date.parse(c.show_until),
        })),
      };
      localStorage.setItem(STORE, JSON.stringify(batch));
    } catch (error) {
      // Offline or storage full: the batch kept before, if any, stays.
    } finally {
      fetching = false;
    }
  }

  function forgetBatch() {
    try {
      localStorage.removeItem(STORE);
    } catch (error) {
      // Nothing to forget.
    }
  }

  function currentOfflineCode(owner) {
    const batch = readBatch();
    if (!batch || (owner && batch.owner !== owner)) return null;
    const now = serverNow(batch.offset);
    const code = batch.codes.find((c) => c.from <= now && now < c.until);
    return code ? { code, left: code.until - now } : null;
  }

  function minutesAndSeconds(ms) {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function showOfflineCode(panel, owner) {
    const found = currentOfflineCode(owner);
    const box = panel.querySelector("[data-offline-code]");
    panel.hidden = false;
    box.hidden = !found;
    panel.querySelector("[data-offline-none]").hidden = Boolean(found);
    if (!found) {
      shownCode = null;
      panel.querySelector("[data-offline-qr]").textContent = "";
      panel.querySelector("[data-offline-digits]").textContent = "";
      return;
    }
    if (shownCode !== found.code.digits) {
      shownCode = found.code.digits;
      panel.querySelector("[data-offline-qr]").innerHTML = found.code.qr;
      panel.querySelector("[data-offline-digits]").textContent = found.code.digits;
    }
    panel.querySelector("[data-offline-left]").textContent = minutesAndSeconds(found.left);
  }

  // The pay page and the offline page -------------------------------------------------------
  function payPage() {
    return document.getElementById("pay");
  }

  function setOffline(on) {
    const page = payPage();
    if (!page) return;
    offline = on;
    page.classList.toggle("is-offline", on);
    const panel = page.querySelector("[data-offline-pay]");
    if (on) {
      showOfflineCode(panel, page.dataset.offlineOwner);
    } else {
      panel.hidden = true;
      shownCode = null;
    }
  }

  function renewPaycode() {
    if (window.htmx && document.getElementById("paycode")) {
      window.htmx.ajax("GET", "/me/pay", { target: "#paycode", swap: "outerHTML" });
    }
  }

  function checkPaycode() {
    const paycode = document.getElementById("paycode");
    if (!paycode || !paycode.dataset.expires) return;
    if (paycode !== paycodeSeen) {
      paycodeSeen = paycode;
      paycodeOffset = Number(paycode.dataset.now) - Date.now();
    }
    const expired = serverNow(paycodeOffset) >= Number(paycode.dataset.expires);
    if (expired && !paycode.classList.contains("stale")) {
      paycode.classList.add("stale");
      renewPaycode();
    }
  }

  function tick() {
    checkPaycode();
    const page = payPage();
    if (page && offline) showOfflineCode(page.querySelector("[data-offline-pay]"), page.dataset.offlineOwner);
    const standalone = !page && document.querySelector("[data-offline-pay]");
    if (standalone) showOfflineCode(standalone, null);
  }

  function setUp() {
    if (document.querySelector("[data-keep-awake]")) keepAwake();
    else letSleep();
    const owner = document.querySelector("[data-offline-owner]");
    if (owner && navigator.onLine !== false) fetchBatch(owner.dataset.offlineOwner);
    if (payPage() && navigator.onLine === false) setOffline(true);
    tick();
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    keepAwake();
    tick();
  });
  document.addEventListener("htmx:afterSettle", setUp);
  document.addEventListener("htmx:sendError", () => {
    if (payPage()) setOffline(true);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail && event.detail.xhr;
    if (payPage() && xhr && xhr.status > 0) {
      if (offline) setOffline(false);
      checkPaycode();
    }
  });
  window.addEventListener("offline", () => setOffline(true));
  window.addEventListener("online", () => {
    setOffline(false);
    renewPaycode();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && new URL(form.action).pathname === "/sign-out") {
      forgetBatch();
    }
  });

  setUp();
  window.setInterval(tick, 1000);
})();
