// Small DOM helpers: element builders (no innerHTML with data, so nothing the API returns is
// ever parsed as markup), formatting, and the shared bits of UI (problems, toasts, badges).

const SVG_NS = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style") Object.assign(element.style, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "value" && "value" in element && !(element instanceof SVGElement)) element.value = value;
    else if (name === "checked" || name === "selected" || name === "disabled" || name === "hidden"
             || name === "multiple" || name === "required" || name === "open") element[name] = Boolean(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h("p", {class: "x"}, "text", h("b", {}, "bold")). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

let idCounter = 0;
export const uid = (prefix = "id") => `${prefix}-${++idCounter}`;

// -- formatting ---------------------------------------------------------------------------------

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 2 });
const plain = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
const precise = new Intl.NumberFormat("en", { maximumSignificantDigits: 6 });

/** A number for an axis tick or a label: compact, exponent for huge or tiny magnitudes. */
export function fmtNumber(value, { exact = false } = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e15 || magnitude < 1e-3)) return value.toExponential(2);
  if (exact) return precise.format(value);
  return magnitude >= 1e4 ? compact.format(value) : plain.format(value);
}

export function fmtBytes(bytes) {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function fmtDate(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function fmtDuration(startIso, endIso) {
  if (!startIso) return "–";
  const ms = (endIso ? new Date(endIso) : new Date()) - new Date(startIso);
  if (!(ms >= 0)) return "–";
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export const shortId = (id) => (id ? id.slice(0, 8) : "");

// -- shared components ----------------------------------------------------------------------------

/** An API error (or any error) as an alert box: title, detail or each of its `errors` (field,
 * message, the file it is about when that is not the field, hint), hint. */
export function problemBox(error, { heading } = {}) {
  const box = h("div", { class: "problem", role: "alert" });
  const title = heading || error.title || error.name || "Error";
  box.append(h("p", { class: "problem-title" }, title));
  const errors = error.errors || [];
  if (errors.length) {
    box.append(h("ul", { class: "problem-errors" }, errors.map((item) => h("li", {},
      item.field ? h("code", {}, item.field) : null, item.field ? ": " : "", item.message || "",
      item.source && item.source !== item.field && item.source !== "settings"
        ? h("span", { class: "muted" }, ` (${item.source})`) : null,
      item.hint ? h("span", { class: "problem-hint" }, ` — ${item.hint}`) : null))));
  } else if (error.detail || error.message) {
    box.append(h("p", { class: "problem-detail" }, error.detail || error.message));
  }
  if (error.hint) box.append(h("p", { class: "problem-hint" }, error.hint));
  return box;
}

/** Show `error` in `slot` (replacing what was there); a cancelled request shows nothing. */
export function showProblem(slot, error, options) {
  clear(slot);
  if (error?.name === "AbortError") return;
  if (!(error && (error.title || error.detail))) console.error(error);
  slot.append(problemBox(error, options));
}

export function toast(message, kind = "info") {
  const region = document.getElementById("toasts");
  if (!region) return;
  const item = h("div", { class: ["toast", `toast-${kind}`] }, message);
  region.append(item);
  setTimeout(() => item.classList.add("toast-leaving"), 3500);
  setTimeout(() => item.remove(), 4000);
}

const STATUS_LABELS = { new: "not run", accepted: "queued", running: "running", successful: "successful",
                        failed: "failed", dismissed: "cancelled" };

export function statusBadge(status) {
  return h("span", { class: ["badge", `badge-${status}`], dataset: { status } },
    STATUS_LABELS[status] || status);
}

export function progressBar(percent, label = "Progress") {
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  const bar = h("div", { class: "progress", role: "progressbar", "aria-label": label,
                         "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(value) },
    h("div", { class: "progress-fill" }));
  bar.firstChild.style.width = `${value}%`;
  return bar;
}

export function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** A button that disables itself and shows a busy state while its async action runs. */
export function actionButton(label, action, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async (event) => {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try { await action(event); } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
  return button;
}

/** A labelled form field; `input` is the control, `hint` optional help, errors go in the slot. */
export function field(label, input, { hint, name } = {}) {
  const id = input.id || uid("field");
  input.id = id;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h("div", { class: "field", dataset: name ? { field: name } : {} },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "field-hint", id: hintId }, hint) : null,
    h("p", { class: "field-error", id: errorId, "aria-live": "polite" }));
}

/** Put each {field, message} next to the element whose data-field is the longest prefix of its
 * field (dot-separated) and that has its own error slot (a `.field-error` child); the control
 * of the most specific match is marked invalid (an element without a slot, such as a table row,
 * marks its control whose data-key is the next part of the field, else its data-main one). Closed <details> holding an
 * error are opened. Returns how many errors were placed. */
export function showFieldErrors(root, errors) {
  if (!root.dataset.clearsErrors) {  // an error goes stale once its field is edited
    root.dataset.clearsErrors = "yes";
    const clearStale = (event) => {
      event.target.removeAttribute?.("aria-invalid");
      for (let holder = event.target.closest?.("[data-field]"); holder && root.contains(holder);
        holder = holder.parentElement?.closest("[data-field]")) {
        const slot = holder.querySelector(":scope > .field-error");
        if (slot) slot.textContent = "";
      }
    };
    root.addEventListener("input", clearStale);
    root.addEventListener("change", clearStale);
  }
  for (const slot of root.querySelectorAll(".field-error")) slot.textContent = "";
  for (const input of root.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const holders = new Map();
  for (const element of root.querySelectorAll("[data-field]")) {
    if (!holders.has(element.dataset.field)) holders.set(element.dataset.field, element);
  }
  let placed = 0;
  for (const error of errors) {
    const parts = String(error.field || "").split(".");
    let marked = false;
    for (let n = parts.length; n > 0; n -= 1) {
      const holder = holders.get(parts.slice(0, n).join("."));
      if (!holder) continue;
      if (!marked) {
        const control = holder.matches("input, select, textarea") ? holder
          : (n < parts.length && holder.querySelector(`[data-key="${CSS.escape(parts[n])}"]`))
            || holder.querySelector("[data-main]") || holder.querySelector("input, select, textarea");
        control?.setAttribute("aria-invalid", "true");
        marked = true;
      }
      const slot = holder.querySelector(":scope > .field-error");
      if (!slot) continue;
      slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : error.message;
      for (let parent = holder; parent && parent !== root; parent = parent.parentElement) {
        if (parent.tagName === "DETAILS") parent.open = true;
      }
      placed += 1;
      break;
    }
  }
  return placed;
}

/** A confirmation dialog; resolves true when confirmed. */
export function confirmDialog(message, { confirm = "Delete", dismiss = "Keep it", danger = true } = {}) {
  return new Promise((resolve) => {
    // Both buttons say what they do: "Cancel" next to "Cancel run" meant opposite things.
    const dialog = h("dialog", { class: "confirm", "aria-label": "Confirm" },
      h("form", { method: "dialog" },
        h("p", {}, message),
        h("div", { class: "actions" },
          h("button", { value: "cancel", type: "submit" }, dismiss),
          h("button", { value: "ok", type: "submit", class: danger ? "danger" : "primary" }, confirm))));
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    dialog.showModal();
  });
}

/** A table from column specs [{label, value(row) -> node|string, class}] and rows. */
export function table(columns, rows, { caption, className = "data" } = {}) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || "table" },
    h("table", { class: className },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col", class: column.class }, column.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((column, index) =>
        h(index === 0 && column.header !== false ? "th" : "td",
          { class: column.class, scope: index === 0 && column.header !== false ? "row" : undefined },
          column.value(row))))))));
}
