// Issuing points (/staff/awards/new): keeps the residents already ticked when staff search again
// or add someone by code, by copying the ticks into the search forms as hidden "picked" fields.
// Without this script the page still works; ticks are then kept only for residents added by code.
// The listener is on the document, so it works on whatever copy of the page htmx swapped in.
"use strict";

(() => {
  if (window.mallKeepPicked) return; // loaded again by a later visit to the page: listen once
  window.mallKeepPicked = true;
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-keep-picked")) return;
      const award = document.getElementById("award-form");
      if (!award) return;
      form.querySelectorAll('input[name="picked"]').forEach((node) => node.remove());
      award.querySelectorAll('input[name="resident"]:checked').forEach((box) => {
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "picked";
        hidden.value = box.value;
        form.appendChild(hidden);
      });
      const rule = award.querySelector('select[name="rule"]');
      const kept = form.querySelector('input[name="rule"]');
      if (rule && kept) kept.value = rule.value;
    },
    true,
  );
})();
