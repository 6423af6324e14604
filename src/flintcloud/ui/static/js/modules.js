// The Modules section of the Configure step: every module a GCBM run can use, as the API
// declares them (GET /simulations/{id}/modules: name, phase, what it does, whether it runs, the
// setting that switches it and its settings' JSON schema; gcbm/project/modules.py). An optional
// module has an on/off switch; a module with settings has its form, generated from its schema by
// the Configure step's controls. Nothing here names a module: a new one appears by itself.

import { h } from "./dom.js";

// Headings of the phases the API names.
const PHASES = { spinup: "Spinup (before the simulated years)", main: "The simulated years",
                 output: "What a run writes" };

const getIn = (source, path) => path.reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), source);

/**
 * The section: per phase, a card per module. `form` gives the Configure step's helpers:
 * control(name, spec, value, ctx), resolve(spec, components), addReader(path, read),
 * group(id, legend, hint, ...children) and its ctx.
 */
export function modulesSection(modules, config, form) {
  const switches = new Set(modules.map((module) => module.switch).filter(Boolean));
  const children = [];
  for (const phase of [...new Set(modules.map((module) => module.phase))]) {
    children.push(h("h3", { class: "module-phase" }, PHASES[phase] || phase));
    for (const module of modules.filter((item) => item.phase === phase)) children.push(moduleCard(module, config, form, switches));
  }
  return form.group("modules", "Modules", "The modules a run uses, in the order GCBM runs them. Switch the optional "
    + "ones on or off; each module's settings are below it.", ...children);
}

function moduleCard(module, config, form, switches) {
  const { control, resolve, addReader, ctx } = form;
  const schema = module.settings_schema;
  const local = { ...ctx, components: { ...ctx.components, ...(schema?.$defs || {}) } };
  const card = h("div", { class: "module-card", dataset: { module: module.name } },
    h("h4", {}, h("code", {}, module.name), module.optional ? null : h("span", { class: "badge" }, "always on")),
    h("p", { class: "field-hint" }, module.description));
  const body = h("div", { class: "module-settings" });
  if (module.optional) {
    const path = module.switch.split(".");
    const item = control(module.switch, { type: "boolean", title: `Use ${module.name}` },
      getIn(config, path) ?? module.enabled, local);
    addReader(path, item.read);
    card.append(item.element);
    const box = item.element.querySelector("input");
    body.hidden = !box.checked;
    box.addEventListener("change", () => { body.hidden = !box.checked; });
  }
  if (schema) {
    const key = module.settings_key;
    const properties = resolve(schema, local.components).properties || {};
    for (const [name, property] of Object.entries(properties)) {
      const path = `${key}.${name}`;
      if (switches.has(path)) continue; // a module's switch: on its own card
      const item = control(path, resolve(property, local.components), config[key]?.[name], local);
      addReader([key, name], item.read);
      body.append(item.element);
    }
  }
  if (body.childNodes.length) card.append(body);
  return card;
}
