// Hand-written SVG charts: lines over a numeric x axis, and bars (grouped or stacked) over
// categories. One legend button per series toggles it; hovering, or the arrow keys once the
// chart has focus, shows every series' value at one x. Charts redraw at their container's width.

import { clear, fmtNumber, h, s, uid } from "./dom.js";

// Okabe-Ito (colour-blind safe) first, then a few distinct extras for charts with many series.
export const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
                        "#222222", "#8c564b", "#7f7f7f", "#a08c00", "#17becf", "#bcbd22"];
const MARGIN = { top: 16, right: 18, bottom: 46, left: 70 };
const MAX_MARKERS = 400; // per series: above this, lines are drawn without point markers

/** ~count round tick values covering [min, max]. */
export function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [0, 1], min: 0, max: 1 };
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const ratio = rough / magnitude;
  const step = magnitude * (ratio >= 7.5 ? 10 : ratio >= 3.5 ? 5 : ratio >= 1.5 ? 2 : 1);
  const start = Math.floor(min / step) * step;
  const end = Math.ceil(max / step) * step;
  const ticks = [];
  for (let i = 0, value = start; value <= end + step / 2 && i < 100; i += 1, value = start + i * step) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return { ticks, min: start, max: end };
}

/** Ticks of a symmetric log axis, as positions in log units: 0 and ±10^j, at most ~9. */
function logTicks(min, max) {
  const low = Math.floor(min);
  const high = Math.ceil(max);
  const top = Math.max(Math.abs(low), Math.abs(high));
  const every = Math.max(1, Math.ceil((high - low) / 8));
  const ticks = low <= 0 && high >= 0 ? [0] : [];
  for (let j = every > 1 ? every : 0; j <= top; j += every) {
    for (const sign of [1, -1]) {
      const position = sign * Math.log10(1 + 10 ** j);
      if (position >= low - 1e-9 && position <= high + 1e-9) ticks.push(position);
    }
  }
  ticks.sort((a, b) => a - b);
  return { ticks, min: low === high ? low - 1 : low, max: high };
}

function extent(values) {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value === null || value === undefined || !Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return [min, max];
}

/**
 * A chart as a <figure>.
 * options: type "line" | "bar"; title; x (array, shared by every series); series [{name, values,
 * color?, dash? (a dashed line)}] (values aligned with x, null for a gap); xLabel, yLabel; xFormat(x) and yFormat(y)
 * for labels (tooltipX(x, i) for the tooltip's heading, default xFormat); hidden (names initially
 * hidden); stacked (bars); height (px); integerX (ticks at integers only); logToggle (offer a
 * symmetric log scale, for series that span orders of magnitude of either sign).
 */
export function chart(options) {
  const opts = { type: "line", height: 320, hidden: [], stacked: false, xFormat: String,
                 yFormat: (value) => fmtNumber(value), ...options };
  const series = opts.series.map((item, index) => ({ ...item, color: item.color || PALETTE[index % PALETTE.length] }));
  const hidden = new Set(opts.hidden);
  const titleId = uid("chart-title");
  const figure = h("figure", { class: ["chart", `chart-${opts.type}`] });
  if (opts.title) figure.append(h("figcaption", { id: titleId, class: "chart-title" }, opts.title));
  const plot = h("div", { class: "chart-plot" });
  const tooltip = h("div", { class: "chart-tooltip", role: "status", hidden: true });
  plot.append(tooltip);
  figure.append(plot);
  const legend = h("ul", { class: "legend", "aria-label": `${opts.title || "chart"}: series` });
  for (const item of series) {
    const button = h("button", { type: "button", "aria-pressed": String(!hidden.has(item.name)),
                                 dataset: { series: item.name } },
      h("span", { class: "swatch", "aria-hidden": "true" }), item.name);
    button.firstChild.style.background = item.color;
    button.addEventListener("click", () => {
      if (hidden.has(item.name)) hidden.delete(item.name); else hidden.add(item.name);
      button.setAttribute("aria-pressed", String(!hidden.has(item.name)));
      draw();
    });
    legend.append(h("li", {}, button));
  }
  if (series.length > 1) figure.append(legend);

  let active = -1; // index of the x shown in the tooltip
  let layout = null;
  let logScale = false;
  // symmetric log: sign(y) log10(1 + |y|), so that 0 and negative values have a place
  const forward = (value) => (logScale ? Math.sign(value) * Math.log10(1 + Math.abs(value)) : value);
  const inverse = (value) => (logScale ? Math.sign(value) * (10 ** Math.abs(value) - 1) : value);
  if (opts.logToggle) {
    const box = h("input", { type: "checkbox" });
    box.addEventListener("change", () => { logScale = box.checked; draw(); });
    figure.insertBefore(h("label", { class: "chart-option" }, box, " Logarithmic scale (symmetric)"), plot);
  }

  function visible() { return series.filter((item) => !hidden.has(item.name)); }

  function yDomain(shown) {
    if (opts.type === "bar" && opts.stacked) {
      let min = 0;
      let max = 0;
      opts.x.forEach((_, i) => {
        let up = 0;
        let down = 0;
        for (const item of shown) {
          const value = item.values[i];
          if (!Number.isFinite(value)) continue;
          if (value >= 0) up += value; else down += value;
        }
        max = Math.max(max, up);
        min = Math.min(min, down);
      });
      return [min, max];
    }
    let [min, max] = extent(shown.flatMap((item) => item.values));
    if (min === Infinity) [min, max] = [0, 1];
    if (opts.type === "bar") { min = Math.min(0, min); max = Math.max(0, max); }
    return [min, max];
  }

  function draw() {
    const width = Math.max(280, Math.round(plot.clientWidth || 640));
    const height = opts.height;
    const inner = { w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
    const shown = visible();
    const [ymin, ymax] = yDomain(shown).map(forward);
    const yTicks = logScale ? logTicks(ymin, ymax) : niceTicks(ymin, ymax, Math.max(3, Math.round(inner.h / 55)));
    const yScale = (value) => MARGIN.top + inner.h - ((forward(value) - yTicks.min) / (yTicks.max - yTicks.min)) * inner.h;
    const n = opts.x.length;
    let xScale;
    let band = 0;
    let xTickIndexes;
    if (opts.type === "bar") {
      band = inner.w / Math.max(1, n);
      xScale = (i) => MARGIN.left + band * (i + 0.5);
      const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(inner.w / 56))));
      xTickIndexes = opts.x.map((_, i) => i).filter((i) => i % every === 0);
    } else {
      const [xmin, xmax] = extent(opts.x);
      const span = xmax - xmin || 1;
      xScale = (i) => MARGIN.left + ((opts.x[i] - xmin) / span) * inner.w;
      const xTicks = niceTicks(xmin, xmax, Math.max(2, Math.floor(inner.w / 90)));
      const wanted = xTicks.ticks.filter((t) => t >= xmin && t <= xmax && (!opts.integerX || Number.isInteger(t)));
      xTickIndexes = wanted.map((t) => opts.x.findIndex((value) => value >= t)).filter((i) => i >= 0);
      xTickIndexes = [...new Set(xTickIndexes)];
    }
    layout = { xScale, yScale, band, inner, width, height };

    const svg = s("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`,
                           role: "img", tabindex: "0", "aria-labelledby": opts.title ? titleId : undefined,
                           "aria-roledescription": `${opts.type} chart` },
      s("desc", {}, `${shown.length} series over ${n} ${opts.xLabel || "points"}; `
        + "use the arrow keys to read values, and the table for all of them."));
    // grid and y axis
    const grid = s("g", { class: "grid" });
    for (const position of yTicks.ticks) {
      const tick = Number(inverse(position).toPrecision(10));
      const y = yScale(tick);
      grid.append(s("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y, y2: y }),
                  s("text", { x: MARGIN.left - 8, y, class: "tick-label y", "dominant-baseline": "middle",
                              "text-anchor": "end" }, opts.yFormat(tick)));
    }
    svg.append(grid);
    if (yTicks.min < 0 && yTicks.max > 0) { // a line at zero
      const y0 = yScale(0);
      svg.append(s("line", { class: "zero", x1: MARGIN.left, x2: width - MARGIN.right, y1: y0, y2: y0 }));
    }
    const axis = s("g", { class: "axis" },
      s("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + inner.h, y2: MARGIN.top + inner.h }));
    for (const i of xTickIndexes) {
      const x = xScale(i);
      axis.append(s("line", { x1: x, x2: x, y1: MARGIN.top + inner.h, y2: MARGIN.top + inner.h + 5 }),
                  s("text", { x, y: MARGIN.top + inner.h + 18, class: "tick-label x", "text-anchor": "middle" },
                    opts.xFormat(opts.x[i], i)));
    }
    if (opts.xLabel) {
      axis.append(s("text", { class: "axis-label", x: MARGIN.left + inner.w / 2, y: height - 6,
                              "text-anchor": "middle" }, opts.xLabel));
    }
    if (opts.yLabel) {
      axis.append(s("text", { class: "axis-label", transform: `translate(14 ${MARGIN.top + inner.h / 2}) rotate(-90)`,
                              "text-anchor": "middle" }, opts.yLabel));
    }
    svg.append(axis);

    const marks = s("g", { class: "marks" });
    if (opts.type === "bar") drawBars(marks, shown, layout);
    else drawLines(marks, shown, layout);
    svg.append(marks);
    const cursor = s("g", { class: "cursor", visibility: "hidden" });
    svg.append(cursor);
    const overlay = s("rect", { class: "overlay", x: MARGIN.left, y: MARGIN.top, width: inner.w, height: inner.h });
    svg.append(overlay);
    overlay.addEventListener("pointermove", (event) => {
      const box = svg.getBoundingClientRect();
      show(nearest(event.clientX - box.left), svg, cursor, event.clientX - box.left, event.clientY - box.top);
    });
    overlay.addEventListener("pointerleave", () => hide(cursor));
    svg.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: 1, ArrowLeft: -1, PageUp: 10, PageDown: -10 };
      let next = active;
      if (event.key in moves) next = Math.max(0, Math.min(n - 1, (active < 0 ? 0 : active) + moves[event.key]));
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = n - 1;
      else if (event.key === "Escape") { hide(cursor); return; } else return;
      event.preventDefault();
      show(next, svg, cursor, xScale(next), MARGIN.top + 10);
    });
    svg.addEventListener("blur", () => hide(cursor));
    const old = plot.querySelector("svg");
    if (old) old.replaceWith(svg); else plot.prepend(svg);
  }

  function drawLines(marks, shown, { xScale, yScale }) {
    for (const item of shown) {
      let d = "";
      let pen = false;
      let count = 0;
      item.values.forEach((value, i) => {
        if (!Number.isFinite(value)) { pen = false; return; }
        d += `${pen ? "L" : "M"}${xScale(i).toFixed(2)},${yScale(value).toFixed(2)}`;
        pen = true;
        count += 1;
      });
      const path = s("path", { class: "series", d, dataset: { series: item.name, points: count } });
      path.style.stroke = item.color;
      if (item.dash) path.style.strokeDasharray = "6 4"; // e.g. a baseline under its scenario
      marks.append(path);
      if (item.values.length <= MAX_MARKERS) {
        const group = s("g", { class: "points", dataset: { series: item.name } });
        item.values.forEach((value, i) => {
          if (!Number.isFinite(value)) return;
          const dot = s("circle", { class: "point", cx: xScale(i).toFixed(2), cy: yScale(value).toFixed(2), r: 2.5,
                                    dataset: { series: item.name, x: opts.x[i], y: value } });
          dot.style.fill = item.color;
          group.append(dot);
        });
        marks.append(group);
      }
    }
  }

  function drawBars(marks, shown, { xScale, yScale, band }) {
    const groupWidth = band * 0.78;
    opts.x.forEach((x, i) => {
      let up = 0;
      let down = 0;
      shown.forEach((item, k) => {
        const value = item.values[i];
        if (!Number.isFinite(value)) return;
        let y0;
        let y1;
        let left;
        let barWidth;
        if (opts.stacked) {
          const base = value >= 0 ? up : down;
          y0 = yScale(base);
          y1 = yScale(base + value);
          if (value >= 0) up += value; else down += value;
          left = xScale(i) - groupWidth / 2;
          barWidth = groupWidth;
        } else {
          barWidth = groupWidth / shown.length;
          left = xScale(i) - groupWidth / 2 + k * barWidth;
          y0 = yScale(0);
          y1 = yScale(value);
        }
        const rect = s("rect", { class: "bar", x: left.toFixed(2), y: Math.min(y0, y1).toFixed(2),
                                 width: Math.max(0.5, barWidth - (opts.stacked ? 0 : 1)).toFixed(2),
                                 height: Math.abs(y1 - y0).toFixed(2), dataset: { series: item.name, x, y: value } });
        rect.style.fill = item.color;
        marks.append(rect);
      });
    });
  }

  function nearest(px) {
    const n = opts.x.length;
    if (!n) return -1;
    let best = 0;
    let bestDistance = Infinity;
    for (let i = 0; i < n; i += 1) {
      const distance = Math.abs(layout.xScale(i) - px);
      if (distance < bestDistance) { best = i; bestDistance = distance; }
    }
    return best;
  }

  function show(index, svg, cursor, px, py) {
    if (index < 0) return;
    active = index;
    const { xScale, yScale, inner, band, width } = layout;
    clear(cursor);
    cursor.setAttribute("visibility", "visible");
    const x = xScale(index);
    if (opts.type === "bar") {
      cursor.append(s("rect", { class: "cursor-band", x: x - band / 2, y: MARGIN.top, width: band, height: inner.h }));
    } else {
      cursor.append(s("line", { class: "cursor-line", x1: x, x2: x, y1: MARGIN.top, y2: MARGIN.top + inner.h }));
    }
    const rows = [];
    for (const item of visible()) {
      const value = item.values[index];
      if (opts.type === "line" && Number.isFinite(value)) {
        const dot = s("circle", { class: "cursor-dot", cx: x, cy: yScale(value), r: 4.5 });
        dot.style.stroke = item.color;
        cursor.append(dot);
      }
      const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = item.color;
      rows.push(h("tr", {}, h("td", {}, swatch, item.name),
        h("td", { class: "num" }, Number.isFinite(value) ? fmtNumber(value, { exact: true }) : "–")));
    }
    clear(tooltip);
    const heading = opts.tooltipX ? opts.tooltipX(opts.x[index], index)
      : `${opts.xLabel ? `${opts.xLabel} ` : ""}${opts.xFormat(opts.x[index], index)}`;
    tooltip.append(h("p", { class: "tooltip-x" }, heading),
                   h("table", {}, h("tbody", {}, rows)));
    tooltip.hidden = false;
    const tipWidth = tooltip.offsetWidth || 180;
    const left = px + 16 + tipWidth > width ? Math.max(0, px - 16 - tipWidth) : px + 16;
    tooltip.style.left = `${left}px`;
    tooltip.style.top = `${Math.max(0, Math.min(py - 10, layout.height - (tooltip.offsetHeight || 60)))}px`;
  }

  function hide(cursor) {
    active = -1;
    cursor.setAttribute("visibility", "hidden");
    tooltip.hidden = true;
  }

  // draw once attached (the width is known then), and again whenever the width changes
  let lastWidth = 0;
  const observer = new ResizeObserver(() => {
    const width = Math.round(plot.clientWidth);
    if (width && width !== lastWidth) { lastWidth = width; draw(); }
  });
  observer.observe(plot);
  draw();
  return figure;
}
