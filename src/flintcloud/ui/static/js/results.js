// The results of a simulation's latest successful run: downloads, the annual summary as charts
// and a table, and the indicator maps with their yearly statistics.

import { api, download } from "./api.js";
import { chart } from "./chart.js";
import { SUMMARY_GROUPS, SUMMARY_LABELS } from "./descriptions.js";
import { actionButton, clear, fmtBytes, fmtNumber, h, loading, shortId, showProblem, table } from "./dom.js";
import { legend, mapViewer } from "./webmap.js";

const simPath = (id, rest = "") => `simulations/${encodeURIComponent(id)}${rest}`;

// The map shown first when the run wrote it (else the first item with maps).
const PREFERRED_MAP = "Total_Ecosystem_C";

function label(key) {
  const disturbed = /^disturbed_area_ha\[(.+)\]$/.exec(key);
  if (disturbed) return `Disturbed: ${disturbed[1]} (ha)`;
  return SUMMARY_LABELS[key] || key;
}

export async function renderResults(el, simulation, { signal }) {
  const slot = h("div", {}, loading("Loading the results…"));
  el.append(slot);
  let outputs;
  let summary;
  try {
    [outputs, summary] = await Promise.all([
      api.get(simPath(simulation.id, "/outputs"), { signal }),
      api.get(simPath(simulation.id, "/summary"), { signal })]);
  } catch (error) {
    clear(slot);
    if (error.status === 404) {
      slot.append(h("div", { class: "panel empty-results" }, h("h2", {}, "No results yet"),
        h("p", {}, error.detail || "This simulation has no finished run."),
        h("a", { class: "button primary", href: `#/simulations/${encodeURIComponent(simulation.id)}/run` }, "Go to Run →")));
    } else {
      showProblem(slot, error);
    }
    return;
  }
  clear(slot);
  slot.append(h("p", { class: "muted" }, "Results of run ",
    h("a", { href: `#/jobs/${encodeURIComponent(outputs.job)}` }, shortId(outputs.job)), "."));
  slot.append(downloads(simulation, outputs), summarySection(summary.years), mapsSection(simulation, { signal }));
}

const outputPath = (path) => `/outputs/${path.split("/").map(encodeURIComponent).join("/")}`;

function downloads(simulation, outputs) {
  const files = outputs.files;
  const buttons = [actionButton("Download all outputs (zip)", () => download(simPath(simulation.id, "/outputs.zip"), `${simulation.title}.zip`),
                                { class: "primary", "data-download": "zip" })];
  // the run's main files (results database, compiled indicators, …) as the API names them
  for (const { path, title } of outputs.main || []) {
    buttons.push(actionButton(title, () => download(simPath(simulation.id, outputPath(path)), path.split("/").at(-1)),
                              { "data-download": path }));
  }
  const filter = h("input", { type: "search", placeholder: "Filter files…", "aria-label": "Filter output files" });
  const list = h("ul", { class: "file-list" });
  const drawList = () => {
    clear(list);
    const wanted = files.filter((file) => file.path.toLowerCase().includes(filter.value.toLowerCase()));
    for (const file of wanted.slice(0, 200)) {
      list.append(h("li", {}, h("button", { type: "button", class: "link", onclick: () => download(
        simPath(simulation.id, outputPath(file.path)), file.path.split("/").at(-1)) },
      file.path), h("span", { class: "muted" }, ` ${fmtBytes(file.size)}`)));
    }
    if (wanted.length > 200) list.append(h("li", { class: "muted" }, `… and ${wanted.length - 200} more (filter to find them)`));
  };
  filter.addEventListener("input", drawList);
  drawList();
  return h("section", { class: "panel", "aria-labelledby": "downloads-title" },
    h("h2", { id: "downloads-title" }, "Downloads"),
    h("div", { class: "actions wrap" }, buttons),
    h("details", {}, h("summary", {}, `All ${files.length} output files`), filter, list));
}

function summarySection(years) {
  const section = h("section", { class: "panel", "aria-labelledby": "summary-title" },
    h("h2", { id: "summary-title" }, "Annual summary"));
  if (!years.length) {
    section.append(h("p", { class: "empty" }, "The run wrote no annual summary."));
    return section;
  }
  const x = years.map((row) => row.year);
  const keys = Object.keys(years[0]);
  const grid = h("div", { class: "chart-grid" });
  for (const group of SUMMARY_GROUPS) {
    const fields = group.pattern
      ? Object.fromEntries(keys.filter((key) => group.pattern.test(key)).map((key) => [key, group.pattern.exec(key)[1]]))
      : Object.fromEntries(Object.entries(group.fields).filter(([key]) => keys.includes(key)));
    if (!Object.keys(fields).length) continue;
    const series = Object.entries(fields).map(([key, name]) => ({ name, values: years.map((row) => row[key]) }));
    const allZero = series.every((item) => item.values.every((value) => !value));
    const figure = chart({ type: group.type, stacked: group.stacked, title: `${group.title} (${group.unit})`, x, series,
                           xLabel: "Year", yLabel: group.unit, integerX: true, height: 280 });
    figure.dataset.group = group.title;
    grid.append(h("div", { class: "chart-card" }, figure, allZero ? h("p", { class: "muted small" }, "All zero.") : null));
  }
  section.append(grid);
  const columns = keys.map((key, index) => ({ label: label(key), class: index ? "num" : undefined,
    value: (row) => (index ? fmtNumber(row[key], { exact: true }) : String(row[key])) }));
  section.append(h("details", { class: "table-details" }, h("summary", {}, `Table (${years.length} years)`),
    table(columns, years, { caption: "Annual summary (t C, ha)", className: "data compact summary-table" })));
  return section;
}

function mapsSection(simulation, { signal }) {
  const section = h("section", { class: "panel", "aria-labelledby": "maps-title" }, h("h2", { id: "maps-title" }, "Maps"));
  const body = h("div", {}, loading("Loading the maps…"));
  section.append(body);
  (async () => {
    let catalogue;
    let items;
    try {
      [catalogue, { items }] = await Promise.all([api.get(simPath(simulation.id, "/maps"), { signal }),
        api.get(simPath(simulation.id, "/indicators"), { signal })]);
    } catch (error) {
      showProblem(body, error);
      return;
    }
    clear(body);
    if (!catalogue.indicators.length) {
      body.append(h("p", { class: "empty" }, "This run wrote no maps."));
      return;
    }
    // the items, their units and years as the run's manifest declares them (GET …/maps), and
    // what each is (GET …/indicators)
    const byName = Object.fromEntries(catalogue.indicators.map((item) => [item.indicator, item]));
    const about = Object.fromEntries(items.map((item) => [item.name, item.description]));
    const indicator = h("select", { id: "map-indicator" }, catalogue.indicators.map((item) =>
      h("option", { value: item.indicator, selected: item.indicator === PREFERRED_MAP }, item.indicator)));
    // a slider over the item's years; `years[year.value]` is the year shown
    const year = h("input", { type: "range", id: "map-year", min: "0", step: "1", value: "0" });
    const yearLabel = h("output", { for: year.id, class: "map-year-label" });
    let years = [];
    const yearOf = () => years[Number(year.value)];
    const ramp = h("select", { id: "map-ramp" }, catalogue.ramps.map((name) => h("option", { value: name }, name)));
    const fixed = h("input", { type: "checkbox", id: "map-fixed" });
    const previous = h("button", { type: "button", class: "small", "aria-label": "Previous year" }, "◀");
    const next = h("button", { type: "button", class: "small", "aria-label": "Next year" }, "▶");
    const play = h("button", { type: "button", class: "small", "aria-pressed": "false" }, "Play");
    const description = h("p", { class: "muted indicator-description" });
    const showYear = () => {
      yearLabel.textContent = yearOf();
      year.setAttribute("aria-valuetext", yearOf());
    };
    const fillYears = () => {
      const keep = yearOf();
      years = byName[indicator.value].years;
      year.max = String(years.length - 1);
      year.value = String(Math.max(0, years.indexOf(keep)));
      showYear();
      description.textContent = `${about[indicator.value] || indicator.value} (${byName[indicator.value].unit}).`;
    };
    fillYears();
    const controls = h("div", { class: "map-controls" },
      h("div", { class: "field" }, h("label", { for: indicator.id }, "Indicator"), indicator),
      h("div", { class: "field" }, h("label", { for: year.id }, "Year"), h("div", { class: "inline" }, previous, year, yearLabel, next, play)),
      h("div", { class: "field" }, h("label", { for: ramp.id }, "Colours"), ramp),
      h("div", { class: "field checkbox-field" }, h("label", { for: fixed.id }, fixed, " Same scale for every year")));
    const viewer = mapViewer({ signal, basemap: catalogue.basemap });
    const legendSlot = h("div", { class: "legend-slot" });
    const problems = h("div");
    const seriesSlot = h("div", { class: "series-slot" });
    body.append(controls, description, problems,
      h("div", { class: "map-layout" }, viewer.element, h("aside", { class: "map-side" }, legendSlot, seriesSlot)));

    const seriesCache = {};
    const seriesOf = async (name) => {
      seriesCache[name] ||= api.get(simPath(simulation.id, `/indicators/${encodeURIComponent(name)}`), { signal });
      return seriesCache[name];
    };
    let sequence = 0;
    let shownIndicator = null;
    async function load() {
      const mine = ++sequence;
      clear(problems);
      const params = new URLSearchParams({ ramp: ramp.value });
      try {
        if (fixed.checked) {
          const { series } = await seriesOf(indicator.value);
          let low = Math.min(...series.map((item) => item.min ?? Infinity));
          let high = Math.max(...series.map((item) => item.max ?? -Infinity));
          if (Number.isFinite(low) && Number.isFinite(high)) {
            if (["auto", "balance"].includes(ramp.value) && low < 0 && high > 0) {
              high = Math.max(-low, high);
              low = -high;
            }
            params.set("min", String(low));
            params.set("max", String(high));
          }
        }
        const path = `/maps/${encodeURIComponent(indicator.value)}/${encodeURIComponent(yearOf())}?${params}`;
        const info = await api.get(simPath(simulation.id, path), { signal });
        if (mine !== sequence) return;
        await viewer.show(info);
        if (mine !== sequence) return;
        clear(legendSlot);
        legendSlot.append(legend(info));
        if (shownIndicator !== indicator.value) {
          shownIndicator = indicator.value;
          drawSeries(indicator.value);
        }
      } catch (error) {
        if (mine === sequence) showProblem(problems, error);
      }
    }
    async function drawSeries(name) {
      clear(seriesSlot);
      try {
        const { series } = await seriesOf(name);
        if (shownIndicator !== name) return;
        seriesSlot.append(chart({ type: "line", title: `${name} per pixel (${series[0]?.unit ?? byName[name].unit})`,
          x: series.map((item) => item.year ?? item.step), xLabel: "Year", integerX: true, height: 220,
          series: [{ name: "mean", values: series.map((item) => item.mean) },
                   { name: "min", values: series.map((item) => item.min), color: "#7f7f7f" },
                   { name: "max", values: series.map((item) => item.max), color: "#222222" }] }));
      } catch (error) { showProblem(seriesSlot, error); }
    }
    const step = (delta) => {
      const target = Number(year.value) + delta;
      if (target < 0 || target >= years.length) return false;
      year.value = String(target);
      showYear();
      load();
      return true;
    };
    let timer = null;
    const stop = () => {
      clearInterval(timer);
      timer = null;
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
    };
    play.addEventListener("click", () => {
      if (timer) { stop(); return; }
      if (Number(year.value) === years.length - 1) { year.value = "0"; showYear(); }
      play.textContent = "Pause";
      play.setAttribute("aria-pressed", "true");
      load();
      timer = setInterval(() => { if (!step(1) || signal.aborted) stop(); }, 1200);
    });
    previous.addEventListener("click", () => step(-1));
    next.addEventListener("click", () => step(1));
    indicator.addEventListener("change", () => { fillYears(); load(); });
    year.addEventListener("input", showYear);
    for (const control of [year, ramp, fixed]) control.addEventListener("change", load);
    signal.addEventListener("abort", stop);
    load();
  })();
  return section;
}
