// The project's GCBM files in the Configure step: each configuration file (localdomain.json,
// variables.json, modules_cbm.json, …) in a JSON editor, saved as a JSON merge patch (PATCH
// /simulations/{id}/config/files/{name}; a replacement, PUT, only when a patch cannot say it),
// reset to the file the inputs make (DELETE). The API checks the edited project as an uploaded
// one: its problems are listed with their file and JSON path. The files' names, and whether
// each was edited, come from GET …/config/files.

import { api, request } from "./api.js";
import { clear, field, h, loading, problemBox, showProblem, toast } from "./dom.js";
import { jsonEditor } from "./jsoneditor.js";
import { applyMergePatch, mergePatch } from "./mergepatch.js";

const filesPath = (id, name = "") => `simulations/${encodeURIComponent(id)}/config/files${name ? `/${encodeURIComponent(name)}` : ""}`;
const SUMMARISED = /^(modules_.*|pools_cbm|variables)$/; // files with a table view besides the JSON
const EDIT_WORDS = { patch: "edited (patch)", replace: "replaced", null: "as generated" };

/** Whether a problem that stops a run is an edit of a GCBM file that no longer applies (the API
 * hints at editing or resetting it there). */
export const isFileEditProblem = (problem) => /\/config\/files\//.test(problem.hint || "");

/**
 * The panel. `summarise(stem, document)`: an optional read-only view of a file (module and pool
 * tables); `refresh()`: re-reads the simulation (its readiness) after a save or a reset.
 */
export function configFilesPanel(simulation, { signal, refresh, summarise }) {
  const details = h("details", { class: "group project-files", id: "project-files" },
    h("summary", {}, "GCBM files (edit any configuration file)"));
  const body = h("div", {}, loading());
  details.append(h("p", { class: "field-hint" }, "The configuration a run gets, made from the inputs and "
    + "the settings above. An edit is checked as an uploaded project is, kept when the inputs change "
    + "(applied again to the files they make) until you reset it; each run's manifest.json records the "
    + "files it ran with."), body);
  let loaded = false;
  details.addEventListener("toggle", () => {
    if (details.open && !loaded) {
      loaded = true;
      draw();
    }
  });
  details.open = (simulation.problems || []).some(isFileEditProblem); // to be fixed here

  async function draw(selected) {
    clear(body).append(loading());
    let listing;
    try {
      listing = await api.get(filesPath(simulation.id), { signal });
    } catch (error) {
      clear(body);
      if (error.status === 422) {
        body.append(h("p", { class: "empty" }, "The GCBM project is made when nothing else stops a run; "
          + "its files can be edited then."));
      } else showProblem(body, error);
      return;
    }
    clear(body);
    if (listing.problems.length) {
      body.append(problemBox({ title: "An edit no longer applies to the files the inputs make",
                               detail: "Edit the file again or reset it.", errors: listing.problems }));
    }
    const select = h("select", { name: "config-file" }, listing.files.map((file) =>
      h("option", { value: file.name, selected: file.name === selected },
        `${file.name}${file.editable ? "" : " (read only)"}${file.edit ? ` — ${EDIT_WORDS[file.edit]}` : ""}`)));
    const view = h("div", { class: "project-file" });
    select.addEventListener("change", () => show(listing.files.find((file) => file.name === select.value), view));
    body.append(field("File", select, {}), view);
    await show(listing.files.find((file) => file.name === select.value) || listing.files[0], view);
  }

  async function show(file, view) {
    clear(view).append(loading());
    let document;
    try {
      document = await api.get(filesPath(simulation.id, file.name), { signal });
    } catch (error) {
      clear(view);
      showProblem(view, error);
      return;
    }
    clear(view);
    const stem = file.name.replace(/\.json$/, "");
    if (!file.editable) {
      view.append(summarise ? summarise(stem, document) : h("pre", { class: "json-view" }, JSON.stringify(document, null, 2)));
      return;
    }
    const editor = jsonEditor({ value: document, label: `${file.name} (JSON)` });
    const state = h("p", { class: "muted file-edit-state" }, `This file is ${EDIT_WORDS[file.edit]}.`);
    const outcome = h("div", { class: "file-outcome", "aria-live": "polite" });
    const save = h("button", { type: "button", class: "primary", "data-action": "save-file" }, "Save file");
    const reset = h("button", { type: "button", "data-action": "reset-file", disabled: !file.edit }, "Reset to the generated file");
    save.addEventListener("click", async () => {
      clear(outcome);
      let edited;
      try { edited = editor.read(); } catch (error) {
        outcome.append(problemBox({ title: "Not saved", detail: error.message }));
        return;
      }
      let patch = mergePatch(document, edited);
      if (JSON.stringify(applyMergePatch(document, patch)) !== JSON.stringify(edited)) patch = null; // a null set
      if (patch && !Object.keys(patch).length) { toast("Nothing changed.", "info"); return; }
      save.disabled = true;
      try {
        // a merge patch keeps the edit small, and applies again when the inputs change
        await (patch ? request(filesPath(simulation.id, file.name), { method: "PATCH", signal, body: JSON.stringify(patch),
                                                                       headers: { "Content-Type": "application/merge-patch+json" } })
          : request(filesPath(simulation.id, file.name), { method: "PUT", signal, json: edited }));
        toast(`${file.name} saved.`, "success");
        await refresh?.();
        await draw(file.name);
      } catch (error) {
        editor.showProblems(error.errors || []);
        outcome.append(problemBox({ title: `${file.name} was not saved`, detail: error.errors?.length
          ? "Nothing was changed: the problems are listed under the file, each with its JSON path." : error.detail }));
      } finally {
        save.disabled = false;
      }
    });
    reset.addEventListener("click", async () => {
      clear(outcome);
      try {
        await api.del(filesPath(simulation.id, file.name), { signal });
        toast(`${file.name} reset.`, "info");
        await refresh?.();
        await draw(file.name);
      } catch (error) { showProblem(outcome, error); }
    });
    view.append(state, editor.element, h("div", { class: "actions" }, save, reset), outcome,
      summarise && SUMMARISED.test(stem)
        ? h("details", { class: "file-summary" }, h("summary", {}, "Summary"), summarise(stem, document)) : null);
  }
  return details;
}
