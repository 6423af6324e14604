// A JSON editor without a build step or a CDN: a textarea with line numbers, checked as you
// type (a syntax error is shown with its line and column), and a list for the problems the API
// finds (each with its file and JSON path). Used for a simulation's GCBM files (configfiles.js)
// and the Point and RothC configurations (examples.js).

import { clear, h, uid } from "./dom.js";

/** Where a JSON.parse error is: {line, column} (1-based) from the message's position, if any. */
export function syntaxErrorPosition(text, error) {
  const lineColumn = /line (\d+) column (\d+)/.exec(error.message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /position (\d+)/.exec(error.message);
  if (!position) return null;
  const before = text.slice(0, Number(position[1])).split("\n");
  return { line: before.length, column: before.at(-1).length + 1 };
}

/**
 * An editor of one JSON document. `value`: the document shown; `label`: its accessible name;
 * `onChange(document | undefined)`: called as the text changes (undefined while it is not valid
 * JSON). Returns {element, read, set, showProblems}: read() gives the document or throws a
 * SyntaxError naming line and column; showProblems(list) shows the API's problems.
 */
export function jsonEditor({ value, label, onChange = () => {}, rows = 18 }) {
  const id = uid("json");
  const gutter = h("pre", { class: "json-gutter", "aria-hidden": "true" });
  const area = h("textarea", { id, class: "json-text", rows, spellcheck: "false", wrap: "off",
                               autocomplete: "off", autocapitalize: "off", "aria-label": label,
                               "aria-describedby": `${id}-status ${id}-problems` });
  const status = h("p", { class: "json-status", id: `${id}-status`, "aria-live": "polite" });
  const problems = h("ul", { class: "json-problems", id: `${id}-problems` });
  const numberLines = () => {
    const count = area.value.split("\n").length;
    gutter.textContent = Array.from({ length: count }, (_, i) => String(i + 1)).join("\n");
  };
  const parse = () => {
    try {
      return JSON.parse(area.value);
    } catch (error) {
      const where = syntaxErrorPosition(area.value, error);
      const place = where ? `line ${where.line}, column ${where.column}: ` : "";
      throw new SyntaxError(`Not valid JSON: ${place}${error.message}`);
    }
  };
  const check = () => {
    numberLines();
    try {
      const document = parse();
      status.textContent = "Valid JSON.";
      status.className = "json-status ok";
      area.removeAttribute("aria-invalid");
      onChange(document);
    } catch (error) {
      status.textContent = error.message;
      status.className = "json-status error";
      area.setAttribute("aria-invalid", "true");
      onChange(undefined);
    }
  };
  area.addEventListener("input", check);
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  area.addEventListener("keydown", (event) => { // Tab indents rather than leaving the editor
    if (event.key !== "Tab" || event.shiftKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
    check();
  });
  const set = (document) => {
    area.value = JSON.stringify(document, null, 2);
    showProblems([]);
    check();
  };
  /** The API's problems: `source` (file), `field` (JSON path), `message`, `hint`. */
  function showProblems(list) {
    clear(problems);
    for (const problem of list) {
      problems.append(h("li", {},
        problem.source ? h("strong", {}, problem.source) : null, problem.source ? ": " : "",
        problem.field ? h("code", { class: "json-path" }, problem.field) : null, problem.field ? " — " : "",
        problem.message, problem.hint ? h("span", { class: "muted" }, ` (${problem.hint})`) : null));
    }
  }
  set(value);
  const element = h("div", { class: "json-editor" },
    h("div", { class: "json-frame" }, gutter, area), status, problems);
  return { element, read: parse, set, showProblems, textarea: area };
}
