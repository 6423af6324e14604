// The Configure step of a simulation: its settings (GET/PATCH /simulations/{id}/config) as one
// form. The settings' types, ranges, defaults and choices come from the API's JSON schema (the
// `GcbmSettings` model in /openapi.json); labels and explanations from descriptions.js; the
// indicators a run can write, with their units and descriptions, from GET …/config/indicators.
// Saving sends one JSON merge patch (RFC 7396) of what changed; every error the API returns, and
// every problem that still stops a run, is shown next to its field.

import { api, ApiError } from "./api.js";
import { POOLS, SETTINGS, VARIABLES } from "./descriptions.js";
import { clear, field, h, loading, problemBox, showFieldErrors, showProblem, table, toast, uid } from "./dom.js";
import { configFilesPanel } from "./configfiles.js";
import { isObject, mergePatch } from "./mergepatch.js";
import { modulesSection } from "./modules.js";

const simPath = (id, rest = "") => `simulations/${encodeURIComponent(id)}${rest}`;

// The form's sections: which settings each shows, in this order. The modules' section shows
// every module the API declares (GET …/modules) with its switch and settings (modules.js);
// settings the schema has and no section shows go to "Other settings" (so a new setting of the
// API appears without a change here).
const SECTIONS = [
  { id: "period", legend: "Simulation period", fields: ["start_year", "end_year"],
    hint: "Whole years. Left empty, the period spans the years of the disturbance events." },
  { id: "spatial_unit", legend: "Spatial unit", fields: ["admin_boundary", "eco_boundary"] },
  { id: "modules", modules: true },
  { id: "grid", legend: "Grid", fields: ["align"] },
];
// What each module does, as the API says (GET …/modules), for the project files' module tables.
let moduleDescriptions = {};
const NOT_EDITED = new Set(["database", "layers"]); // the database is uploaded; layers: their own section

// -- the API's field paths ----------------------------------------------------------------------------

/** The form's name (data-field) for a field the API names: `Classifier1.attributes['1']` (a
 * check of the inputs) and `layers.Classifier1.attributes.1` (of the settings) are the same
 * field; `attributes` of a raster is its layer's table; the former names are today's. */
export function formField(problem) {
  let name = String(problem.field || "")
    .replace(/\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\s*(\d+)\s*\]/g, (_, a, b, c) => `.${a ?? b ?? c}`);
  const former = { start_date: "start_year", end_date: "end_year", "start_year/end_year": "period",
                   "admin_boundary/eco_boundary": "spatial_unit", "variables.admin_boundary": "admin_boundary",
                   "variables.eco_boundary": "eco_boundary" };
  if (name in former) return former[name];
  if (name.startsWith("attributes.")) {
    const [, layer, ...rest] = name.split(".");
    return ["layers", layer, "attributes", ...rest].join(".");
  }
  if (name === "attributes" && problem.source && /\.tiff?$/i.test(problem.source)) {
    return `layers.${layerName(problem.source)}.attributes`;
  }
  const parts = name.split(".");
  if (parts.length > 1 && parts[0] !== "layers" && ["attributes", "year", "role"].includes(parts[1])) {
    return `layers.${name}`;
  }
  return name;
}

/** Whether a problem is fixed in the Configure step (else: in the Inputs step). */
export function isConfigProblem(problem) {
  const name = formField(problem);
  return /^(period|spatial_unit|start_year|end_year|admin_boundary|eco_boundary|align|spinup|growth|outputs)(\.|$)/.test(name)
    || /^layers\.[^.]+\.(attributes|year)(\.|$)/.test(name);
}

/** A raster's layer name: its file name without the extension and upstream's `_moja`. */
function layerName(file) {
  return file.replace(/\.tiff?$/i, "").replace(/_moja$/, "").replace(/[^A-Za-z0-9_\- ]/g, "_");
}

/** The year in a file name by the `*_YYYY*` rule (docs/gcbm-inputs.md §3), or null. */
function yearOfFile(file) {
  const years = [...file.replace(/\.tiff?$/i, "").matchAll(/_(\d{4})(?!\d)/g)];
  return years.length ? Number(years.at(-1)[1]) : null;
}

// -- the schema ---------------------------------------------------------------------------------------

let schemaRequest = null;

/** The settings' JSON schema: {root: GcbmSettings, components}, fetched once per page (not
 * cancelled with a view: the next view shares the request). */
function settingsSchema() {
  schemaRequest ||= api.get("openapi.json").then((document) => {
    const components = document.components?.schemas || {};
    if (!components.GcbmSettings) throw new ApiError({ title: "No settings schema", detail: "the API's OpenAPI document has no GcbmSettings schema" }, 0);
    return { root: components.GcbmSettings, components };
  });
  schemaRequest.catch(() => { schemaRequest = null; });
  return schemaRequest;
}

/** A property's schema with its $ref followed; `anyOf [X, null]` becomes X with nullable. */
function resolve(schema, components) {
  if (!schema) return {};
  const own = { title: schema.title, description: schema.description, default: schema.default };
  const keep = (value) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  if (schema.$ref) return { ...resolve(components[schema.$ref.split("/").pop()], components), ...keep(own) };
  if (Array.isArray(schema.anyOf)) {
    const others = schema.anyOf.filter((option) => option.type !== "null");
    const nullable = others.length < schema.anyOf.length;
    if (others.length === 1) return { ...resolve(others[0], components), ...keep(own), nullable };
    return { ...schema, nullable };
  }
  return schema;
}

// -- controls from the schema ---------------------------------------------------------------------

/** A read error of one field (before anything is sent). */
class FieldError extends Error {
  constructor(name, message) {
    super(message);
    this.field = name;
  }
}

const describe = (name, spec) => SETTINGS[name] || { label: spec.title || name, hint: spec.description };

/**
 * A control for setting `name` of schema `spec` showing `value` (the stored value, else the
 * schema's default). Returns {element, read}; read() gives the value to save: null for an
 * empty field (the setting is then removed: its default, or what the inputs imply), or throws
 * a FieldError.
 */
function control(name, spec, value, ctx) {
  const text = describe(name, spec);
  const shown = value ?? spec.default ?? null;
  if (spec.type === "boolean") {
    const input = h("input", { type: "checkbox", checked: Boolean(shown), id: uid("check") });
    const hintId = `${input.id}-hint`;
    const errorId = `${input.id}-error`;
    input.setAttribute("aria-describedby", `${hintId} ${errorId}`);
    return { read: () => input.checked, element: h("div", { class: "field checkbox-field", dataset: { field: name } },
      h("label", { for: input.id }, input, ` ${text.label}`),
      h("p", { class: "field-hint", id: hintId }, text.hint || ""),
      h("p", { class: "field-error", id: errorId, "aria-live": "polite" })) };
  }
  if (spec.type === "integer" || spec.type === "number") {
    const input = h("input", { type: "number", step: spec.type === "integer" ? 1 : "any", min: spec.minimum, max: spec.maximum,
                               value: shown ?? "", placeholder: text.placeholder || (spec.default != null ? `default ${spec.default}` : ""),
                               inputmode: "numeric" });
    const read = () => {
      if (input.value.trim() === "") return null;
      const number = Number(input.value);
      if (!Number.isFinite(number)) throw new FieldError(name, "must be a number");
      if (spec.type === "integer" && !Number.isInteger(number)) throw new FieldError(name, "must be a whole number");
      return number;
    };
    return { read, input, element: field(text.label, input, { name, hint: rangeHint(text.hint, spec) }) };
  }
  if (spec.type === "string" && Array.isArray(spec.enum)) {
    const select = h("select", {},
      spec.nullable || spec.default != null ? h("option", { value: "" }, text.empty || `Default${spec.default != null ? ` (${spec.default})` : ""}`) : null,
      spec.enum.map((option) => h("option", { value: option, selected: option === value }, text.options?.[option] || option)));
    return { read: () => select.value || null, element: field(text.label, select, { name, hint: text.hint }) };
  }
  if (spec.type === "string") {
    const input = h("input", { type: "text", value: shown ?? "", placeholder: text.placeholder || "", autocomplete: "off",
                               list: text.list ? ctx.lists[text.list] : undefined });
    return { read: () => input.value.trim() || null, input, element: field(text.label, input, { name, hint: text.hint }) };
  }
  if (spec.type === "array") {
    const items = resolve(spec.items, ctx.components);
    const choices = ctx.choices[name] || items.enum;
    if (items.type === "string" && choices) return choiceList(name, spec, value, text, ctx, choices);
    if (items.type === "string") return lineList(name, spec, value, text);
    if (items.type === "object" && items.properties) return objectList(name, spec, items, value, text, ctx);
  }
  if (spec.type === "object" && spec.properties) return objectControl(name, spec, value, text, ctx);
  // anything else: as JSON
  const area = h("textarea", { rows: 4, spellcheck: "false", class: "json" }, value == null ? "" : JSON.stringify(value, null, 2));
  return { element: field(`${text.label} (JSON)`, area, { name, hint: text.hint }), read: () => {
    if (!area.value.trim()) return null;
    try { return JSON.parse(area.value); } catch (error) { throw new FieldError(name, `not valid JSON: ${error.message}`); }
  } };
}

const rangeHint = (hint, spec) => {
  const range = spec.minimum != null && spec.maximum != null ? `${spec.minimum} to ${spec.maximum}` : "";
  return [hint, range && !(spec.maximum >= 9998) ? `(${range})` : ""].filter(Boolean).join(" ") || undefined;
};

/** A list of strings from known choices (the indicators, or the schema's enumeration: pools)
 * as checkboxes, each with its title (ctx.titles). For the API's lists of choices (ctx.choices)
 * all ticked reads as null when the setting may be null (all of them, whatever GCBM's list
 * becomes); for an enumeration null is none. */
function choiceList(name, spec, value, text, ctx, known) {
  const choices = [...known];
  for (const item of value || []) if (!choices.includes(item)) choices.push(item);
  const allMeansNull = spec.nullable && Boolean(ctx.choices[name]);
  const chosen = new Set(value ?? (allMeansNull ? choices : []));
  const legendId = uid("legend");
  const boxes = choices.map((item) => h("input", { type: "checkbox", value: item, checked: chosen.has(item) }));
  const errorSlot = h("p", { class: "field-error", id: uid("error"), "aria-live": "polite" });
  const hintSlot = h("p", { class: "field-hint", id: uid("hint") }, text.hint || "");
  const setAll = (checked) => { for (const box of boxes) box.checked = checked; };
  const element = h("fieldset", { class: "choice-list", dataset: { field: name }, "aria-describedby": `${hintSlot.id} ${errorSlot.id}` },
    h("legend", { id: legendId }, text.label), hintSlot,
    h("div", { class: "actions compact-actions" },
      h("button", { type: "button", class: "small", onclick: () => setAll(true) }, "All"),
      h("button", { type: "button", class: "small", onclick: () => setAll(false) }, "None")),
    h("div", { class: "checkbox-grid" }, boxes.map((box, index) => h("label", { title: ctx.titles[name]?.[choices[index]] || "" },
      box, " ", h("code", {}, choices[index])))),
    errorSlot);
  const read = () => {
    const checked = boxes.filter((box) => box.checked).map((box) => box.value);
    return allMeansNull && checked.length === choices.length && choices.every((item) => known.includes(item))
      ? null : checked;
  };
  return { element, read };
}

/** An ordered list of free strings (disturbance type names): one a line. */
function lineList(name, spec, value, text) {
  const area = h("textarea", { rows: 3, spellcheck: "false", class: "lines" }, (value || []).join("\n"));
  const read = () => {
    const lines = area.value.split("\n").map((line) => line.trim()).filter(Boolean);
    return !lines.length && spec.nullable ? null : lines;
  };
  return { read, element: field(`${text.label} (one a line)`, area, { name, hint: text.hint }) };
}

/** A list of objects (output items, growth multipliers, flux groups): a card each, with the
 * controls of the item's schema, added and removed by buttons. A card's name is its position
 * when the form was made (`outputs.items.0`), as the API names a problem's field. */
function objectList(name, spec, itemSpec, value, text, ctx) {
  const rows = h("div", { class: "object-list-rows" });
  const entries = [];
  const noun = (itemSpec.title || "item").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  const add = (item) => {
    const rowName = `${name}.${entries.length}`;
    const inner = Object.entries(itemSpec.properties).map(([key, property]) => {
      const propertySpec = resolve(property, ctx.components);
      return [key, propertySpec, control(`${rowName}.${key}`, propertySpec, item?.[key], ctx)];
    });
    const entry = { removed: false };
    const card = h("fieldset", { class: "object-row", dataset: { field: rowName } },
      h("legend", {}, `${noun} ${entries.length + 1}`),
      h("div", { class: "row wrap" }, inner.map(([, , control_]) => control_.element)),
      h("button", { type: "button", class: "small", onclick: () => { entry.removed = true; card.remove(); } }, `Remove this ${noun}`),
      h("p", { class: "field-error", "aria-live": "polite" }));
    // what is left empty is left out: the API's default applies (an empty optional list too)
    entry.read = () => Object.fromEntries(inner.map(([key, propertySpec, control_]) => [key, control_.read(), propertySpec])
      .filter(([, read, propertySpec]) => read !== null && !(propertySpec.nullable && Array.isArray(read) && !read.length))
      .map(([key, read]) => [key, read]));
    entries.push(entry);
    rows.append(card);
  };
  for (const item of value || []) add(item);
  const hintSlot = h("p", { class: "field-hint", id: uid("hint") }, text.hint || "");
  const element = h("fieldset", { class: "object-list", dataset: { field: name }, "aria-describedby": hintSlot.id },
    h("legend", {}, text.label), hintSlot, rows,
    h("button", { type: "button", class: "small", onclick: () => add(null) }, `Add ${noun}`),
    h("p", { class: "field-error", "aria-live": "polite" }));
  const read = () => {
    const list = entries.filter((entry) => !entry.removed).map((entry) => entry.read());
    return !list.length && spec.nullable ? null : list;
  };
  return { element, read };
}

/** An object setting (spinup parameters): a nullable one is switched on or off as a whole. */
function objectControl(name, spec, value, text, ctx) {
  const inner = Object.entries(spec.properties).map(([key, property]) =>
    [key, control(`${name}.${key}`, resolve(property, ctx.components), value?.[key], ctx)]);
  const body = h("div", { class: "row wrap" }, inner.map(([, item]) => item.element));
  if (!spec.nullable) {
    return { element: h("div", { dataset: { field: name } }, body, h("p", { class: "field-error", "aria-live": "polite" })),
             read: () => Object.fromEntries(inner.map(([key, item]) => [key, item.read()])) };
  }
  const toggle = control(name, { type: "boolean" }, value != null, ctx); // holds the object's errors
  const box = toggle.element.querySelector("input");
  body.hidden = !box.checked;
  box.addEventListener("change", () => { body.hidden = !box.checked; });
  return { element: h("div", { class: "subgroup" }, toggle.element, body),
           read: () => (box.checked ? Object.fromEntries(inner.map(([key, item]) => [key, item.read()])) : null) };
}

// -- merge patches ------------------------------------------------------------------------------------

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
export { mergePatch }; // (tests import it from here)

function setIn(target, path, value) {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ||= {});
  node[path.at(-1)] = value;
}

const getIn = (source, path) => path.reduce((node, key) => (isObject(node) ? node[key] : undefined), source);

// -- the step -----------------------------------------------------------------------------------------

export async function configStep(el, simulation, { signal, refresh }) {
  const slot = h("div", {}, loading("Loading the configuration…"));
  el.append(slot);
  const get = (rest) => api.get(simPath(simulation.id, rest), { signal });
  let config;
  let inputs;
  let schema;
  let indicators;
  let modules;
  try {
    // the indicators a run can write: their names, units and descriptions (one list, the API's);
    // the modules a run can use, with their settings' schemas (the API's declaration)
    [config, inputs, schema, { indicators }, { modules }] = await Promise.all([get("/config"), get("/inputs"),
      settingsSchema(), get("/config/indicators"), get("/modules")]);
    moduleDescriptions = Object.fromEntries(modules.map((module) => [module.name, module.description]));
  } catch (error) {
    showProblem(slot, error);
    return;
  }
  clear(slot);
  const { root, components } = schema;
  const ctx = {
    components,
    choices: { "outputs.geotiff_indicators": indicators.map((item) => item.name) },
    titles: { "outputs.geotiff_indicators": Object.fromEntries(indicators.map((item) =>
      [item.name, item.description ? `${item.description} (${item.unit})` : item.unit])) },
    lists: { disturbance_types: uid("disturbance-types"), admin_boundary: uid("admins"), eco_boundary: uid("ecos") },
  };
  const readers = []; // {path, read, baseline}: what the form edits, and how it was shown
  const addReader = (path, read) => {
    let baseline;
    try { baseline = read(); } catch { baseline = undefined; } // a stored value the form cannot show as it is
    readers.push({ path, read, baseline });
  };
  const form = h("form", { class: "config-form", novalidate: true, "aria-label": "Configuration" });
  const summary = h("div", { class: "config-problems" });
  const lists = h("div", { hidden: true }, Object.entries(ctx.lists).map(([, id]) => h("datalist", { id })));
  form.append(lists);

  const group = (id, legend, hint, ...children) => {
    const error = h("p", { class: "field-error", id: uid("error"), "aria-live": "polite" });
    const hintNode = hint ? h("p", { class: "field-hint", id: uid("hint") }, hint) : null;
    return h("fieldset", { class: "group", dataset: { field: id }, "aria-describedby": [hintNode?.id, error.id].filter(Boolean).join(" ") },
      h("legend", {}, legend), hintNode, ...children, error);
  };
  const properties = root.properties || {};
  const shownKeys = new Set(NOT_EDITED);
  const sectionOf = (section) => {
    if (section.modules) {
      for (const module of modules) if (module.settings_key) shownKeys.add(module.settings_key);
      return modulesSection(modules, config, { control, resolve, addReader, group, ctx });
    }
    if (section.object) {
      shownKeys.add(section.object);
      const spec = resolve(properties[section.object], components);
      if (!spec.properties) return null;
      const stored = config[section.object] || {};
      const children = [];
      for (const [key, property] of Object.entries(spec.properties)) {
        const item = control(`${section.object}.${key}`, resolve(property, components), stored[key], ctx);
        addReader([section.object, key], item.read);
        // consecutive plain fields side by side; checkboxes and subgroups on their own line
        const plain = item.element.classList.contains("field") && !item.element.classList.contains("checkbox-field");
        if (plain && children.at(-1)?.classList.contains("row")) children.at(-1).append(item.element);
        else children.push(plain ? h("div", { class: "row wrap" }, item.element) : item.element);
      }
      return group(section.id, section.legend, section.hint, ...children);
    }
    const fields = section.fields.filter((key) => key in properties);
    if (!fields.length) return null;
    for (const key of fields) shownKeys.add(key);
    const controls = fields.map((key) => {
      const item = control(key, resolve(properties[key], components), config[key], ctx);
      if (ctx.lists[key]) item.input?.setAttribute("list", ctx.lists[key]);
      addReader([key], item.read);
      return item;
    });
    return group(section.id, section.legend, section.hint, h("div", { class: "row" }, controls.map((item) => item.element)));
  };
  for (const section of SECTIONS) {
    const element = sectionOf(section);
    if (element) form.append(element);
  }
  const others = Object.keys(properties).filter((key) => !shownKeys.has(key));
  if (others.length) {
    form.append(group("other", "Other settings", null, h("div", { class: "row wrap" }, others.map((key) => {
      const item = control(key, resolve(properties[key], components), config[key], ctx);
      addReader([key], item.read);
      return item.element;
    }))));
  }

  // layers: an attribute table per classifier, disturbance and spatial-unit layer (a miscellaneous
  // raster whose role needs one, as the API says), a year per disturbance layer
  const layers = [...(inputs.classifiers || []).map((item) => ({ ...item, category: "classifiers" })),
                  ...(inputs.disturbances || []).map((item) => ({ ...item, category: "disturbances" })),
                  ...(inputs.miscellaneous || []).filter((item) => item.needs_attributes)
                    .map((item) => ({ ...item, category: "miscellaneous" }))];
  const layerGroup = group("layers", "Layers", "A raster holds numbers: say what each pixel value of a classifier layer "
    + "(a classifier value) or of a disturbance layer (a disturbance event) means.");
  const layerError = layerGroup.querySelector(":scope > .field-error");
  if (!layers.length) layerError.before(h("p", { class: "empty" }, "Upload classifier or disturbance layers first (Inputs step)."));
  const editors = [];
  for (const [category, heading] of [["classifiers", "Classifier layers"], ["disturbances", "Disturbance layers"],
    ["miscellaneous", "Spatial-unit layers (pixel value → boundary name)"]]) {
    const ofCategory = layers.filter((layer) => layer.category === category);
    if (!ofCategory.length) continue;
    layerError.before(h("h3", { class: "layer-heading" }, heading));
    for (const layer of ofCategory) {
      const entry = config.layers?.[layer.layer] || {};
      const editor = attributeEditor(layer, entry, ctx);
      editors.push(editor);
      layerError.before(editor.element);
      addReader(["layers", layer.layer, "attributes"], editor.read);
      if (editor.readYear) addReader(["layers", layer.layer, "year"], editor.readYear);
    }
  }
  form.append(layerGroup);
  get("/attributes/choices").then((choices) => {
    for (const editor of editors) editor.offer(choices);
    const fill = (id, values) => {
      const list = document.getElementById(id);
      if (list) { clear(list); list.append(...values.map((value) => h("option", { value }))); }
    };
    fill(ctx.lists.disturbance_types, choices.disturbance_types || []);
    const units = choices.spatial_units || [];
    fill(ctx.lists.admin_boundary, [...new Set(units.map((unit) => unit.admin_boundary))]);
    const admin = form.querySelector("[data-field=admin_boundary] input");
    const ecos = () => fill(ctx.lists.eco_boundary, [...new Set(units.filter((unit) => !admin?.value || unit.admin_boundary === admin.value)
      .map((unit) => unit.eco_boundary))]);
    admin?.addEventListener("input", ecos);
    ecos();
  }).catch(() => { /* suggestions only */ });

  form.append(configFilesPanel(simulation, { signal, refresh, summarise: renderProjectFile }));

  // a table of contents: the form is long (buttons, not #anchors, which are the router's)
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

  // what still stops a run, next to the fields that fix it
  const problems = simulation.problems.filter(isConfigProblem);
  showFieldErrors(form, problems.map((problem) => ({ ...problem, field: formField(problem) })));
  if (problems.length) {
    const one = problems.length === 1;
    form.querySelector(".section-nav").after(h("p", { class: "notice readiness-note", role: "status" },
      `${problems.length} problem${one ? "" : "s"} of the configuration still stop${one ? "s" : ""} a run; `
      + `${one ? "it is" : "they are"} shown next to ${one ? "its field" : "their fields"}. `,
      h("button", { type: "button", class: "small", onclick: () => {
        const first = form.querySelector(".field-error:not(:empty)");
        first?.scrollIntoView({ behavior: "smooth", block: "center" });
        (first?.parentElement.querySelector("[aria-invalid=true]") || form.querySelector("[aria-invalid=true]"))?.focus({ preventScroll: true });
      } }, one ? "Show it" : "Show the first")));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(summary);
    const localErrors = [];
    const patch = {};
    for (const reader of readers) {
      let value;
      try { value = reader.read(); } catch (error) {
        localErrors.push({ field: error.field || reader.path.join("."), message: error.message });
        continue;
      }
      if (!same(value, reader.baseline)) setIn(patch, reader.path, mergePatch(getIn(config, reader.path), value));
    }
    if (localErrors.length) {
      showFieldErrors(form, localErrors);
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
      const updated = await refresh();
      toast(updated.ready ? "Configuration saved." : "Configuration saved. Something still stops a run.", "success");
      clear(el);
      await configStep(el, updated, { signal, refresh });
    } catch (error) {
      const errors = error instanceof ApiError ? error.errors : [];
      showFieldErrors(form, errors.map((item) => ({ ...item, field: formField(item) })));
      summary.append(problemBox(error, { heading: "The configuration was not saved" }));
      summary.scrollIntoView({ block: "nearest" });
    } finally {
      saveButton.disabled = false;
    }
  });
  slot.append(form);
}

// -- attribute tables -----------------------------------------------------------------------------------

/**
 * The editor of a layer's attribute table: rows of pixel value → classifier value, or → event
 * (year, disturbance type, transition; several rows with one pixel value are several events),
 * and a disturbance layer's default year. read() gives the table (null when empty), readYear()
 * the year.
 */
function attributeEditor(layer, entry, ctx) {
  const isDisturbance = layer.category === "disturbances";
  const kind = isDisturbance ? "disturbance" : layer.category === "miscellaneous" ? layer.role : "classifier";
  const valueLabel = layer.category === "miscellaneous" ? "Boundary name" : "Classifier value";
  const name = layer.layer;
  const fieldName = `layers.${name}`;
  const table0 = isObject(entry.attributes) ? entry.attributes : {};
  const body = h("tbody");
  const status = h("span", { class: layer.has_attributes ? "ok" : "missing" }, layer.has_attributes ? "✓ set" : "✗ missing");
  const valuesListId = uid("values");
  const fileYear = isDisturbance ? yearOfFile(layer.name) : null;
  let yearInput = null;
  const defaultYear = () => (yearInput?.value || fileYear || "");
  const addRow = (pixel = "", meaning = isDisturbance ? {} : "") => {
    const pixelInput = h("input", { type: "number", step: 1, value: String(pixel), class: "cell pixel", "aria-label": `${name}: pixel value` });
    const cells = [h("td", {}, pixelInput)];
    const inputs = { pixel: pixelInput };
    const row = h("tr", { dataset: { field: `${fieldName}.attributes.${pixel}` } });
    if (isDisturbance) {
      const event = typeof meaning === "string" ? { disturbance_type: meaning } : meaning || {};
      const { year, disturbance_type: type, transition, ...extra } = event;
      row.extra = extra; // other keys of the event (its metadata) are kept as they are
      row.shorthand = typeof meaning === "string";
      inputs.year = h("input", { type: "number", step: 1, value: year ?? "", class: "cell", placeholder: String(defaultYear()),
                                 "aria-label": `${name}: year`, dataset: { key: "year" } });
      inputs.type = h("input", { type: "text", value: type ?? "", class: "cell wide", list: ctx.lists.disturbance_types,
                                 "aria-label": `${name}: disturbance type`, dataset: { key: "disturbance_type", main: "" } });
      inputs.transition = h("input", { type: "number", step: 1, value: transition ?? "", class: "cell",
                                       "aria-label": `${name}: transition`, dataset: { key: "transition" } });
      cells.push(h("td", {}, inputs.year), h("td", {}, inputs.type), h("td", {}, inputs.transition));
    } else {
      inputs.value = h("input", { type: "text", value: meaning, class: "cell wide", list: valuesListId,
                                  "aria-label": `${name}: ${valueLabel.toLowerCase()}`, dataset: { key: "classifier_value", main: "" } });
      cells.push(h("td", {}, inputs.value));
    }
    pixelInput.addEventListener("change", () => { row.dataset.field = `${fieldName}.attributes.${pixelInput.value}`; });
    row.append(...cells, h("td", {}, h("button", { type: "button", class: "small", "aria-label": `Remove this ${name} row`,
      onclick: () => { row.remove(); refreshHint(); } }, "✕")));
    row.inputs = inputs;
    body.append(row);
    return row;
  };
  for (const [pixel, meaning] of Object.entries(table0).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    for (const item of Array.isArray(meaning) ? meaning : [meaning]) addRow(pixel, item);
  }
  const headers = isDisturbance ? ["Pixel value", "Year", "Disturbance type", "Transition", ""] : ["Pixel value", valueLabel, ""];
  const hint = h("p", { class: "field-hint" });
  const tableError = h("p", { class: "field-error", "aria-live": "polite" });
  const layerError = h("p", { class: "field-error", "aria-live": "polite" });
  let readYear;
  let yearField = null;
  if (isDisturbance) {
    yearInput = h("input", { type: "number", step: 1, min: 1, max: 9999, value: entry.year ?? "",
                             placeholder: fileYear ? `${fileYear} (from the file name)` : "" });
    yearInput.addEventListener("input", () => {
      for (const row of body.querySelectorAll("tr")) row.inputs.year.placeholder = String(defaultYear());
    });
    yearField = field(SETTINGS["layers.year"].label, yearInput, { name: `${fieldName}.year`, hint: SETTINGS["layers.year"].hint });
    yearField.classList.add("layer-year");
    readYear = () => {
      if (yearInput.value.trim() === "") return null;
      if (!/^\d+$/.test(yearInput.value.trim())) throw new FieldError(`${fieldName}.year`, "must be a whole number");
      return Number(yearInput.value);
    };
  }
  const tableNote = typeof entry.attributes === "string"
    ? h("p", { class: "field-hint" }, `The table comes from ${entry.attributes}; rows entered here replace it.`) : null;
  const element = h("details", { class: "attribute-table", open: !layer.has_attributes, dataset: { field: fieldName, layer: name } },
    h("summary", {}, h("code", {}, name), ` — ${kind} layer `, status),
    h("datalist", { id: valuesListId }),
    yearField, tableNote,
    h("div", { class: "attribute-rows", dataset: { field: `${fieldName}.attributes` } },
      h("div", { class: "table-wrap" }, h("table", { class: "data compact", "aria-label": `${name} (${kind} layer)` },
        h("thead", {}, h("tr", {}, headers.map((label) => h("th", { scope: "col" }, label)))), body)),
      hint,
      h("div", { class: "actions" }, h("button", { type: "button", class: "small", onclick: () => addRow().inputs.pixel.focus() }, "Add row")),
      tableError),
    layerError);
  const read = () => {
    const out = {};
    for (const row of body.querySelectorAll("tr")) {
      const { pixel, value, year, type, transition } = row.inputs;
      const where = `${fieldName}.attributes`;
      if (pixel.value === "") {
        const empty = isDisturbance ? !year.value && !type.value && !transition.value : !value.value.trim();
        if (empty) continue;
        throw new FieldError(where, "every row needs a pixel value");
      }
      if (!/^-?\d+$/.test(pixel.value)) throw new FieldError(where, `pixel value ${pixel.value} is not a whole number`);
      if (isDisturbance) {
        if (!type.value.trim()) throw new FieldError(where, `pixel value ${pixel.value}: a disturbance type is required`);
        for (const [input, label] of [[year, "year"], [transition, "transition"]]) {
          if (input.value !== "" && !/^-?\d+$/.test(input.value)) throw new FieldError(where, `pixel value ${pixel.value}: the ${label} is not a whole number`);
        }
        const event = row.shorthand && year.value === "" && transition.value === "" && !Object.keys(row.extra).length
          ? type.value.trim()
          : { ...(year.value !== "" ? { year: Number(year.value) } : {}), disturbance_type: type.value.trim(),
              ...(transition.value !== "" ? { transition: Number(transition.value) } : {}), ...row.extra };
        out[pixel.value] = pixel.value in out ? [out[pixel.value], event].flat() : event;
      } else {
        if (pixel.value in out) throw new FieldError(where, `pixel value ${pixel.value} appears twice`);
        out[pixel.value] = value.value.trim();
      }
    }
    return Object.keys(out).length ? out : (typeof entry.attributes === "string" ? entry.attributes : null);
  };
  let pixelValues = null; // the layer's values, once the service said
  function refreshHint() {
    if (!pixelValues) return;
    const present = new Set([...body.querySelectorAll("tr")].map((row) => row.inputs.pixel.value));
    const missing = pixelValues.filter((value) => !present.has(String(value)));
    clear(hint);
    hint.append(`Pixel values in this layer: ${pixelValues.join(", ") || "none"}. `);
    if (isDisturbance) hint.append("Several rows with one pixel value are several events. ");
    if (missing.length) {
      hint.append(h("button", { type: "button", class: "small", onclick: () => {
        for (const value of missing) addRow(value);
        refreshHint();
      } }, `Add rows for ${missing.length} value${missing.length === 1 ? "" : "s"} without a row`));
    }
  }
  body.addEventListener("change", refreshHint);
  const offer = (choices) => {
    const datalist = element.querySelector(`#${CSS.escape(valuesListId)}`);
    for (const value of choices.classifiers?.[name] || choices.boundaries?.[name] || []) datalist.append(h("option", { value }));
    pixelValues = choices.layers?.[name]?.pixel_values || null;
    refreshHint();
  };
  return { element, read, readYear, offer };
}

// -- the generated files, summarised (configfiles.js edits them) ---------------------------------------

function renderProjectFile(name, document) {
  const json = h("details", {}, h("summary", {}, "JSON"), h("pre", { class: "json-view" }, JSON.stringify(document, null, 2)));
  if (name.startsWith("modules_")) {
    const modules = Object.entries(document.Modules || {}).sort(([, a], [, b]) => (a.order ?? 0) - (b.order ?? 0));
    return h("div", {}, table([
      { label: "Module", value: ([moduleName]) => h("code", {}, moduleName) },
      { label: "Order", value: ([, module]) => String(module.order ?? ""), class: "num" },
      { label: "Enabled", value: ([, module]) => (module.enabled === false ? "no" : "yes") },
      { label: "What it does", value: ([moduleName]) => moduleDescriptions[moduleName] || "" },
    ], modules, { className: "data compact" }), json);
  }
  if (name === "pools_cbm") {
    return h("div", {}, table([
      { label: "Pool", value: ([pool]) => h("code", {}, pool) },
      { label: "What it holds", value: ([pool]) => POOLS[pool] || "" },
      { label: "Initial value", value: ([, value]) => String(value), class: "num" },
    ], Object.entries(document.Pools || {}), { className: "data compact" }), json);
  }
  if (name === "variables") {
    const constants = Object.entries(document.Variables || {}).filter(([, value]) => value === null || typeof value !== "object");
    return h("div", {}, table([
      { label: "Variable", value: ([variable]) => h("code", {}, variable) },
      { label: "Value", value: ([, value]) => String(value) },
      { label: "Meaning", value: ([variable]) => VARIABLES[variable] || "" },
    ], constants, { className: "data compact", caption: "Constants (the others are layers and database queries)" }), json);
  }
  json.open = true;
  return json;
}
