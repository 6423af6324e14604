// GCBM simulations: the list (create, delete), and one simulation in four steps: inputs (upload,
// inspect), configuration (dates, spinup, modules, variables, layer attributes), run (status,
// progress, logs, cancel) and results (results.js).

import { api, ApiError, isFinal, pollJob, upload } from "./api.js";
import { MODULES, POOLS, SPINUP, VARIABLES } from "./descriptions.js";
import { actionButton, clear, confirmDialog, field, fmtBytes, fmtDate, h, loading, problemBox,
         showFieldErrors, showProblem, statusBadge, table, toast, uid } from "./dom.js";
import { cancelJob, jobPanel, logView } from "./jobs.js";
import { renderResults } from "./results.js";

const STEPS = [
  { id: "inputs", label: "Inputs" },
  { id: "config", label: "Configure" },
  { id: "run", label: "Run" },
  { id: "results", label: "Results" },
];
const CATEGORIES = {
  classifiers: "Classifier layers", disturbances: "Disturbance layers",
  miscellaneous: "Other layers (age, temperature…)", db: "Input database",
};
const simPath = (id, rest = "") => `simulations/${encodeURIComponent(id)}${rest}`;

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
    showFieldErrors(form, [], problems);
    if (!titleInput.value.trim()) {
      showFieldErrors(form, [{ field: "title", message: "A title is required." }], problems);
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
        showFieldErrors(form, error.errors?.length ? error.errors : [{ field: "title", message: error.detail }], problems);
        problems.append(problemBox(error));
      }
    } finally {
      button.disabled = false;
    }
  });
  create.append(form);
  const listSection = h("section", { class: "panel", "aria-labelledby": "list-title" },
    h("h2", { id: "list-title" }, "Your simulations"));
  const listSlot = h("div", {}, loading());
  listSection.append(listSlot);
  el.append(create, listSection);

  async function load() {
    const simulations = await api.get("simulations", { signal });
    clear(listSlot);
    if (!simulations.length) {
      listSlot.append(h("p", { class: "empty" }, "No simulation yet: create one above."));
      return;
    }
    listSlot.append(table([
      { label: "Title", value: (sim) => h("a", { href: `#/simulations/${encodeURIComponent(sim.id)}` }, sim.title) },
      { label: "Latest run", value: (sim) => statusBadge(sim.status) },
      { label: "Ready to run", value: (sim) => (sim.ready ? "yes"
        : h("span", { title: sim.problems.map((p) => p.message).join("\n") }, `no (${sim.problems.length} problem${sim.problems.length === 1 ? "" : "s"})`)) },
      { label: "Updated", value: (sim) => fmtDate(sim.updated) },
      { label: "Actions", value: (sim) => h("span", { class: "row-actions" },
        h("a", { class: "button small", href: `#/simulations/${encodeURIComponent(sim.id)}/results` }, "Results"),
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
        h("ul", {}, simulation.problems.map((problem) => {
          const where = /^(attributes|spinup|modules|variables|start_date|end_date)/.test(problem.field) ? "config" : "inputs";
          return h("li", {}, h("a", { href: `#/simulations/${encodeURIComponent(id)}/${where}` }, h("code", {}, problem.field)),
            ": ", problem.message);
        }))));
    }
  }
  drawHeader();
  clear(body);
  const views = { inputs: inputsStep, config: configStep, run: runStep, results: renderResults };
  await views[current](body, simulation, { ...ctx, refresh });
}

// -- step 1: inputs ------------------------------------------------------------------------------------

async function inputsStep(el, simulation, { signal, refresh }) {
  const uploadPanel = h("section", { class: "panel", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload files"),
    h("p", { class: "muted" }, "GeoTIFF layers (.tif, .tiff) and the GCBM input database (.db), or one zip "
      + "with classifiers/, disturbances/, miscellaneous/ and db/ folders. Every file is checked; a rejected "
      + "upload keeps nothing."));
  const fileInput = h("input", { type: "file", multiple: true, id: uid("files"), class: "visually-hidden",
                                 accept: ".tif,.tiff,.db,.sqlite,.sqlite3,.zip,.json" });
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
    h("details", {}, h("summary", {}, "Attribute tables (optional JSON)"),
      field("Attributes", attributes, { name: "attributes", hint: "Per layer: pixel value → classifier value, or → "
        + "{year, disturbance_type, transition}. You can also edit them in the Configure step." })),
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
      showProblem(problems, error, { heading: error.title === "Invalid file" ? "Upload rejected" : undefined });
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

// -- step 2: configuration -------------------------------------------------------------------------------

const isScalar = (value) => value === null || ["string", "number", "boolean"].includes(typeof value);

/** An input for a scalar value of the same type; read() gives the typed value back (or throws). */
function typedInput(value, attrs = {}) {
  if (typeof value === "boolean") {
    const input = h("input", { type: "checkbox", checked: value, ...attrs });
    return { input, read: () => input.checked };
  }
  if (typeof value === "number") {
    const input = h("input", { type: "number", step: "any", value: String(value), required: true, ...attrs });
    return { input, read: () => {
      if (input.value === "" || !Number.isFinite(Number(input.value))) throw new Error("must be a number");
      return Number(input.value);
    } };
  }
  if (isScalar(value)) {
    const input = h("input", { type: "text", value: value ?? "", ...attrs });
    return { input, read: () => input.value };
  }
  const input = h("textarea", { rows: 6, spellcheck: "false", class: "json", ...attrs }, JSON.stringify(value, null, 2));
  return { input, read: () => {
    try { return JSON.parse(input.value); } catch (err) { throw new Error(`invalid JSON: ${err.message}`); }
  } };
}

function checkboxField(label, checked, { name, hint } = {}) {
  const input = h("input", { type: "checkbox", checked });
  const id = uid("check");
  input.id = id;
  return { input, element: h("div", { class: "field checkbox-field", dataset: name ? { field: name } : {} },
    h("label", { for: id }, input, ` ${label}`), hint ? h("p", { class: "field-hint" }, hint) : null,
    h("p", { class: "field-error", "aria-live": "polite" })) };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function configStep(el, simulation, { signal, refresh }) {
  const slot = h("div", {}, loading("Loading the configuration…"));
  el.append(slot);
  const get = (rest) => api.get(simPath(simulation.id, rest), { signal });
  let config;
  let modulesCbm;
  let modulesOutput;
  let variablesDoc;
  let poolsDoc;
  let inputs;
  try {
    [config, modulesCbm, modulesOutput, variablesDoc, poolsDoc, inputs] = await Promise.all([
      get("/config"), get("/config/files/modules_cbm"), get("/config/files/modules_output"),
      get("/config/files/variables"), get("/config/files/pools_cbm"), get("/inputs")]);
  } catch (error) {
    showProblem(slot, error);
    return;
  }
  clear(slot);
  const readers = []; // [{name, read, baseline, patch(value)}]: how to build the merge patch
  const form = h("form", { class: "config-form", novalidate: true });
  const summary = h("div", { class: "config-problems" });

  // dates
  const start = h("input", { type: "date", required: true, value: config.start_date });
  const end = h("input", { type: "date", required: true, value: config.end_date });
  form.append(h("fieldset", { class: "group" }, h("legend", {}, "Simulation period"),
    h("div", { class: "row" }, field("Start date", start, { name: "start_date" }), field("End date", end, { name: "end_date",
      hint: "The run covers the years from the start date up to (not including) the end date." }))));
  readers.push({ name: "start_date", read: () => start.value, baseline: config.start_date, patch: (v) => ({ start_date: v }) });
  readers.push({ name: "end_date", read: () => end.value, baseline: config.end_date, patch: (v) => ({ end_date: v }) });

  // spinup
  const spinup = config.spinup;
  const spinupEnabled = checkboxField("Spinup enabled", spinup.enabled, { name: "spinup.enabled", hint: SPINUP.enabled });
  const rotation = h("input", { type: "number", min: 1, step: 1, required: true, value: String(spinup.minimum_rotation) });
  const delay = h("input", { type: "number", min: 0, step: 1, required: true, value: String(spinup.delay) });
  const runDelay = checkboxField("Run delay", spinup.run_delay, { name: "spinup.run_delay", hint: SPINUP.run_delay });
  form.append(h("fieldset", { class: "group" }, h("legend", {}, "Spinup"), spinupEnabled.element,
    h("div", { class: "row" },
      field("Minimum rotations", rotation, { name: "spinup.minimum_rotation", hint: SPINUP.minimum_rotation }),
      field("Delay (years)", delay, { name: "spinup.delay", hint: SPINUP.delay })),
    runDelay.element));
  const intOrText = (input) => (input.value === "" ? input.value : Number(input.value));
  readers.push({ name: "spinup", baseline: spinup, patch: (v) => ({ spinup: v }), read: () => ({
    enabled: spinupEnabled.input.checked, minimum_rotation: intOrText(rotation), delay: intOrText(delay),
    run_delay: runDelay.input.checked }) });

  // modules
  const moduleGroup = h("fieldset", { class: "group modules" }, h("legend", {}, "Modules"),
    h("p", { class: "field-hint" }, "GCBM runs these modules in order every year. Switch optional ones on or off and change their settings."));
  const modules = Object.entries({ ...modulesCbm.Modules, ...modulesOutput.Modules })
    .sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0));
  for (const [name, module] of modules) {
    const card = h("div", { class: "module", dataset: { field: `modules.${name}` } },
      h("div", { class: "module-head" }, h("span", { class: "order" }, String(module.order ?? "")), h("h3", {}, name),
        h("span", { class: "muted library" }, module.library || "")),
      h("p", { class: "module-description" }, MODULES[name] || ""));
    if ("enabled" in module) {
      const enabled = checkboxField("Enabled", Boolean(module.enabled), { name: `modules.${name}.enabled` });
      card.append(enabled.element);
      readers.push({ name: `modules.${name}.enabled`, read: () => enabled.input.checked, baseline: Boolean(module.enabled),
                     patch: (v) => ({ modules: { [name]: { enabled: v } } }) });
    }
    const settings = Object.entries(module.settings || {});
    const scalars = settings.filter(([, value]) => isScalar(value));
    const complex = settings.filter(([, value]) => !isScalar(value));
    if (scalars.length) {
      const row = h("div", { class: "row wrap" });
      for (const [key, value] of scalars) {
        const { input, read } = typedInput(value);
        row.append(typeof value === "boolean"
          ? h("div", { class: "field checkbox-field", dataset: { field: `modules.${name}.settings.${key}` } },
            h("label", {}, input, ` ${key}`), h("p", { class: "field-error" }))
          : field(key, input, { name: `modules.${name}.settings.${key}` }));
        readers.push({ name: `modules.${name}.settings.${key}`, read, baseline: value,
                       patch: (v) => ({ modules: { [name]: { settings: { [key]: v } } } }) });
      }
      card.append(row);
    }
    for (const [key, value] of complex) {
      const { input, read } = typedInput(value);
      card.append(h("details", { class: "complex-setting" }, h("summary", {}, `${key} (JSON)`),
        field(key, input, { name: `modules.${name}.settings.${key}` })));
      readers.push({ name: `modules.${name}.settings.${key}`, read, baseline: value,
                     patch: (v) => ({ modules: { [name]: { settings: { [key]: v } } } }) });
    }
    moduleGroup.append(card);
  }
  form.append(moduleGroup);

  // constant variables
  const constants = Object.entries(variablesDoc.Variables || {}).filter(([, value]) => isScalar(value));
  const variableRow = h("div", { class: "row wrap" });
  for (const [name, value] of constants) {
    const { input, read } = typedInput(value);
    variableRow.append(typeof value === "boolean"
      ? h("div", { class: "field checkbox-field", dataset: { field: `variables.${name}` } },
        h("label", {}, input, ` ${name}`), h("p", { class: "field-hint" }, VARIABLES[name] || ""), h("p", { class: "field-error" }))
      : field(name, input, { name: `variables.${name}`, hint: VARIABLES[name] }));
    readers.push({ name: `variables.${name}`, read, baseline: value, patch: (v) => ({ variables: { [name]: v } }) });
  }
  form.append(h("fieldset", { class: "group" }, h("legend", {}, "Variables"),
    h("p", { class: "field-hint" }, "Constants of the simulation (the layers and database queries are set up for you)."), variableRow));

  // layer attributes
  const attributeGroup = h("fieldset", { class: "group attributes" }, h("legend", {}, "Layer attributes"),
    h("p", { class: "field-hint" }, "A raster holds numbers: say what each pixel value of a classifier layer (a classifier value) "
      + "or of a disturbance layer (a disturbance event) means."));
  const choicesSlot = h("div");
  attributeGroup.append(choicesSlot);
  const layers = [...(inputs.classifiers || []).map((item) => ({ ...item, category: "classifiers" })),
                  ...(inputs.disturbances || []).map((item) => ({ ...item, category: "disturbances" }))];
  if (!layers.length) attributeGroup.append(h("p", { class: "empty" }, "Upload classifier or disturbance layers first."));
  const typesListId = uid("disturbance-types");
  const editors = layers.map((layer) => attributeEditor(layer, config.attributes[layer.layer] || {}, typesListId));
  for (const editor of editors) {
    attributeGroup.append(editor.element);
    readers.push({ name: `attributes.${editor.layer}`, read: editor.read, baseline: config.attributes[editor.layer] || {},
                   patch: (v, baseline) => ({ attributes: { [editor.layer]: tablePatch(baseline, v) } }) });
  }
  form.append(attributeGroup);
  if (layers.length) {
    get("/attributes/choices").then((choices) => {
      for (const editor of editors) editor.offer(choices);
      if (choices.disturbance_types.length) {
        choicesSlot.append(h("datalist", { id: typesListId },
          choices.disturbance_types.map((name) => h("option", { value: name }))));
      }
    }).catch(() => { /* suggestions only */ });
  }

  // pools (read only)
  const pools = Object.entries(poolsDoc.Pools || {});
  form.append(h("details", { class: "group" }, h("summary", {}, `Pools (${pools.length}, read only)`),
    table([{ label: "Pool", value: ([name]) => h("code", {}, name) },
           { label: "Meaning", value: ([name]) => POOLS[name] || "" },
           { label: "Initial value", value: ([, value]) => String(value), class: "num" }], pools, { className: "data compact" })));

  // a table of contents: the editor is long (buttons, not #anchors, which are the router's)
  const sections = [...form.querySelectorAll(":scope > fieldset.group, :scope > details.group")];
  form.prepend(h("nav", { class: "section-nav", "aria-label": "Configuration sections" },
    sections.map((section) => h("button", { type: "button", class: "small", onclick: () => {
      if (section.tagName === "DETAILS") section.open = true;
      section.scrollIntoView({ behavior: "smooth", block: "start" });
      section.querySelector("input, select, textarea, summary")?.focus({ preventScroll: true });
    } }, (section.querySelector(":scope > legend, :scope > summary")?.textContent || "").replace(/ \(.*/, "")))));
  const saveButton = h("button", { type: "submit", class: "primary" }, "Save configuration");
  form.append(summary, h("div", { class: "actions sticky-actions" }, saveButton,
    h("a", { class: "button", href: `#/simulations/${encodeURIComponent(simulation.id)}/run` }, "Next: run →")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(summary);
    const localErrors = [];
    let patch = {};
    for (const reader of readers) {
      let value;
      try { value = reader.read(); } catch (error) {
        localErrors.push({ field: reader.name, message: error.message });
        continue;
      }
      if (!same(value, reader.baseline)) patch = mergeDeep(patch, reader.patch(value, reader.baseline));
    }
    if (localErrors.length) {
      showFieldErrors(form, localErrors, summary);
      summary.append(problemBox({ title: "Some values are not valid", errors: localErrors }));
      return;
    }
    if (!Object.keys(patch).length) {
      toast("Nothing changed.", "info");
      return;
    }
    saveButton.disabled = true;
    try {
      await api.patch(simPath(simulation.id, "/config"), patch);
      toast("Configuration saved.", "success");
      await refresh();
      clear(el);
      await configStep(el, simulation, { signal, refresh });
    } catch (error) {
      const errors = error instanceof ApiError ? error.errors : [];
      showFieldErrors(form, errors, summary);
      summary.append(problemBox(error, { heading: "The configuration was not saved" }));
      summary.scrollIntoView({ block: "nearest" });
    } finally {
      saveButton.disabled = false;
    }
  });
  slot.append(form);
}

function mergeDeep(target, source) {
  const out = { ...target };
  for (const [key, value] of Object.entries(source)) {
    out[key] = value && typeof value === "object" && !Array.isArray(value) && out[key] && typeof out[key] === "object"
      ? mergeDeep(out[key], value) : value;
  }
  return out;
}

/** A JSON merge patch turning table `before` into `after` (removed rows become null). */
function tablePatch(before, after) {
  if (!Object.keys(after).length) return null;
  const patch = {};
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    if (same(value, before[key])) continue;
    if (value && typeof value === "object" && before[key] && typeof before[key] === "object") {
      patch[key] = { year: value.year, disturbance_type: value.disturbance_type, transition: value.transition ?? null };
    } else {
      patch[key] = value;
    }
  }
  return patch;
}

/** A per-layer table editor: rows of pixel value → classifier value, or → year, type, transition. */
function attributeEditor(layer, table0, typesListId) {
  const isDisturbance = layer.category === "disturbances";
  const body = h("tbody");
  const caption = `${layer.layer} (${isDisturbance ? "disturbance" : "classifier"} layer)`;
  const status = h("span", { class: layer.has_attributes ? "ok" : "missing" }, layer.has_attributes ? "✓ set" : "✗ missing");
  const listId = uid("values");
  const datalist = h("datalist", { id: listId });
  const addRow = (pixel = "", meaning = isDisturbance ? {} : "") => {
    const pixelInput = h("input", { type: "number", step: 1, value: String(pixel), class: "cell pixel", "aria-label": `${layer.layer}: pixel value` });
    const cells = [h("td", {}, pixelInput)];
    const inputs = { pixel: pixelInput };
    if (isDisturbance) {
      inputs.year = h("input", { type: "number", step: 1, value: meaning.year ?? "", class: "cell", "aria-label": `${layer.layer}: year` });
      inputs.type = h("input", { type: "text", value: meaning.disturbance_type ?? "", class: "cell wide",
                                 "aria-label": `${layer.layer}: disturbance type`, list: typesListId });
      inputs.transition = h("input", { type: "number", step: 1, value: meaning.transition ?? "", class: "cell", "aria-label": `${layer.layer}: transition` });
      cells.push(h("td", {}, inputs.year), h("td", {}, inputs.type), h("td", {}, inputs.transition));
    } else {
      inputs.value = h("input", { type: "text", value: meaning, class: "cell wide", list: listId, "aria-label": `${layer.layer}: classifier value` });
      cells.push(h("td", {}, inputs.value));
    }
    const row = h("tr", {}, cells, h("td", {}, h("button", { type: "button", class: "small", "aria-label": `Remove this ${layer.layer} row`,
      onclick: () => { row.remove(); refreshHint(); } }, "✕")));
    row.inputs = inputs;
    body.append(row);
    return row;
  };
  for (const [pixel, meaning] of Object.entries(table0).sort((a, b) => Number(a[0]) - Number(b[0]))) addRow(pixel, meaning);
  const headers = isDisturbance ? ["Pixel value", "Year", "Disturbance type", "Transition", ""] : ["Pixel value", "Classifier value", ""];
  const hint = h("p", { class: "field-hint" });
  const element = h("details", { class: "attribute-table", open: !layer.has_attributes, dataset: { field: `attributes.${layer.layer}`, layer: layer.layer } },
    h("summary", {}, h("code", {}, layer.layer), ` — ${isDisturbance ? "disturbance" : "classifier"} layer `, status),
    datalist,
    h("div", { class: "table-wrap" }, h("table", { class: "data compact", "aria-label": caption },
      h("thead", {}, h("tr", {}, headers.map((label) => h("th", { scope: "col" }, label)))), body)),
    hint,
    h("div", { class: "actions" }, h("button", { type: "button", class: "small", onclick: () => addRow().inputs.pixel.focus() }, "Add row")),
    h("p", { class: "field-error", "aria-live": "polite" }));
  const read = () => {
    const out = {};
    for (const row of body.querySelectorAll("tr")) {
      const { pixel, value, year, type, transition } = row.inputs;
      if (pixel.value === "") {
        const empty = isDisturbance ? !year.value && !type.value : !value.value;
        if (empty) continue;
        throw new Error("every row needs a pixel value");
      }
      if (!/^-?\d+$/.test(pixel.value)) throw new Error(`pixel value ${pixel.value} is not an integer`);
      if (pixel.value in out) throw new Error(`pixel value ${pixel.value} appears twice`);
      if (isDisturbance) {
        if (!year.value || !type.value) throw new Error(`pixel value ${pixel.value}: a year and a disturbance type are required`);
        out[pixel.value] = { year: Number(year.value), disturbance_type: type.value,
                             ...(transition.value !== "" ? { transition: Number(transition.value) } : {}) };
      } else {
        out[pixel.value] = value.value;
      }
    }
    return out;
  };
  let pixelValues = null; // the layer's values, once the service said
  function refreshHint() {
    if (!pixelValues) return;
    const present = new Set([...body.querySelectorAll("tr")].map((row) => row.inputs.pixel.value));
    const missing = pixelValues.filter((value) => !present.has(String(value)));
    clear(hint);
    hint.append(`Pixel values in this layer: ${pixelValues.join(", ") || "none"}. `);
    if (missing.length) {
      hint.append(h("button", { type: "button", class: "small", onclick: () => {
        for (const value of missing) addRow(value);
        refreshHint();
      } }, `Add rows for ${missing.length} value${missing.length === 1 ? "" : "s"} without a row`));
    }
  }
  body.addEventListener("change", refreshHint);
  const offer = (choices) => {
    for (const value of choices.classifiers[layer.layer] || []) datalist.append(h("option", { value }));
    pixelValues = choices.layers[layer.layer]?.pixel_values || null;
    refreshHint();
  };
  return { element, read, offer, layer: layer.layer };
}

// -- step 3: run --------------------------------------------------------------------------------------------

async function runStep(el, simulation, { signal, refresh }) {
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
