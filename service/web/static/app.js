// edurag web app: the few behaviours htmx does not cover. No inline scripts (the pages' CSP forbids them).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
// Move focus to new results so keyboard and screen-reader users land on them.
document.addEventListener("htmx:afterSwap", (event) => {
  const heading = event.detail.target.querySelector("h2");
  if (heading && event.detail.target.id !== "admin-result" && !event.detail.target.closest(".job")) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({preventScroll: false});
  }
});
