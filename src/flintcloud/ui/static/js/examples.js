// Point and RothC: edit the example's configuration (pools, variables, modules and their ratios;
// clay, soil cover, initial soil pools and the monthly climate series; or any part of it as JSON),
// run it as a job, chart the pools. A configuration FLINT cannot run is refused before it runs: the
// API's problems are shown with their JSON path.

import { api, download, pollJob } from "./api.js";
import { chart } from "./chart.js";
import { actionButton, clear, field, h, loading, showProblem, table } from "./dom.js";
import { POINT_POOLS, ROTHC_INITIAL, ROTHC_SERIES } from "./descriptions.js";
import { jobPanel } from "./jobs.js";
import { jsonEditor } from "./jsoneditor.js";

const EXAMPLES = {
  point: { title: "Point", process: "point",
           intro: "Three pools exchanging carbon through three test modules, monthly from 1920 to 1924." },
  rothc: { title: "RothC", process: "rothc",
           intro: "The Rothamsted soil carbon model at one site, monthly, driven by climate and plant inputs." },
};
const META_COLUMNS = new Set(["notification", "step", "stepDate", "fracOfStep", "stepLenInYears"]);
// Variables FLINT's local domain itself needs: not example settings.
const DOMAIN_VARIABLES = new Set(["localDomainId", "simulateLandUnit", "landUnitBuildSuccess"]);
// Kept while the page is open: switching between Point and RothC keeps edits and results.
const drafts = {};
const results = {};

/** moja.cli's stock output (what /point and /rothc return): {columns, pools, rows (strings)}. */
export function parseStockCsv(text) {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith("notification,"));
  if (start < 0) throw new Error("the output has no stock table");
  const split = (line) => {
    const cells = line.split(",");
    if (cells.at(-1) === "") cells.pop(); // moja.cli ends every line with a comma
    return cells;
  };
  const columns = split(lines[start]);
  const rows = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.trim() || line.startsWith("=")) break;
    rows.push(split(line));
  }
  return { columns, rows, pools: columns.filter((column) => !META_COLUMNS.has(column)) };
}

/** The chart and table of a stock table, with download buttons for the job's outputs. */
export function stockView(stock, { jobId, name, hidden = [] }) {
  const stepIndex = stock.columns.indexOf("step");
  const dateIndex = stock.columns.indexOf("stepDate");
  const steps = stock.rows.map((row) => Number(row[stepIndex]));
  const dates = stock.rows.map((row) => (row[dateIndex] || "").slice(0, 10));
  const series = stock.pools.map((pool) => {
    const index = stock.columns.indexOf(pool);
    return { name: pool, values: stock.rows.map((row) => Number.parseFloat(row[index])) };
  });
  const figure = chart({
    type: "line", title: "Pools over time", x: steps, series, hidden,
    xLabel: "Step", yLabel: "Pool value", integerX: true, logToggle: true,
    xFormat: (step, i) => (i > 0 ? dates[i].slice(0, 7) : "init"),
    tooltipX: (step, i) => `Step ${step} · ${dates[i]}`,
  });
  const columns = [
    { label: "Step", value: (row) => row[stepIndex] },
    { label: "Date", class: "nowrap", value: (row) => (row[dateIndex] || "").slice(0, 10) },
    ...stock.pools.map((pool) => {
      const index = stock.columns.indexOf(pool);
      return { label: pool, class: "num", value: (row) => row[index] };
    }),
  ];
  const actions = h("div", { class: "actions" },
    actionButton("Download CSV", () => download(`jobs/${encodeURIComponent(jobId)}/results/stock`, `${name}_stock.csv`),
                 { class: "primary", "data-download": "stock" }),
    actionButton("Download all output files (zip)", () => download(`jobs/${encodeURIComponent(jobId)}/results/files`, `${name}_files.zip`)));
  return h("div", { class: "stock-results" }, figure, actions,
    h("details", { class: "table-details", open: true }, h("summary", {}, `Table (${stock.rows.length} steps)`),
      table(columns, stock.rows, { caption: "Pool values by step", className: "data compact stock-table" })));
}

/** A finished point/rothc job's stock table as chart and table (used by the job page too). */
export async function stockResults(job, { signal }) {
  const text = await api.get(`jobs/${encodeURIComponent(job.jobID)}/results/stock`, { signal, as: "text" });
  return stockView(parseStockCsv(text), { jobId: job.jobID, name: job.processID });
}

// -- reading and writing the FLINT configuration document ------------------------------------------

function variableEntry(doc, name) {
  const variables = doc.Variables;
  if (Array.isArray(variables)) return variables.find((item) => item && Object.hasOwn(item, name));
  return variables && Object.hasOwn(variables, name) ? variables : undefined;
}

const getVariable = (doc, name) => variableEntry(doc, name)?.[name];

function setVariable(doc, name, value) {
  const entry = variableEntry(doc, name);
  if (entry) entry[name] = value;
}

function poolEntries(doc) {
  if (Array.isArray(doc.Pools)) {
    return doc.Pools.filter((item) => item && typeof item === "object")
      .map((item) => [Object.keys(item)[0], item]);
  }
  return Object.keys(doc.Pools || {}).map((name) => [name, doc.Pools]);
}

const toInputDate = (flint) => (flint || "").replaceAll("/", "-");
const toFlintDate = (iso) => iso.replaceAll("-", "/");

function numberInput(value, onChange, attrs = {}) {
  const input = h("input", { type: "number", step: "any", required: true, value: String(value ?? ""),
                             inputmode: "decimal", ...attrs });
  input.addEventListener("input", () => { if (input.value !== "" && input.validity.valid) onChange(Number(input.value)); });
  return input;
}

function pointForm(doc) {
  const form = h("div", { class: "form-grid" });
  const domain = doc.LocalDomain || {};
  const dates = h("fieldset", { class: "group" }, h("legend", {}, "Period"),
    h("div", { class: "row" },
      field("Start date", h("input", { type: "date", required: true, value: toInputDate(domain.start_date),
        oninput: (event) => { domain.start_date = toFlintDate(event.target.value); } })),
      field("End date", h("input", { type: "date", required: true, value: toInputDate(domain.end_date),
        oninput: (event) => { domain.end_date = toFlintDate(event.target.value); } }))),
    h("p", { class: "field-hint" }, "Monthly steps (CalendarSequencer)."));
  const pools = h("fieldset", { class: "group" }, h("legend", {}, "Initial pools"),
    h("div", { class: "row" }, poolEntries(doc).map(([name, holder]) =>
      field(name, numberInput(holder[name], (value) => { holder[name] = value; }), { hint: POINT_POOLS[name] }))));
  const modules = Object.entries(doc.Modules || {})
    .filter(([, module]) => module.settings && Object.keys(module.settings).some((key) => /^ratio_\d+$/.test(key)));
  const ratioKeys = [...new Set(modules.flatMap(([, module]) => Object.keys(module.settings).filter((key) => /^ratio_\d+$/.test(key))))].sort();
  const ratios = h("fieldset", { class: "group" }, h("legend", {}, "Module ratios"),
    h("p", { class: "field-hint" }, "Each test module moves this share of a pool to the next one per step."),
    h("div", { class: "table-wrap" }, h("table", { class: "data compact matrix" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Module"),
        ratioKeys.map((key) => h("th", { scope: "col" }, key.replace("ratio_", "Ratio "))))),
      h("tbody", {}, modules.map(([name, module]) => h("tr", {}, h("th", { scope: "row" }, name),
        ratioKeys.map((key) => h("td", {}, key in module.settings
          ? numberInput(module.settings[key], (value) => { module.settings[key] = value; },
                        { "aria-label": `${name} ${key.replace("_", " ")}`, class: "cell" }) : "–"))))))));
  form.append(dates, pools, variablesFieldset(doc) || "", ratios, modulesFieldset(doc));
  return form;
}

/** Every variable that is a plain number or switch (the others are structs and series, edited
 * in their own sections or as JSON); `shown`: those another section already edits. */
function variablesFieldset(doc, shown = new Set()) {
  const variables = Array.isArray(doc.Variables) ? doc.Variables.filter((item) => item && typeof item === "object")
    : [doc.Variables || {}];
  const fields = variables.flatMap((holder) => Object.entries(holder)
    .filter(([name, value]) => !DOMAIN_VARIABLES.has(name) && !shown.has(name)
      && (typeof value === "number" || typeof value === "boolean"))
    .map(([name, value]) => (typeof value === "boolean"
      ? h("div", { class: "field checkbox-field" }, h("label", {},
        h("input", { type: "checkbox", checked: value, "aria-label": `Variable ${name}`,
                     onchange: (event) => { holder[name] = event.target.checked; } }), ` ${name}`))
      : field(name, numberInput(value, (number) => { holder[name] = number; }, { "aria-label": `Variable ${name}` })))));
  if (!fields.length) return null;
  return h("fieldset", { class: "group" }, h("legend", {}, "Variables"), h("div", { class: "row wrap" }, fields));
}

/** Each module: on or off, and its order (FLINT runs them by order). */
function modulesFieldset(doc) {
  const modules = Object.entries(doc.Modules || {}).filter(([, module]) => module && typeof module === "object")
    .sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0));
  return h("details", { class: "group" }, h("summary", {}, `Modules (${modules.length})`),
    h("div", { class: "table-wrap" }, h("table", { class: "data compact modules-table" },
      h("thead", {}, h("tr", {}, ["Module", "Library", "Order", "Enabled"].map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, modules.map(([name, module]) => h("tr", {}, h("th", { scope: "row" }, h("code", {}, name)),
        h("td", {}, module.library || ""),
        h("td", {}, numberInput(module.order, (value) => { module.order = value; }, { class: "cell", step: 1, "aria-label": `${name} order` })),
        h("td", {}, h("input", { type: "checkbox", checked: module.enabled !== false, "aria-label": `${name} enabled`,
                                 onchange: (event) => { module.enabled = event.target.checked; } }))))))));
}

/** The whole configuration as JSON: pools, variables, modules, time series, anything. Applying
 * it replaces the draft the forms above edit. */
function wholeConfig(doc, apply) {
  const editor = jsonEditor({ value: doc, label: "The whole configuration (JSON)", rows: 24 });
  // Opened by its summary (mouse or keyboard: a click either way), it shows the forms' edits.
  // Set in the click itself, before the details opens: the toggle event comes later, and would
  // overwrite what was typed in the meantime.
  const summary = h("summary", { onclick: () => { if (!details.open) editor.set(doc); } },
    "The whole configuration (JSON): pools, variables, modules, time series");
  const details = h("details", { class: "group whole-config" }, summary,
    h("p", { class: "field-hint" }, "Any part of the FLINT configuration; FLINT-UI's request shapes are accepted. "
      + "Apply it to update the forms, or run it as it is."), editor.element,
    h("div", { class: "actions" }, h("button", { type: "button", "data-action": "apply-json", onclick: () => {
      try { apply(editor.read()); } catch (error) { editor.showProblems([{ message: error.message }]); }
    } }, "Apply to the forms")));
  return { element: details, editor };
}

function seriesData(doc, name) {
  const value = getVariable(doc, name);
  return value?.transform?.data;
}

function rothcForm(doc) {
  const form = h("div", { class: "form-grid" });
  const clay = h("fieldset", { class: "group" }, h("legend", {}, "Soil"),
    h("div", { class: "row" },
      field("Clay fraction", numberInput(getVariable(doc, "clayFrac"), (value) => setVariable(doc, "clayFrac", value),
                                         { min: 0, max: 1 }), { hint: "Share of clay in the soil, 0–1." }),
      h("div", { class: "field checkbox-field" }, h("label", {},
        h("input", { type: "checkbox", checked: Boolean(getVariable(doc, "isSoilCovered")),
                     onchange: (event) => setVariable(doc, "isSoilCovered", event.target.checked) }),
        " Soil covered at the start"))));
  const init = getVariable(doc, "initSoil") || {};
  const initial = h("fieldset", { class: "group" }, h("legend", {}, "Initial soil pools"),
    h("div", { class: "row wrap" }, Object.keys(init).map((key) =>
      field(key, numberInput(init[key], (value) => { init[key] = value; }), { hint: ROTHC_INITIAL[key] }))));
  const soil = getVariable(doc, "soil") || {};
  const advanced = h("details", { class: "group" }, h("summary", {}, "Soil parameters (advanced)"),
    h("div", { class: "row wrap" }, Object.keys(soil).map((key) =>
      field(key, numberInput(soil[key], (value) => { soil[key] = value; })))));
  form.append(clay, variablesFieldset(doc, new Set(["clayFrac", "isSoilCovered"])) || "", initial, advanced,
    climateTable(doc), modulesFieldset(doc));
  return form;
}

/** The monthly series as one editable table; pasting a block from a spreadsheet fills cells. */
function climateTable(doc) {
  const names = Object.keys(ROTHC_SERIES).filter((name) => Array.isArray(seriesData(doc, name)));
  const length = Math.max(0, ...names.map((name) => seriesData(doc, name).length));
  const start = toInputDate(doc.LocalDomain?.start_date || "1920-01-01");
  const [year0, month0] = start.split("-").map(Number);
  const monthLabel = (i) => {
    if (i === 0) return "init";
    const month = month0 - 1 + (i - 1);
    return `${year0 + Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, "0")}`;
  };
  const body = h("tbody");
  for (let i = 0; i < length; i += 1) {
    body.append(h("tr", {}, h("th", { scope: "row" }, h("span", { class: "step-number" }, String(i)), " ", monthLabel(i)),
      names.map((name, column) => {
        const data = seriesData(doc, name);
        return h("td", {}, numberInput(data[i], (value) => { data[i] = value; },
          { class: "cell", "aria-label": `${ROTHC_SERIES[name]}, step ${i}`, dataset: { row: i, column } }));
      })));
  }
  body.addEventListener("paste", (event) => {
    const target = event.target;
    const text = event.clipboardData?.getData("text") || "";
    if (!target.dataset?.row || !/[\t\n]/.test(text.trim())) return;
    event.preventDefault();
    const grid = text.trim().split(/\r?\n/).map((line) => line.split(/\t|;|,(?=\s*-?\d)/));
    const row0 = Number(target.dataset.row);
    const column0 = Number(target.dataset.column);
    grid.forEach((cells, r) => cells.forEach((cell, c) => {
      const input = body.querySelector(`input[data-row="${row0 + r}"][data-column="${column0 + c}"]`);
      const value = Number.parseFloat(cell);
      if (input && Number.isFinite(value)) {
        input.value = String(value);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }));
  });
  return h("fieldset", { class: "group" }, h("legend", {}, "Climate and plant inputs, by month"),
    h("p", { class: "field-hint" }, "Step 0 is the initialisation and is not used by RothC. "
      + "Paste a block of cells from a spreadsheet into any cell to fill the table from there."),
    h("div", { class: "table-wrap tall" }, h("table", { class: "data compact matrix climate" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Step / month"),
        names.map((name) => h("th", { scope: "col" }, ROTHC_SERIES[name])))),
      body)));
}

// -- the view -------------------------------------------------------------------------------------

export async function renderExamples(el, which, { signal }) {
  const example = EXAMPLES[which] || EXAMPLES.point;
  const key = EXAMPLES[which] ? which : "point";
  el.append(h("h1", { tabindex: "-1" }, "Point and RothC examples"),
    h("nav", { class: "tabs", "aria-label": "Examples" }, Object.entries(EXAMPLES).map(([id, item]) =>
      h("a", { href: `#/examples/${id}`, "aria-current": id === key ? "page" : undefined }, item.title))));
  const section = h("section", { class: "panel", "aria-labelledby": `example-${key}` },
    h("h2", { id: `example-${key}` }, `${example.title} example`), h("p", { class: "muted" }, example.intro));
  el.append(section);
  const formSlot = h("div", {}, loading("Loading the example configuration…"));
  section.append(formSlot);
  const runSlot = h("div", { class: "run-slot" });
  const resultSlot = h("div", { class: "result-slot" });
  if (!drafts[key]) {
    try {
      const body = await api.get(`processes/${example.process}/example`, { signal });
      drafts[key] = structuredClone(body.inputs.config);
    } catch (error) {
      showProblem(formSlot, error);
      return;
    }
  }
  const form = h("form", { class: "example-form", novalidate: true });
  let whole;
  const drawForm = () => {
    clear(form);
    whole = wholeConfig(drafts[key], (document) => {
      drafts[key] = document;
      drawForm();
      form.querySelector(".whole-config").open = true;
    });
    form.append(key === "point" ? pointForm(drafts[key]) : rothcForm(drafts[key]), whole.element,
      h("div", { class: "actions sticky-actions" },
        h("button", { type: "submit", class: "primary", id: `run-${key}` }, `Run ${example.title}`),
        actionButton("Reset to the example", async () => {
          const body = await api.get(`processes/${example.process}/example`);
          drafts[key] = structuredClone(body.inputs.config);
          drawForm();
        })));
  };
  drawForm();
  clear(formSlot);
  formSlot.append(form);
  section.append(runSlot);
  el.append(resultSlot);
  if (results[key]) showResults(results[key]);

  function showResults(result) {
    clear(resultSlot);
    resultSlot.append(h("section", { class: "panel", "aria-label": "Results" }, h("h2", {}, "Results"),
      stockView(result.stock, { jobId: result.jobId, name: key,
                                hidden: key === "rothc" ? ["initialValues", "plantCM", "atmosphere", "offsiteCM"] : [] })));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    let config = drafts[key];
    if (whole.element.open) { // the JSON shown is what runs, applied or not; the API checks it
      try { config = whole.editor.read(); } catch (error) {
        whole.editor.showProblems([{ message: error.message }]);
        return;
      }
    } else if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    button.disabled = true;
    clear(runSlot);
    whole.editor.showProblems([]);
    runSlot.append(loading("Submitting…"));
    try {
      const submitted = await api.post(`processes/${example.process}/execution`,
        { inputs: { config } }, { headers: { Prefer: "respond-async" }, signal });
      const update = (job) => { clear(runSlot); runSlot.append(jobPanel(job, { title: `${example.title} run` })); };
      update(submitted);
      const job = await pollJob(submitted.jobID, update, { signal });
      if (job.status === "successful") {
        const text = await api.get(`jobs/${encodeURIComponent(job.jobID)}/results/stock`, { signal, as: "text" });
        results[key] = { jobId: job.jobID, stock: parseStockCsv(text) };
        showResults(results[key]);
        resultSlot.querySelector("h2")?.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    } catch (error) {
      showProblem(runSlot, error, { heading: error.status === 422 ? "FLINT cannot run this configuration" : undefined });
      if (error.errors?.length) {
        if (!whole.element.open) {
          whole.editor.set(config);
          whole.element.open = true;
        }
        whole.editor.showProblems(error.errors); // each with its JSON path, next to the JSON
      }
    } finally {
      button.disabled = false;
    }
  });
}
