// An indicator map on Leaflet (vendored in ../vendor/leaflet, loaded by index.html as window.L):
// the service's XYZ tiles of a run's COG (links[rel=tiles] of GET …/maps/{indicator}/{year}),
// fetched with the bearer token; a basemap only when the deployment sets one (GET …/maps); a
// scale bar; the pixel value under the pointer, or at a click, which pins it.

import { api, request } from "./api.js";
import { fmtNumber, h } from "./dom.js";

// Tiles through fetch, not <img src>: an image request cannot carry the bearer token.
function authTileLayer(template, options) {
  const layer = window.L.tileLayer(template, options);
  layer.createTile = function createTile(coords, done) {
    const tile = document.createElement("img");
    tile.alt = "";
    tile.setAttribute("role", "presentation");
    request(this.getTileUrl(coords), { as: "blob" }).then((blob) => {
      const url = URL.createObjectURL(blob);
      tile.onload = () => { URL.revokeObjectURL(url); done(null, tile); };
      tile.onerror = () => { URL.revokeObjectURL(url); done(new Error("the tile could not be decoded"), tile); };
      tile.src = url;
    }, (error) => done(error, tile));
    return tile;
  };
  return layer;
}

const tileLink = (info) => info.links.find((link) => link.rel === "tiles").href;
const latLngBounds = ([west, south, east, north]) => window.L.latLngBounds([[south, west], [north, east]]);

/** A map viewer; call .show(info) with a map description (GET …/maps/{indicator}/{year}). */
export function mapViewer({ signal, basemap = null } = {}) {
  const frame = h("div", { class: "map-frame", tabindex: "0", dataset: { loaded: "false" },
                           "aria-label": "Map. Arrow keys pan, plus and minus zoom, Enter reads the value at the centre." });
  const readout = h("p", { class: "map-readout", "aria-live": "polite" }, "Point at the map to read a value; click to pin it.");
  const fit = h("button", { type: "button", class: "small" }, "Fit data");
  const element = h("div", { class: "map-viewer" }, h("div", { class: "map-tools" }, fit), frame, readout);

  let map = null;
  let layer = null;
  let pin = null;
  let info = null;
  let pinned = null;

  function create() {
    const L = window.L;
    map = L.map(frame, { zoomSnap: 0.5, attributionControl: Boolean(basemap) });
    frame.flintMap = map; // for tests and the console
    if (basemap) {
      L.tileLayer(basemap.url, { attribution: basemap.attribution, maxZoom: 24, className: "map-basemap" }).addTo(map);
      map.attributionControl.setPrefix(false);
    }
    L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
    map.on("mousemove", (event) => readValue(event.latlng.lng, event.latlng.lat));
    map.on("click", (event) => readValue(event.latlng.lng, event.latlng.lat, true));
    frame.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const centre = map.getCenter();
      readValue(centre.lng, centre.lat, true);
    });
    new ResizeObserver(() => map?.invalidateSize()).observe(frame); // map is null once aborted
  }

  function fitData() {
    if (!map || !info) return;
    const bounds = info.data_bounds && info.crs === "EPSG:4326" ? info.data_bounds : info.tiles.bounds_wgs84;
    map.fitBounds(latLngBounds(bounds), { padding: [12, 12] });
  }

  // the value under the pointer: one request at a time, the latest position wins
  let pending = null;
  let inflight = false;
  async function readValue(lon, lat, pinIt = false) {
    if (!info) return;
    const [west, south, east, north] = info.tiles.bounds_wgs84;
    if (lon < west || lon > east || lat < south || lat > north) {
      if (!pinIt) readout.textContent = `${formatLonLat(lon, lat)}: outside the map`;
      return;
    }
    pending = { lon, lat, pin: pinIt };
    if (inflight) return;
    inflight = true;
    while (pending) {
      const asked = pending;
      pending = null;
      const shown = info;
      try {
        const valueLink = shown.links.find((link) => link.rel === "value").href;
        const answer = await api.get(`${valueLink}?lon=${asked.lon}&lat=${asked.lat}`, { signal });
        const text = `${formatLonLat(asked.lon, asked.lat)}: ${answer.value === null ? "no data"
          : `${fmtNumber(answer.value, { exact: true })} ${answer.unit}`} (${shown.title || `${shown.indicator}, ${shown.year}`})`;
        if (asked.pin) {
          pinned = { ...asked, text };
          pin?.remove();
          pin = window.L.circleMarker([asked.lat, asked.lon], { radius: 6, color: "#fff", weight: 3, fillColor: "#d00", fillOpacity: 1 }).addTo(map);
        }
        readout.textContent = asked.pin || !pinned ? text : `${text} · pinned: ${pinned.text}`;
        readout.dataset.value = answer.value === null ? "" : String(answer.value);
        readout.dataset.lon = String(asked.lon);
        readout.dataset.lat = String(asked.lat);
      } catch (error) {
        if (error.name === "AbortError") break;
        readout.textContent = `Could not read the value: ${error.detail || error.message}`;
      }
    }
    inflight = false;
  }

  fit.addEventListener("click", fitData);

  /** Show a map description: its tiles replace the shown ones; the view stays when only the
   * year or the colours change. Resolves once the visible tiles have loaded. */
  async function show(next) {
    if (!map) create();
    map.invalidateSize();
    const sameArea = info && JSON.stringify(info.tiles.bounds_wgs84) === JSON.stringify(next.tiles.bounds_wgs84);
    info = next;
    frame.dataset.loaded = "false";
    frame.dataset.year = next.year;
    frame.dataset.indicator = next.indicator;
    map.setMaxZoom(next.tiles.max_display_zoom);
    const loaded = new Promise((resolve) => {
      const options = { tileSize: next.tiles.size, maxZoom: next.tiles.max_display_zoom,
                        bounds: latLngBounds(next.tiles.bounds_wgs84), className: "map-tiles" };
      const previous = layer;
      layer = authTileLayer(tileLink(next), options);
      layer.once("load", () => { previous?.remove(); resolve(); });
      layer.addTo(map);
    });
    if (!sameArea) fitData();
    await loaded;
    frame.dataset.loaded = "true";
    if (pinned) readValue(pinned.lon, pinned.lat, true);
  }

  signal?.addEventListener("abort", () => { map?.remove(); map = null; });
  return { element, show, get map() { return map; } };
}

export function formatLonLat(lon, lat) {
  return `${Math.abs(lat).toFixed(5)}°${lat < 0 ? "S" : "N"}, ${Math.abs(lon).toFixed(5)}°${lon < 0 ? "W" : "E"}`;
}

/** The colour scale of a map description: the indicator's name (or the description's `title`,
 * e.g. a difference's) and unit, gradient bar, min, middle and max. */
export function legend(info) {
  const { scale } = info;
  const bar = h("div", { class: "legend-bar", role: "img",
                         "aria-label": `Colour scale from ${fmtNumber(scale.min, { exact: true })} to ${fmtNumber(scale.max, { exact: true })} ${info.unit}` });
  bar.style.background = `linear-gradient(to right, ${scale.stops.map(([at, colour]) => `${colour} ${at * 100}%`).join(", ")})`;
  return h("div", { class: "map-legend", dataset: { min: scale.min, max: scale.max, unit: info.unit } },
    h("p", { class: "legend-title" }, info.title || `${info.indicator} ${info.year}`, h("span", { class: "muted legend-unit" }, ` (${info.unit})`)),
    bar,
    h("div", { class: "legend-ticks" },
      h("span", { class: "legend-min" }, fmtNumber(scale.min)),
      h("span", {}, fmtNumber((scale.min + scale.max) / 2)),
      h("span", { class: "legend-max" }, fmtNumber(scale.max))),
    h("p", { class: "muted small" }, info.min === null ? "No data in this map."
      : `Data: ${fmtNumber(info.min, { exact: true })} to ${fmtNumber(info.max, { exact: true })} ${info.unit} over ${info.n_valid.toLocaleString()} pixels; `
        + "no data is transparent."),
    h("p", { class: "muted small" }, `${info.width} × ${info.height} px, ${info.crs || "no CRS"}`));
}
