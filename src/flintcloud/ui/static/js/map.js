// An indicator map: the service renders a COG as a PNG (GET /simulations/{id}/maps/{indicator}/
// {year}.png) and describes where it lies; this places the image on a longitude/latitude frame
// with a graticule, zooms (wheel, buttons, + and -) and pans (drag, arrow keys), and reads the
// pixel value under the pointer (or at a click, which pins it).

import { api, request } from "./api.js";
import { niceTicks } from "./chart.js";
import { clear, fmtNumber, h, s } from "./dom.js";

const HEIGHT = 440;

/** A map viewer; call .show(info) with a map description (GET …/maps/{indicator}/{year}). */
export function mapViewer({ signal } = {}) {
  const frame = h("div", { class: "map-frame", tabindex: "0", role: "application",
                           "aria-label": "Map. Arrow keys pan, plus and minus zoom, 0 fits the data, Enter reads the value at the centre." });
  const image = h("img", { class: "map-image", alt: "", draggable: "false" });
  const overlay = s("svg", { class: "map-overlay", "aria-hidden": "true" });
  frame.append(image, overlay);
  const readout = h("p", { class: "map-readout", "aria-live": "polite" }, "Point at the map to read a value; click to pin it.");
  const zoomIn = h("button", { type: "button", class: "small", "aria-label": "Zoom in" }, "+");
  const zoomOut = h("button", { type: "button", class: "small", "aria-label": "Zoom out" }, "−");
  const fit = h("button", { type: "button", class: "small" }, "Fit data");
  const element = h("div", { class: "map-viewer" },
    h("div", { class: "map-tools" }, zoomIn, zoomOut, fit), frame, readout);

  let info = null;
  let view = null; // {lon, lat, scale (px per degree of latitude)}
  let kx = 1; // px per degree of longitude / px per degree of latitude: cos(latitude)
  let pinned = null;
  let objectUrl = null;

  const size = () => ({ w: frame.clientWidth || 600, h: frame.clientHeight || HEIGHT });
  const toPx = (lon, lat) => {
    const { w, h: ht } = size();
    return [w / 2 + (lon - view.lon) * kx * view.scale, ht / 2 - (lat - view.lat) * view.scale];
  };
  const toLonLat = (px, py) => {
    const { w, h: ht } = size();
    return [view.lon + (px - w / 2) / (kx * view.scale), view.lat - (py - ht / 2) / view.scale];
  };

  function fitTo(bounds) {
    const [west, south, east, north] = bounds;
    const { w, h: ht } = size();
    const spanLon = Math.max(east - west, 1e-9);
    const spanLat = Math.max(north - south, 1e-9);
    view = { lon: (west + east) / 2, lat: (south + north) / 2,
             scale: 0.9 * Math.min(w / (spanLon * kx), ht / spanLat) };
    draw();
  }

  function draw() {
    if (!info || !view) return;
    const [west, south, east, north] = info.bounds;
    const [x0, y0] = toPx(west, north);
    const [x1, y1] = toPx(east, south);
    Object.assign(image.style, { left: `${x0}px`, top: `${y0}px`, width: `${x1 - x0}px`, height: `${y1 - y0}px` });
    const { w, h: ht } = size();
    overlay.setAttribute("width", w);
    overlay.setAttribute("height", ht);
    overlay.setAttribute("viewBox", `0 0 ${w} ${ht}`);
    clear(overlay);
    const [lonMin, latMax] = toLonLat(0, 0);
    const [lonMax, latMin] = toLonLat(w, ht);
    const graticule = s("g", { class: "graticule" });
    for (const lon of niceTicks(lonMin, lonMax, Math.max(2, Math.floor(w / 110))).ticks) {
      if (lon < lonMin || lon > lonMax) continue;
      const [x] = toPx(lon, 0);
      graticule.append(s("line", { x1: x, x2: x, y1: 0, y2: ht }),
                       s("text", { x: x + 3, y: ht - 6, class: "graticule-label" }, `${fmtNumber(Math.abs(lon), { exact: true })}°${lon < 0 ? "W" : "E"}`));
    }
    for (const lat of niceTicks(latMin, latMax, Math.max(2, Math.floor(ht / 90))).ticks) {
      if (lat < latMin || lat > latMax) continue;
      const [, y] = toPx(0, lat);
      graticule.append(s("line", { x1: 0, x2: w, y1: y, y2: y }),
                       s("text", { x: 4, y: y - 4, class: "graticule-label" }, `${fmtNumber(Math.abs(lat), { exact: true })}°${lat < 0 ? "S" : "N"}`));
    }
    overlay.append(graticule);
    if (info.data_bounds) {
      const [dw, ds, de, dn] = info.data_bounds;
      const [a, b] = toPx(dw, dn);
      const [c, d] = toPx(de, ds);
      overlay.append(s("rect", { class: "data-extent", x: a, y: b, width: c - a, height: d - b }));
    }
    if (pinned) {
      const [px, py] = toPx(pinned.lon, pinned.lat);
      overlay.append(s("circle", { class: "pin", cx: px, cy: py, r: 6 }), s("circle", { class: "pin-dot", cx: px, cy: py, r: 2 }));
    }
  }

  function zoom(factor, px, py) {
    if (!view) return;
    const { w, h: ht } = size();
    const [lon, lat] = toLonLat(px ?? w / 2, py ?? ht / 2);
    view.scale = Math.min(1e7, Math.max(1, view.scale * factor));
    // keep the point under the cursor where it was
    const [nx, ny] = toPx(lon, lat);
    view.lon += (nx - (px ?? w / 2)) / (kx * view.scale);
    view.lat -= (ny - (py ?? ht / 2)) / view.scale;
    draw();
  }

  function pan(dx, dy) {
    view.lon -= dx / (kx * view.scale);
    view.lat += dy / view.scale;
    draw();
  }

  // the value under the pointer: one request at a time, the latest position wins
  let pending = null;
  let inflight = false;
  async function readValue(lon, lat, pin = false) {
    if (!info) return;
    const [west, south, east, north] = info.bounds;
    if (lon < west || lon > east || lat < south || lat > north) {
      if (!pin) readout.textContent = `${formatLonLat(lon, lat)}: outside the map`;
      return;
    }
    pending = { lon, lat, pin };
    if (inflight) return;
    inflight = true;
    while (pending) {
      const asked = pending;
      pending = null;
      try {
        const valueLink = info.links.find((link) => link.rel === "value").href;
        const answer = await api.get(`${valueLink}?lon=${asked.lon}&lat=${asked.lat}`, { signal });
        const text = `${formatLonLat(asked.lon, asked.lat)}: ${answer.value === null ? "no data"
          : `${fmtNumber(answer.value, { exact: true })} ${answer.unit}`} (${info.indicator}, ${info.year})`;
        if (asked.pin) { pinned = { ...asked, text }; draw(); }
        readout.textContent = asked.pin || !pinned ? text : `${text} · pinned: ${pinned.text}`;
        readout.dataset.value = answer.value === null ? "" : String(answer.value);
      } catch (error) {
        if (error.name === "AbortError") break;
        readout.textContent = `Could not read the value: ${error.detail || error.message}`;
      }
    }
    inflight = false;
  }

  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, moved: false };
    frame.setPointerCapture(event.pointerId);
  });
  frame.addEventListener("pointermove", (event) => {
    if (!view) return;
    if (drag && (event.buttons & 1)) {
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      drag.x = event.clientX;
      drag.y = event.clientY;
      pan(dx, dy);
      return;
    }
    const box = frame.getBoundingClientRect();
    readValue(...toLonLat(event.clientX - box.left, event.clientY - box.top));
  });
  frame.addEventListener("pointerup", (event) => {
    if (drag && !drag.moved && view) {
      const box = frame.getBoundingClientRect();
      readValue(...toLonLat(event.clientX - box.left, event.clientY - box.top), true);
    }
    drag = null;
  });
  frame.addEventListener("wheel", (event) => {
    if (!view) return;
    event.preventDefault();
    const box = frame.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.25 : 0.8, event.clientX - box.left, event.clientY - box.top);
  }, { passive: false });
  frame.addEventListener("keydown", (event) => {
    if (!view) return;
    const step = 60;
    const actions = {
      ArrowLeft: () => pan(step, 0), ArrowRight: () => pan(-step, 0), ArrowUp: () => pan(0, step), ArrowDown: () => pan(0, -step),
      "+": () => zoom(1.25), "=": () => zoom(1.25), "-": () => zoom(0.8), 0: () => fitTo(info.data_bounds || info.bounds),
      Enter: () => readValue(view.lon, view.lat, true),
    };
    if (!(event.key in actions)) return;
    event.preventDefault();
    actions[event.key]();
  });
  zoomIn.addEventListener("click", () => zoom(1.5));
  zoomOut.addEventListener("click", () => zoom(1 / 1.5));
  fit.addEventListener("click", () => info && fitTo(info.data_bounds || info.bounds));
  new ResizeObserver(() => draw()).observe(frame);

  /** Show a map description and load its image; keeps the view when only the year changes. */
  async function show(next, { keepView = true } = {}) {
    const sameArea = info && view && keepView && JSON.stringify(info.bounds) === JSON.stringify(next.bounds);
    info = next;
    kx = Math.cos(((next.bounds[1] + next.bounds[3]) / 2) * Math.PI / 180) || 1;
    image.alt = `Map of ${next.indicator} in ${next.year}`;
    image.dataset.loaded = "false";
    const imageLink = next.links.find((link) => link.rel === "image");
    const blob = await request(imageLink.href, { as: "blob", signal });
    const url = URL.createObjectURL(blob);
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = () => reject(new Error("the map image could not be decoded"));
      image.src = url;
    });
    image.dataset.loaded = "true";
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = url;
    if (!sameArea) fitTo(next.data_bounds || next.bounds); else draw();
    if (pinned) readValue(pinned.lon, pinned.lat, true);
  }

  signal?.addEventListener("abort", () => { if (objectUrl) URL.revokeObjectURL(objectUrl); });
  return { element, show };
}

export function formatLonLat(lon, lat) {
  return `${Math.abs(lat).toFixed(5)}°${lat < 0 ? "S" : "N"}, ${Math.abs(lon).toFixed(5)}°${lon < 0 ? "W" : "E"}`;
}

/** The colour scale of a map description: gradient bar, min, middle and max, unit. */
export function legend(info) {
  const { scale } = info;
  const bar = h("div", { class: "legend-bar", role: "img",
                         "aria-label": `Colour scale from ${fmtNumber(scale.min, { exact: true })} to ${fmtNumber(scale.max, { exact: true })} ${info.unit}` });
  bar.style.background = `linear-gradient(to right, ${scale.stops.map(([at, colour]) => `${colour} ${at * 100}%`).join(", ")})`;
  return h("div", { class: "map-legend", dataset: { min: scale.min, max: scale.max } },
    h("p", { class: "legend-title" }, `${info.indicator} ${info.year}`, h("span", { class: "muted" }, ` (${info.unit})`)),
    bar,
    h("div", { class: "legend-ticks" },
      h("span", { class: "legend-min" }, fmtNumber(scale.min)),
      h("span", {}, fmtNumber((scale.min + scale.max) / 2)),
      h("span", { class: "legend-max" }, fmtNumber(scale.max))),
    h("p", { class: "muted small" }, info.min === null ? "No data in this map."
      : `Data: ${fmtNumber(info.min, { exact: true })} to ${fmtNumber(info.max, { exact: true })} over ${info.n_valid.toLocaleString()} pixels; `
        + "no data is transparent."),
    h("p", { class: "muted small" }, `${info.width} × ${info.height} px, ${info.crs || "no CRS"}`));
}
