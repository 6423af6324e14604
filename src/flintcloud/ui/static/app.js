// FLINT Cloud web UI: a single page with hash routes. Each view renders into <main> and gets an
// AbortSignal that fires when the user navigates away (stopping its polling and requests).

import { api, getToken, setToken } from "./js/api.js";
import { clear, h, showProblem, toast } from "./js/dom.js";
import { renderExamples } from "./js/examples.js";
import { renderJob, renderJobs } from "./js/jobs.js";
import { renderSimulation, renderSimulations } from "./js/simulations.js";

const main = document.getElementById("main");
let current = null; // {controller, view}

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query) };
}

const ROUTES = [
  { match: (p) => p.length === 0, view: "home", render: renderHome },
  { match: (p) => p[0] === "examples" && p.length <= 2, view: "examples",
    render: (el, p, ctx) => renderExamples(el, p[1] || "point", ctx) },
  { match: (p) => p[0] === "simulations" && p.length === 1, view: "simulations", render: renderSimulations },
  { match: (p) => p[0] === "simulations" && p.length <= 3, view: "simulations",
    render: (el, p, ctx) => renderSimulation(el, p[1], p[2] || "inputs", ctx) },
  { match: (p) => p[0] === "jobs" && p.length === 1, view: "jobs", render: renderJobs },
  { match: (p) => p[0] === "jobs" && p.length === 2, view: "jobs", render: (el, p, ctx) => renderJob(el, p[1], ctx) },
];

async function route() {
  const { parts, query } = parseRoute();
  const found = ROUTES.find((candidate) => candidate.match(parts));
  current?.controller.abort();
  const controller = new AbortController();
  const previousView = current?.view;
  current = { controller, view: found?.view };
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === found?.view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clear(main);
  if (!found) {
    main.append(h("h1", { tabindex: "-1" }, "Page not found"),
                h("p", {}, "There is nothing at this address. ", h("a", { href: "#/" }, "Go to the start page.")));
    return;
  }
  try {
    await found.render(main, parts, { signal: controller.signal, query });
  } catch (error) {
    if (error?.name !== "AbortError") {
      const slot = h("div");
      main.append(slot);
      showProblem(slot, error);
    }
  }
  document.title = `${main.querySelector("h1")?.textContent || "Home"} · FLINT Cloud`;
  if (previousView !== undefined && previousView !== found.view) main.querySelector("h1")?.focus();
}

async function renderHome(el, _parts, { signal }) {
  const cards = [
    { href: "#/examples/point", title: "Point and RothC", text: "Run FLINT's point examples with your own "
      + "pools, ratios, soil and climate; chart the pools over time and download the CSV." },
    { href: "#/simulations", title: "GCBM simulations", text: "Upload a GCBM project (rasters and input "
      + "database), configure it step by step, run it, and explore the results as charts and maps." },
    { href: "#/jobs", title: "Jobs", text: "Every run the service has queued: status, progress, logs and results." },
  ];
  el.append(
    h("section", { class: "hero" },
      h("h1", { tabindex: "-1" }, "FLINT Cloud"),
      h("p", { class: "lead" }, "Carbon accounting with moja global's FLINT and GCBM, as a service.")),
    h("div", { class: "cards" }, cards.map((card) => h("a", { class: "card card-link", href: card.href },
      h("h2", {}, card.title), h("p", {}, card.text)))));
  const about = h("p", { class: "muted server-info" });
  el.append(about);
  try {
    const processes = await api.get("processes", { signal });
    about.textContent = `Processes on this server: ${processes.processes.map((p) => p.title).join(", ")}.`;
  } catch (error) {
    if (error.name !== "AbortError") about.textContent = "";
  }
}

// -- the access token -------------------------------------------------------------------------------

const dialog = document.getElementById("token-dialog");
const tokenInput = document.getElementById("token-input");
const tokenButton = document.getElementById("token-button");

function updateTokenButton() {
  const has = Boolean(getToken());
  tokenButton.classList.toggle("has-token", has);
  tokenButton.querySelector(".token-label").textContent = has ? "Token set" : "Access token";
  tokenButton.setAttribute("aria-label", has ? "Access token (set): change or forget it" : "Access token: set one");
}

tokenButton.addEventListener("click", () => {
  tokenInput.value = getToken();
  dialog.showModal();
  tokenInput.focus();
});
dialog.addEventListener("close", () => {
  if (dialog.returnValue === "save") {
    setToken(tokenInput.value.trim());
    toast(tokenInput.value.trim() ? "Token saved for this tab." : "Token cleared.", "success");
    route();
  } else if (dialog.returnValue === "clear") {
    setToken("");
    toast("Token forgotten.", "info");
    route();
  }
  tokenInput.value = "";
});
document.addEventListener("flint:token", updateTokenButton);
let lastUnauthorizedHint = 0;
document.addEventListener("flint:unauthorized", () => {
  if (Date.now() - lastUnauthorizedHint < 5000) return;
  lastUnauthorizedHint = Date.now();
  toast("The service needs an access token: set it with the button at the top right.", "error");
});

updateTokenButton();
window.addEventListener("hashchange", route);
route();
