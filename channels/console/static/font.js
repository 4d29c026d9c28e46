// A−/A＋: the base font size, remembered on this computer.
(function () {
  const root = document.documentElement;
  const apply = px => { root.style.setProperty("--font", px + "px"); localStorage.setItem("console-font", px); };
  const saved = parseInt(localStorage.getItem("console-font") || "20", 10);
  apply(saved);
  document.querySelectorAll("[data-font]").forEach(b => b.addEventListener("click", () => {
    const now = parseInt(getComputedStyle(root).getPropertyValue("--font"), 10) || 20;
    apply(Math.max(14, Math.min(34, now + 2 * parseInt(b.dataset.font, 10))));
  }));
})();
