// GCBM simulations: the list (create, delete), and one simulation in four steps: inputs (upload,
// inspect), configuration (config.js), run (status, progress, logs, cancel) and results
// (results.js).

import { api, isFinal, pollJob, upload } from "./api.js";
import { compareStep } from "./compare.js";
import { configStep, isConfigProblem } from "./config.js";
import { isFileEditProblem } from "./configfiles.js";
import { actionButton, clear, confirmDialog, field, fmtBytes, fmtDate, h, loading, problemBox,
         showFieldErrors, showProblem, statusBadge, table, toast, uid } from "./dom.js";
import { cancelJob, jobPanel, logView } from "./jobs.js";
import { renderResults } from "./results.js";

const STEPS = [
  { id: "inputs", label: "Inputs" },
  { id: "config", label: "Configure" },
  { id: "run", label: "Run" },
  { id: "results", label: "Results" },
  { id: "compare", label: "Compare" },
];
const CATEGORIES = {
  classifiers: "Classifier layers", disturbances: "Disturbance layers",
  miscellaneous: "Other layers (age, temperature…)", db: "Input database",
};
const simPath = (id, rest = "") => `simulations/${encodeURIComponent(id)}${rest}`;
// What a problem's field means, in the words of the steps (the API's names are folders and keys).
const FIELD_WORDS = {
  "inputs/db": "Input database", layers: "Layers", "start_year/end_year": "Simulation period",
  "admin_boundary/eco_boundary": "Spatial unit", spatial_unit: "Spatial unit",
};
// A file a user uploaded (shown with its problem), not a server folder such as `inputs/db`.
const isFileName = (source) => Boolean(source) && !source.includes("/") && /\.[A-Za-z0-9]+$/.test(source);

/** What stops a run, the input database first (nothing else can be checked without it), then
 * the other missing inputs, then the rest; the order within each group is kept. */
export function orderProblems(problems) {
  const rank = (problem) => (problem.field === "inputs/db" || /database/i.test(problem.message) ? 0
    : problem.code === "missing_input" ? 1 : 2);
  return problems.map((problem, index) => [rank(problem), index, problem])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((item) => item[2]);
}

// -- the list ----------------------------------------------------------------------------------------

export async function renderSimulations(el, _parts, { signal }) {
  el.append(h("h1", { tabindex: "-1" }, "GCBM simulations"),
            h("p", { class: "lead" }, "A simulation is a GCBM project: rasters and an input database you upload, "
              + "a configuration you edit, and the runs of it."));
  const create = h("section", { class: "panel", "aria-labelledby": "create-title" },
    h("h2", { id: "create-title" }, "New simulation"));
  const titleInput = h("input", { type: "text", name: "title", required: true, maxlength: 200,
                                  autocomplete: "off", placeholder: "e.g. Saskatchewan demo" });
  const zipInput = h("input", { type: "file", name: "project", accept: ".zip,application/zip" });
  const problems = h("div");
  const form = h("form", { class: "create-form", novalidate: true },
    h("div", { class: "row" },
      field("Title", titleInput, { name: "title" }),
      field("Project zip (optional)", zipInput, { name: "files",
        hint: "A zip with classifiers/, disturbances/, miscellaneous/ and db/ folders (and an attributes.json); "
          + "you can also upload files one by one later." })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create simulation")),
    problems);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(problems);
    showFieldErrors(form, []);
    if (!titleInput.value.trim()) {
      showFieldErrors(form, [{ field: "title", message: "A title is required." }]);
      titleInput.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    let simulation;
    try {
      simulation = await api.post("simulations", { title: titleInput.value.trim() });
      if (zipInput.files.length) {
        const data = new FormData();
        data.append("files", zipInput.files[0]);
        problems.append(loading("Uploading the project…"));
        await upload(simPath(simulation.id, "/files"), data);
      }
      toast(`Simulation “${simulation.title}” created.`, "success");
      location.hash = `#/simulations/${encodeURIComponent(simulation.id)}/${zipInput.files.length ? "config" : "inputs"}`;
    } catch (error) {
      clear(problems);
      if (simulation) {
        problems.append(problemBox(error, { heading: "The simulation was created, but the upload was rejected" }),
          h("p", {}, h("a", { href: `#/simulations/${encodeURIComponent(simulation.id)}/inputs` }, "Open it to upload again")));
      } else {
        showFieldErrors(form, error.errors?.length ? error.errors : [{ field: "title", message: error.detail }]);
        problems.append(problemBox(error));
      }
    } finally {
      button.disabled = false;
    }
  });
  create.append(form);
  const demoProblems = h("div");
  const demoButton = h("button", { type: "button", id: "create-demo" }, "GCBM demo simulation");
  demoButton.addEventListener("click", async () => {
    clear(demoProblems);
    demoButton.disabled = true;
    demoProblems.append(loading("Building the demo project…"));
    try {
      const title = `GCBM demo ${new Date().toISOString().slice(0, 19).replace("T", " ")}`;
      const simulation = await api.post("simulations/demo", { title });
      toast(`Simulation “${simulation.title}” created: ready to run.`, "success");
      location.hash = `#/simulations/${encodeURIComponent(simulation.id)}/run`;
    } catch (error) {
      clear(demoProblems);
      demoProblems.append(problemBox(error));
    } finally {
      demoButton.disabled = false;
    }
  });
  create.append(h("div", { class: "demo-offer" },
    h("p", { class: "muted" }, "No files at hand? A synthetic GCBM project (one 0.1° block, two classifiers, "
      + "a fire and a clearcut; its database built from CBM-CFS3's defaults), ready to run in one click:"),
    h("div", { class: "actions" }, demoButton), demoProblems));
  const listSection = h("section", { class: "panel", "aria-labelledby": "list-title" },
    h("h2", { id: "list-title" }, "Your simulations"));
  const listSlot = h("div", {}, loading());
  listSection.append(listSlot);
  el.append(create, listSection);

  async function load() {
    const simulations = await api.get("simulations", { signal });
    const byId = Object.fromEntries(simulations.map((sim) => [sim.id, sim]));  // scenarios name their baseline
    clear(listSlot);
    if (!simulations.length) {
      listSlot.append(h("p", { class: "empty" }, "No simulation yet: create one above."));
      return;
    }
    listSlot.append(table([
      { label: "Title", value: (sim) => h("span", {}, h("a", { href: `#/simulations/${encodeURIComponent(sim.id)}` }, sim.title),
        sim.scenario_of ? h("span", { class: "muted scenario-of" }, ` scenario of “${byId[sim.scenario_of]?.title ?? "another simulation"}”`) : null) },
      { label: "Latest run", value: (sim) => statusBadge(sim.status) },
      { label: "Ready to run", value: (sim) => (sim.ready ? "yes"
        : h("span", { title: sim.problems.map((p) => p.message).join("\n") }, `no (${sim.problems.length} problem${sim.problems.length === 1 ? "" : "s"})`)) },
      { label: "Updated", value: (sim) => fmtDate(sim.updated) },
      { label: "Actions", value: (sim) => h("span", { class: "row-actions" },
        sim.status === "successful"  // results exist only after a successful run
          ? h("a", { class: "button small", href: `#/simulations/${encodeURIComponent(sim.id)}/results` }, "Results")
          : null,
        actionButton("Delete", async () => {
          if (!await confirmDialog(`Delete the simulation “${sim.title}” and all its files and runs?`)) return;
          try {
            await api.del(simPath(sim.id));
            toast(`Deleted “${sim.title}”.`, "info");
            await load();
          } catch (error) { showProblem(listSlot, error); }
        }, { class: "small danger", "aria-label": `Delete ${sim.title}` })) },
    ], simulations, { caption: `${simulations.length} simulation${simulations.length === 1 ? "" : "s"}` }));
  }
  try { await load(); } catch (error) { showProblem(listSlot, error); }
}

// -- one simulation ------------------------------------------------------------------------------------

export async function renderSimulation(el, id, step, ctx) {
  const current = STEPS.some((item) => item.id === step) ? step : "inputs";
  el.append(h("p", { class: "breadcrumb" }, h("a", { href: "#/simulations" }, "GCBM simulations"), " / ",
    h("span", { class: "crumb-title" }, "…")));
  const heading = h("h1", { tabindex: "-1" }, "Simulation");
  const status = h("div", { class: "sim-status" });
  el.append(h("div", { class: "title-row" }, heading, status));
  const nav = h("nav", { class: "stepper", "aria-label": "Simulation steps" },
    h("ol", {}, STEPS.map((item, index) => h("li", {}, h("a", {
      href: `#/simulations/${encodeURIComponent(id)}/${item.id}`,
      "aria-current": item.id === current ? "step" : undefined,
    }, h("span", { class: "step-index", "aria-hidden": "true" }, String(index + 1)), item.label)))));
  el.append(nav);
  const readiness = h("div", { class: "readiness" });
  el.append(readiness);
  const body = h("div", { class: "step-body" }, loading());
  el.append(body);

  let simulation;
  try {
    simulation = await api.get(simPath(id), ctx);
  } catch (error) {
    clear(body);
    showProblem(body, error);
    return;
  }
  const refresh = async () => {
    simulation = await api.get(simPath(id));
    drawHeader();
    return simulation;
  };
  function drawHeader() {
    heading.textContent = simulation.title;
    el.querySelector(".crumb-title").textContent = simulation.title;
    clear(status);
    status.append(statusBadge(simulation.status),
      h("span", { class: simulation.ready ? "ready yes" : "ready no" }, simulation.ready ? "ready to run" : "not ready to run"));
    clear(readiness);
    if (!simulation.ready && current !== "results") {
      readiness.append(h("details", { class: "notice", open: current === "run" },
        h("summary", {}, `${simulation.problems.length} thing${simulation.problems.length === 1 ? "" : "s"} still stop${simulation.problems.length === 1 ? "s" : ""} a run`),
        h("ul", {}, (() => {
          const hints = new Set();  // each hint once: several problems often share one
          return orderProblems(simulation.problems).map((problem) => {
            const where = isConfigProblem(problem) || isFileEditProblem(problem) ? "config" : "inputs";
            const words = FIELD_WORDS[problem.field];
            const hint = problem.hint && !hints.has(problem.hint) ? problem.hint : null;
            if (hint) hints.add(hint);
            return h("li", {}, h("a", { href: `#/simulations/${encodeURIComponent(id)}/${where}`,
                                        title: where === "config" ? "Fix it in the Configure step" : "Fix it in the Inputs step" },
              words ? h("strong", {}, words) : h("code", {}, problem.field)), ": ", problem.message,
              isFileName(problem.source) && problem.source !== problem.field ? h("span", { class: "muted" }, ` (${problem.source})`) : null,
              hint ? h("span", { class: "muted" }, ` — ${hint}`) : null);
          });
        })())));
    }
  }
  // The run step reports each status it sees, so the badge follows the run.
  const setStatus = (value) => {
    if (value === simulation.status) return;
    simulation = { ...simulation, status: value };
    drawHeader();
  };
  drawHeader();
  clear(body);
  const views = { inputs: inputsStep, config: configStep, run: runStep, results: renderResults, compare: compareStep };
  await views[current](body, simulation, { ...ctx, refresh, setStatus });
}

// -- step 1: inputs ------------------------------------------------------------------------------------

async function inputsStep(el, simulation, { signal, refresh }) {
  const uploadPanel = h("section", { class: "panel", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload files"),
    h("p", { class: "muted" }, "GeoTIFF layers (.tif, .tiff) and the GCBM input database (.db), or one zip "
      + "with classifiers/, disturbances/, miscellaneous/ and db/ folders; an attributes file (.json, .yaml "
      + "or .csv: the layers' tables and settings) may come on its own. Every file is checked; a rejected "
      + "upload keeps nothing."));
  const fileInput = h("input", { type: "file", multiple: true, id: uid("files"), class: "visually-hidden",
                                 accept: ".tif,.tiff,.db,.sqlite,.sqlite3,.zip,.json,.yaml,.yml,.csv" });
  const chosen = h("ul", { class: "chosen-files", "aria-live": "polite" });
  let files = [];
  const showChosen = () => {
    clear(chosen);
    for (const file of files) chosen.append(h("li", {}, file.name, h("span", { class: "muted" }, ` ${fmtBytes(file.size)}`)));
    uploadButton.disabled = !files.length;
  };
  const drop = h("div", { class: "dropzone", "data-dropzone": "" },
    h("p", {}, h("strong", {}, "Drop files here"), " or ",
      h("label", { for: fileInput.id, class: "button", tabindex: "0", role: "button",
                   onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); fileInput.click(); } } },
        "choose files")),
    fileInput, chosen);
  fileInput.addEventListener("change", () => { files = [...fileInput.files]; showChosen(); });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => { event.preventDefault(); drop.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    files = [...event.dataTransfer.files];
    showChosen();
  });
  const category = h("select", { name: "category" },
    h("option", { value: "" }, "Detect (zip folders, .db files)"),
    Object.entries(CATEGORIES).map(([value, label]) => h("option", { value }, label)));
  const attributes = h("textarea", { name: "attributes", rows: 4, spellcheck: "false",
    placeholder: '{"Classifier1": {"1": "TA", "2": "BP"}, "disturbances_2011": {"1": {"year": 2011, "disturbance_type": "Wildfire"}}}' });
  const progressSlot = h("div", { class: "upload-progress" });
  const problems = h("div", { class: "upload-problems" });
  const uploadButton = h("button", { type: "submit", class: "primary", disabled: true }, "Upload");
  const form = h("form", { class: "upload-form", novalidate: true }, drop,
    h("div", { class: "row" }, field("Category of these files", category, { name: "category",
      hint: "Needed for single GeoTIFFs: is it a classifier, a disturbance or another layer?" })),
    h("details", {}, h("summary", {}, "Attributes file (optional, JSON or YAML)"),
      field("Attributes", attributes, { name: "attributes", hint: "Per layer: pixel value → classifier value, or → "
        + "{year, disturbance_type, transition}; or a whole attributes file with settings "
        + '({"end_year": 2020, "layers": {"Classifier1": {"attributes": {…}}}}). You can also edit them in the Configure step.' })),
    h("div", { class: "actions" }, uploadButton), progressSlot, problems);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!files.length) return;
    clear(problems);
    const data = new FormData();
    for (const file of files) data.append("files", file, file.name);
    if (category.value) data.append("category", category.value);
    if (attributes.value.trim()) data.append("attributes", attributes.value.trim());
    uploadButton.disabled = true;
    const bar = h("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
    const label = h("span", {}, "Uploading…");
    clear(progressSlot);
    progressSlot.append(bar, label);
    try {
      const answer = await upload(simPath(simulation.id, "/files"), data, { signal, onProgress: (fraction) => {
        bar.value = Math.round(fraction * 100);
        label.textContent = fraction < 1 ? `Uploading… ${bar.value} %` : "Checking the files…";
      } });
      clear(progressSlot);
      toast(`${answer.received.length} file${answer.received.length === 1 ? "" : "s"} uploaded.`, "success");
      files = [];
      fileInput.value = "";
      showChosen();
      await refresh();
      drawInputs(answer.inputs);
    } catch (error) {
      clear(progressSlot);
      showProblem(problems, error, { heading: [400, 413, 422].includes(error.status) ? "Upload rejected" : undefined });
    } finally {
      uploadButton.disabled = !files.length;
    }
  });
  uploadPanel.append(form);
  const inputsPanel = h("section", { class: "panel", "aria-labelledby": "inputs-title" },
    h("h2", { id: "inputs-title" }, "Uploaded inputs"));
  const inputsSlot = h("div", {}, loading());
  inputsPanel.append(inputsSlot);
  el.append(uploadPanel, inputsPanel,
    h("p", { class: "next-step" }, h("a", { class: "button primary", href: `#/simulations/${encodeURIComponent(simulation.id)}/config` }, "Next: configure →")));

  function drawInputs(inputs) {
    clear(inputsSlot);
    for (const [name, label] of Object.entries(CATEGORIES)) {
      const items = inputs[name] || [];
      const group = h("div", { class: "input-group" }, h("h3", {}, label, h("span", { class: "count" }, ` (${items.length})`)));
      if (!items.length) {
        group.append(h("p", { class: "empty" }, "None uploaded."));
      } else if (name === "db") {
        group.append(table([
          { label: "File", value: (item) => item.name },
          { label: "Size", value: (item) => fmtBytes(item.size), class: "num" },
          { label: "", value: () => actionButton("Show tables", async (event) => {
            const tables = await api.get(simPath(simulation.id, "/tables"));
            event.target.closest(".input-group").append(h("details", { open: true, class: "db-tables" },
              h("summary", {}, `${Object.keys(tables).length} tables`),
              h("ul", { class: "columns" }, Object.entries(tables).map(([tableName, columns]) =>
                h("li", {}, h("code", {}, tableName), h("span", { class: "muted" }, ` ${columns.join(", ")}`))))));
          }, { class: "small" }) },
        ], items));
      } else {
        group.append(table([
          { label: "File", value: (item) => item.name },
          { label: "Layer", value: (item) => h("code", {}, item.layer) },
          { label: "Grid", value: (item) => (item.raster ? `${item.raster.width} × ${item.raster.height} px, `
            + `${item.raster.resolution?.[0]}°, ${item.raster.crs}` : "unreadable") },
          { label: "Type", value: (item) => (item.raster ? `${item.raster.data_type}, nodata ${item.raster.nodata ?? "none"}` : "–") },
          { label: "Size", value: (item) => fmtBytes(item.size), class: "num" },
          ...(name === "miscellaneous" ? [] : [{ label: "Attributes", value: (item) => (item.has_attributes
            ? h("span", { class: "ok" }, "✓ set") : h("a", { class: "missing", href: `#/simulations/${encodeURIComponent(simulation.id)}/config` }, "✗ missing")) }]),
          { label: "", value: (item) => actionButton("Remove", async () => {
            if (!await confirmDialog(`Remove ${item.name}?`, { confirm: "Remove" })) return;
            try {
              await api.del(simPath(simulation.id, `/inputs/${name}/${encodeURIComponent(item.name)}`));
              await refresh();
              drawInputs(await api.get(simPath(simulation.id, "/inputs")));
            } catch (error) { showProblem(inputsSlot, error); }
          }, { class: "small danger", "aria-label": `Remove ${item.name}` }) },
        ], items));
      }
      inputsSlot.append(group);
    }
  }
  try { drawInputs(await api.get(simPath(simulation.id, "/inputs"), { signal })); } catch (error) { showProblem(inputsSlot, error); }
}

// -- step 3: run --------------------------------------------------------------------------------------------

async function runStep(el, simulation, { signal, refresh, setStatus = () => {} }) {
  const panel = h("section", { class: "panel", "aria-labelledby": "run-title" }, h("h2", { id: "run-title" }, "Run"));
  const jobSlot = h("div", { class: "job-slot" });
  const logSlot = h("div");
  const problems = h("div");
  const runButton = h("button", { type: "button", class: "primary big", id: "run-simulation" }, "Run simulation");
  panel.append(h("p", { class: "muted" }, "The project is checked, copied, and queued; a worker runs GCBM on it. "
    + "You can leave this page: the run goes on."),
  h("div", { class: "actions" }, runButton), problems, jobSlot, logSlot);
  const history = h("section", { class: "panel", "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "Previous runs"));
  el.append(panel, history);
  runButton.disabled = !simulation.ready;
  if (!simulation.ready) problems.append(h("p", { class: "notice-text" }, "Fix the problems listed above before running."));

  async function follow(job) {
    const draw = (current) => {
      setStatus(current.status);
      clear(jobSlot);
      jobSlot.append(jobPanel(current, { title: "Latest run", onCancel: async () => {
        if (await cancelJob(current.jobID)) draw(await api.get(`jobs/${encodeURIComponent(current.jobID)}`));
      } }));
      runButton.disabled = !isFinal(current.status) || !simulation.ready;
    };
    draw(job);
    clear(logSlot);
    logSlot.append(h("details", { class: "logs", open: !isFinal(job.status) }, h("summary", {}, "Log"), logView(job.jobID, { signal })));
    if (!isFinal(job.status)) {
      const final = await pollJob(job.jobID, draw, { signal });
      await refresh();
      if (final.status === "successful") {
        jobSlot.append(h("p", { class: "success" }, "The run finished. ",
          h("a", { class: "button primary", href: `#/simulations/${encodeURIComponent(simulation.id)}/results` }, "See the results →")));
      }
      loadHistory();
    } else if (job.status === "successful") {
      jobSlot.append(h("p", {}, h("a", { class: "button", href: `#/simulations/${encodeURIComponent(simulation.id)}/results` }, "See the results →")));
    }
  }

  runButton.addEventListener("click", async () => {
    clear(problems);
    runButton.disabled = true;
    try {
      const job = await api.post(simPath(simulation.id, "/run"), {});
      toast("Run queued.", "success");
      await follow(job);
    } catch (error) {
      if (error.name !== "AbortError") showProblem(problems, error, { heading: error.status === 422 ? "The simulation cannot run yet" : undefined });
      runButton.disabled = false;
    }
  });

  async function loadHistory() {
    try {
      const list = await api.get("jobs?processID=gcbm&limit=100", { signal });
      const runs = list.jobs.filter((job) => job.simulation === simulation.id);
      clear(history);
      history.append(h("h2", { id: "history-title" }, "Previous runs"));
      if (!runs.length) { history.append(h("p", { class: "empty" }, "No run yet.")); return; }
      history.append(table([
        { label: "Job", value: (job) => h("a", { href: `#/jobs/${encodeURIComponent(job.jobID)}` }, job.jobID.slice(0, 8)) },
        { label: "Status", value: (job) => statusBadge(job.status) },
        { label: "Queued", value: (job) => fmtDate(job.created) },
        { label: "Finished", value: (job) => fmtDate(job.finished) },
        { label: "Message", value: (job) => job.error?.detail || job.message },
      ], runs));
    } catch (error) { showProblem(history, error); }
  }
  loadHistory();
  if (simulation.job) {
    try { await follow(await api.get(`jobs/${encodeURIComponent(simulation.job)}`, { signal })); } catch (error) {
      if (error.name !== "AbortError") showProblem(jobSlot, error);
    }
  }
}
