// Scenarios and comparisons of one simulation: copy it as a scenario (POST …/scenarios), compare
// its latest run with another simulation's (GET …/compare?with=: both annual summaries on one
// chart per group, the differences per year, what differs in their manifests), and the
// difference of two maps (…/maps/{indicator}/{year}/minus/{other}/{other year}) on the map with
// a diverging legend. With "this simulation" as the other, the map compares two years.

import { api } from "./api.js";
import { chart, PALETTE } from "./chart.js";
import { SUMMARY_GROUPS, SUMMARY_LABELS } from "./descriptions.js";
import { clear, fmtNumber, h, loading, showProblem, table, toast } from "./dom.js";
import { legend, mapViewer } from "./webmap.js";

/** What `request` gives, with `slot` emptied for it; undefined when it failed (the problem
 * shown in `slot`) or was aborted (the page left). */
async function loadInto(slot, request) {
  try {
    const value = await request;
    clear(slot);
    return value;
  } catch (error) {
    if (error.name !== "AbortError") {
      clear(slot);
      showProblem(slot, error);
    }
    return undefined;
  }
}

const simPath = (id, rest = "") => `simulations/${encodeURIComponent(id)}${rest}`;
const PREFERRED_MAP = "Total_Ecosystem_C";

export async function compareStep(el, simulation, { signal }) {
  el.append(scenarioPanel(simulation, { signal }));
  const panel = h("section", { class: "panel", "aria-labelledby": "compare-title" },
    h("h2", { id: "compare-title" }, "Compare runs"));
  const body = h("div", {}, loading("Loading the simulations…"));
  panel.append(body);
  el.append(panel);
  let simulations;
  try {
    simulations = await api.get("simulations", { signal });
  } catch (error) { clear(body); showProblem(body, error); return; }
  clear(body);
  if (simulation.status !== "successful") {
    body.append(h("p", { class: "empty" }, "Run this simulation first: a comparison reads the latest successful run of each."));
    return;
  }
  // any other simulation with a successful run; its baseline, or else a scenario of it, first
  const others = simulations.filter((item) => item.id !== simulation.id && item.status === "successful");
  const preferred = others.find((item) => item.id === simulation.scenario_of)
    || others.find((item) => item.scenario_of === simulation.id) || others[0];
  const other = h("select", { id: "compare-with" },
    others.map((item) => h("option", { value: item.id, selected: item === preferred },
      item.id === simulation.scenario_of ? `${item.title} (its baseline)`
        : item.scenario_of === simulation.id ? `${item.title} (a scenario of it)` : item.title)),
    h("option", { value: simulation.id, selected: !preferred }, "This simulation (another year, map only)"));
  const summarySlot = h("div", { class: "compare-summary" });
  const mapSlot = h("div", { class: "compare-map" });
  body.append(h("div", { class: "field" }, h("label", { for: other.id }, "Compare with"), other),
    h("p", { class: "muted" }, "Values of this simulation's latest run minus the other's (its baseline)."),
    summarySlot, h("h3", {}, "Difference map"), mapSlot);
  let controller = null;
  const load = () => {
    controller?.abort();
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort());
    const mine = { signal: controller.signal };
    clear(summarySlot);
    if (other.value !== simulation.id) summarySlot.append(loading("Comparing…"));
    drawSummary(summarySlot, simulation, other.value, mine);
    drawDifferenceMap(mapSlot, simulation, other.value, mine);
  };
  other.addEventListener("change", load);
  load();
}

function scenarioPanel(simulation, { signal }) {
  const panel = h("section", { class: "panel", "aria-labelledby": "scenario-title-heading" },
    h("h2", { id: "scenario-title-heading" }, "Scenarios"));
  if (simulation.scenario_of) {
    const link = h("a", { href: `#/simulations/${encodeURIComponent(simulation.scenario_of)}/compare` }, "its baseline");
    panel.append(h("p", { class: "scenario-of" }, "This simulation is a scenario of ", link, "."));
    api.get(simPath(simulation.scenario_of), { signal }).then((base) => { link.textContent = `“${base.title}”`; }, () => {});
  }
  const title = h("input", { type: "text", id: "scenario-title", maxlength: 200, autocomplete: "off",
                             value: `${simulation.title} scenario` });
  const button = h("button", { type: "button", class: "primary", id: "copy-scenario" }, "Copy as scenario");
  const problems = h("div");
  button.addEventListener("click", async () => {
    clear(problems);
    button.disabled = true;
    try {
      const scenario = await api.post(simPath(simulation.id, "/scenarios"), { title: title.value.trim() });
      toast(`Scenario “${scenario.title}” created: change its settings or layers, then run it.`, "success");
      location.hash = `#/simulations/${encodeURIComponent(scenario.id)}/config`;
    } catch (error) {
      showProblem(problems, error);
    } finally {
      button.disabled = false;
    }
  });
  panel.append(h("p", { class: "muted" }, "A scenario is a copy of this simulation (inputs, settings, edited "
    + "configuration files) that remembers it as its baseline. Change its settings or disturbance layers, run "
    + "both, and compare them here."),
  h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: title.id }, "Scenario title"), title)),
  h("div", { class: "actions" }, button), problems);
  return panel;
}

async function drawSummary(slot, simulation, otherId, { signal }) {
  if (otherId === simulation.id) {
    clear(slot);
    slot.append(h("p", { class: "muted" }, "Pick another simulation to compare the annual summaries."));
    return;
  }
  const compared = await loadInto(slot,
    api.get(simPath(simulation.id, `/compare?with=${encodeURIComponent(otherId)}`), { signal }));
  if (!compared) return;
  const { run, baseline_years: base, differences } = compared;
  const years = [...new Set([...run, ...base].map((row) => row.year))].sort((a, b) => a - b);
  const at = (rows, key) => {
    const byYear = new Map(rows.map((row) => [row.year, row[key]]));
    return years.map((year) => byYear.get(year) ?? null);
  };
  const grid = h("div", { class: "chart-grid compare-charts" });
  // charts: every indicator of either run (e.g. a disturbance type only the baseline has)
  const keys = [...new Set([...run, ...base].flatMap((row) => Object.keys(row)))].filter((key) => key !== "year");
  for (const group of SUMMARY_GROUPS) {
    const fields = group.pattern
      ? Object.fromEntries(keys.filter((key) => group.pattern.test(key)).map((key) => [key, group.pattern.exec(key)[1]]))
      : Object.fromEntries(Object.entries(group.fields).filter(([key]) => keys.includes(key)));
    if (!Object.keys(fields).length) continue;
    // each indicator in one colour: this run solid, the baseline dashed
    const series = Object.entries(fields).flatMap(([key, name], index) => {
      const color = PALETTE[index % PALETTE.length];
      return [{ name, values: at(run, key), color },
              { name: `${name} (${compared.baseline.title})`, values: at(base, key), color, dash: true }];
    });
    const figure = chart({ type: "line", title: `${group.title} (${group.unit})`, x: years, series,
                           xLabel: "Year", yLabel: group.unit, integerX: true, height: 280 });
    figure.dataset.group = group.title;
    grid.append(h("div", { class: "chart-card" }, figure));
  }
  const label = (key) => SUMMARY_LABELS[key] || key;
  const columns = ["year", ...compared.indicators].map((key, index) => ({ label: label(key), class: index ? "num" : undefined,
    value: (row) => (index ? fmtNumber(row[key], { exact: true }) : String(row[key])) }));
  slot.append(
    h("p", {}, `This run (solid): “${simulation.title}”; dashed: “${compared.baseline.title}”.`),
    grid,
    h("details", { class: "table-details", open: true }, h("summary", {}, `Differences (${differences.length} years both simulated)`),
      table(columns, differences, { caption: `“${simulation.title}” minus “${compared.baseline.title}” (t C, ha)`,
                                    className: "data compact differences-table" })),
    manifestDifferences(compared.manifest));
}

function manifestDifferences(manifest) {
  const { inputs, settings, versions } = manifest;
  const items = [];
  for (const [key, words] of [["changed", "Inputs changed"], ["only_run", "Inputs only in this run"],
                              ["only_baseline", "Inputs only in the baseline"]]) {
    if (inputs[key].length) items.push(h("li", {}, `${words}: `, inputs[key].map((path) => h("code", {}, `${path} `))));
  }
  const rows = (changes) => table([
    { label: "Key", value: (change) => h("code", {}, change.key) },
    { label: "Baseline", value: (change) => JSON.stringify(change.baseline) ?? "—" },
    { label: "This run", value: (change) => JSON.stringify(change.run) ?? "—" }], changes.slice(0, 200));
  return h("details", { class: "manifest-differences" },
    h("summary", {}, `Manifest differences: ${settings.length} setting(s), ${versions.length} version(s)`),
    items.length ? h("ul", {}, items) : h("p", {}, "Same input files."),
    settings.length ? rows(settings) : h("p", {}, "Same settings."),
    versions.length ? rows(versions) : h("p", {}, "Same versions (flintcloud, Python, libraries)."));
}

async function drawDifferenceMap(slot, simulation, otherId, { signal }) {
  clear(slot);
  slot.append(loading("Loading the maps…"));
  const both = await loadInto(slot, Promise.all([api.get(simPath(simulation.id, "/maps"), { signal }),
    api.get(simPath(otherId, "/maps"), { signal })]));
  if (!both) return;
  const [mine, theirs] = both;
  const theirYears = Object.fromEntries(theirs.indicators.map((item) => [item.indicator, item.years]));
  const common = mine.indicators.filter((item) => theirYears[item.indicator]);
  if (!common.length) {
    slot.append(h("p", { class: "empty" }, "The two runs have no map of the same indicator."));
    return;
  }
  const sameRun = otherId === simulation.id;
  const indicator = h("select", { id: "diff-indicator" }, common.map((item) =>
    h("option", { value: item.indicator, selected: item.indicator === PREFERRED_MAP }, `${item.indicator} (${item.unit})`)));
  const year = h("select", { id: "diff-year" });
  const otherYear = h("select", { id: "diff-other-year" });
  const fillYears = () => {
    const years = common.find((item) => item.indicator === indicator.value).years;
    const others = theirYears[indicator.value];
    const keep = [year.value, otherYear.value];
    clear(year);
    clear(otherYear);
    year.append(...years.map((value) => h("option", { value }, value)));
    otherYear.append(...others.map((value) => h("option", { value }, value)));
    year.value = years.includes(keep[0]) ? keep[0] : years.at(-1);
    // two runs: the same year; one run: its first year
    otherYear.value = others.includes(keep[1]) ? keep[1] : sameRun ? others[0] : (others.includes(year.value) ? year.value : others.at(-1));
  };
  fillYears();
  const viewer = mapViewer({ signal, basemap: mine.basemap });
  const legendSlot = h("div", { class: "legend-slot" });
  const problems = h("div");
  slot.append(h("div", { class: "map-controls" },
    h("div", { class: "field" }, h("label", { for: indicator.id }, "Indicator"), indicator),
    h("div", { class: "field" }, h("label", { for: year.id }, "Year (this run)"), year),
    h("div", { class: "field" }, h("label", { for: otherYear.id }, sameRun ? "minus the year" : "minus the other run's year"), otherYear)),
  problems, h("div", { class: "map-layout" }, viewer.element, h("aside", { class: "map-side" }, legendSlot)));
  let sequence = 0;
  async function load() {
    const turn = ++sequence;
    clear(problems);
    const path = `/maps/${encodeURIComponent(indicator.value)}/${encodeURIComponent(year.value)}/minus/`
      + `${encodeURIComponent(otherId)}/${encodeURIComponent(otherYear.value)}`;
    try {
      const info = await api.get(simPath(simulation.id, path), { signal });
      if (turn !== sequence) return;
      await viewer.show(info);
      if (turn !== sequence) return;
      viewer.element.querySelector(".map-frame").dataset.otherYear = info.other_year;
      clear(legendSlot);
      legendSlot.append(legend(info));
    } catch (error) {
      if (error.name !== "AbortError" && turn === sequence) showProblem(problems, error);
    }
  }
  indicator.addEventListener("change", () => { fillYears(); load(); });
  year.addEventListener("change", load);
  otherYear.addEventListener("change", load);
  load();
}
