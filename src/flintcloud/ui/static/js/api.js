// Talking to the FLINT Cloud API: JSON requests, RFC 9457 problems as ApiError, the optional
// bearer token (kept in sessionStorage, so it lives as long as the tab), downloads and uploads
// (both need the token, so they go through fetch/XHR rather than plain links), job polling.

const TOKEN_KEY = "flintcloud.token";
// The UI is served at <api>/ui/, so the API is one level up (also behind a path prefix).
const API_BASE = new URL("../", document.baseURI);

/** The URL of an API path ("jobs/1"); absolute URLs (the API's own links) are kept. */
export function apiUrl(path) {
  return new URL(path, API_BASE).href;
}
const FINAL = new Set(["successful", "failed", "dismissed"]);

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token is not kept */ }
  document.dispatchEvent(new CustomEvent("flint:token"));
}

function authHeaders(headers = {}) {
  const token = getToken();
  return token ? { ...headers, Authorization: `Bearer ${token}` } : headers;
}

/** An error answer of the API (a problem document), or a network failure. */
export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || (status ? `HTTP ${status}` : "Network error");
    this.detail = problem.detail || "";
    this.hint = problem.hint || "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.code = problem.code || "";
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try { return await response.json(); } catch { /* fall through */ }
  }
  const text = await response.text().catch(() => "");
  // never show an HTML error page or a trace verbatim: a short excerpt of plain text at most
  const detail = type.includes("html") ? "" : text.slice(0, 300);
  return { title: response.statusText || `HTTP ${response.status}`, detail };
}

/** The API's answer to a request; throws ApiError for a problem or a network failure. */
export async function request(path, { method = "GET", json, body, headers = {}, signal,
                                      as = "json" } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(apiUrl(path), init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError({ title: "Network error",
                         detail: "The service did not answer. Is it running?" }, 0);
  }
  if (!response.ok) {
    const error = new ApiError(await problemOf(response), response.status);
    if (response.status === 401) document.dispatchEvent(new CustomEvent("flint:unauthorized"));
    throw error;
  }
  if (as === "response") return response;
  if (response.status === 204) return null;
  if (as === "text") return response.text();
  if (as === "blob") return response.blob();
  return response.json();
}

export const api = {
  get: (path, options) => request(path, options),
  post: (path, json, options = {}) => request(path, { ...options, method: "POST", json }),
  patch: (path, json, options = {}) => request(path, { ...options, method: "PATCH", json }),
  del: (path, options = {}) => request(path, { ...options, method: "DELETE" }),
};

/** Save what `path` answers as a file (the request carries the token, a plain link would not). */
export async function download(path, fallbackName) {
  const response = await request(path, { as: "response" });
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name || "download";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

/** POST multipart form data with upload progress (fetch cannot report it). */
export function upload(path, formData, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl(path));
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText || "{}"); } catch { body = {}; }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(body); return; }
      if (xhr.status === 401) document.dispatchEvent(new CustomEvent("flint:unauthorized"));
      if (!body.title) body = { title: xhr.statusText || `HTTP ${xhr.status}` };
      reject(new ApiError(body, xhr.status));
    });
    xhr.addEventListener("error", () => reject(new ApiError(
      { title: "Network error", detail: "The upload did not reach the service." }, 0)));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    xhr.send(formData);
  });
}

export const isFinal = (status) => FINAL.has(status);

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => {
    clearTimeout(timer);
    reject(new DOMException("aborted", "AbortError"));
  }, { once: true });
});

/** Poll /jobs/{id} until the job is final, calling onUpdate with each status; returns the last. */
export async function pollJob(jobId, onUpdate, { signal, interval = 400, maxInterval = 2000 } = {}) {
  let delay = interval;
  for (;;) {
    const job = await request(`jobs/${encodeURIComponent(jobId)}`, { signal });
    onUpdate?.(job);
    if (isFinal(job.status)) return job;
    await sleep(delay, signal);
    delay = Math.min(maxInterval, delay * 1.3);
  }
}
