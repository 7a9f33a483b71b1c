// Vigil console: progressive enhancement only; every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A click on a timeline mark opens the list and highlights its entry.
  const highlight = () => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!id.startsWith("t")) return;
    const row = document.getElementById(id);
    if (!row) return;
    const details = row.closest("details");
    if (details) details.open = true;
    document.querySelectorAll("tr.target").forEach((r) => r.classList.remove("target"));
    row.classList.add("target");
    row.scrollIntoView({ block: "center" });
  };
  window.addEventListener("hashchange", highlight);
  highlight();
  // Declining is the decision that lets an attacker continue: ask once.
  document.querySelectorAll('button[data-action="decline"]').forEach((b) => {
    b.addEventListener("click", (e) => {
      if (!window.confirm("Decline this action? It will not be taken.")) e.preventDefault();
    });
  });
  // Changing a model's autonomy select submits its form.
  document.querySelectorAll("form.autonomy select").forEach((s) => {
    s.addEventListener("change", () => s.form.submit());
  });
});
