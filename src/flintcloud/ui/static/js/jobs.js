// Jobs: the list (filter by status and process, pages), one job (status, logs, results, cancel),
// and the status panel other views reuse while they poll a job.

import { api, download, isFinal, pollJob } from "./api.js";
import { actionButton, clear, confirmDialog, fmtDate, fmtDuration, h, loading, progressBar,
         shortId, showProblem, statusBadge, table, toast } from "./dom.js";
import { stockResults } from "./examples.js";

const STATUSES = ["accepted", "running", "successful", "failed", "dismissed"];
const PAGE = 20;

/** A job's status as a panel: badge, progress bar, message, times, its error if it failed. */
export function jobPanel(job, { onCancel, title = "Run" } = {}) {
  const panel = h("div", { class: "job-panel", dataset: { status: job.status, job: job.jobID } });
  const running = !isFinal(job.status);
  panel.append(
    h("div", { class: "job-head" },
      h("h3", {}, title, " ", statusBadge(job.status)),
      h("a", { href: `#/jobs/${encodeURIComponent(job.jobID)}`, class: "job-link" }, `job ${shortId(job.jobID)}`)),
    progressBar(job.progress, `${title} progress`),
    h("p", { class: "job-message", "aria-live": "polite" },
      h("span", { class: "job-percent" }, `${Math.round(job.progress || 0)} %`), " · ", job.message || job.status),
    h("dl", { class: "job-times" },
      h("dt", {}, "Queued"), h("dd", {}, fmtDate(job.created)),
      h("dt", {}, "Started"), h("dd", {}, fmtDate(job.started)),
      h("dt", {}, running ? "Running for" : "Took"), h("dd", {}, job.started ? fmtDuration(job.started, job.finished) : "–"),
      h("dt", {}, "Attempts"), h("dd", {}, String(job.attempts ?? 0))));
  if (job.status === "failed" && job.error) {
    panel.append(h("div", { class: "problem", role: "alert" },
      h("p", { class: "problem-title" }, "The run failed", job.error.code ? ` (${job.error.code})` : ""),
      h("p", { class: "problem-detail" }, job.error.detail || "no detail")));
  }
  if (running && onCancel) {
    panel.append(h("div", { class: "actions" }, actionButton("Cancel run", onCancel, { class: "danger" })));
  }
  return panel;
}

/** Dismiss a queued or running job (its process is killed). */
export async function cancelJob(jobId) {
  if (!await confirmDialog("Stop this run? Its process is stopped and nothing is kept.",
                           { confirm: "Stop the run", dismiss: "Keep it running" })) return false;
  await api.del(`jobs/${encodeURIComponent(jobId)}`);
  toast("Run cancelled.", "info");
  return true;
}

/** A log viewer that refreshes while the job runs. */
export function logView(jobId, { signal } = {}) {
  const pre = h("pre", { class: "log", tabindex: "0", "aria-label": "Job log" }, "Loading…");
  const slot = h("div");
  async function refresh() {
    try {
      const log = await api.get(`jobs/${encodeURIComponent(jobId)}/logs`, { signal });
      pre.textContent = log.lines.length ? log.lines.join("\n") : "(no log lines yet)";
      pre.scrollTop = pre.scrollHeight;
      if (!isFinal(log.status) && !signal?.aborted) setTimeout(refresh, 1500);
    } catch (error) { showProblem(slot, error); }
  }
  refresh();
  return h("div", { class: "log-view" }, pre, slot);
}

export async function renderJobs(el, _parts, { signal, query }) {
  const status = query.getAll("status").filter((value) => STATUSES.includes(value));
  const process = query.get("process") || "";
  const offset = Math.max(0, Number(query.get("offset")) || 0);
  el.append(h("h1", { tabindex: "-1" }, "Jobs"),
            h("p", { class: "lead" }, "Every run queued on the service, newest first."));
  const form = h("form", { class: "filters", "aria-label": "Filter jobs" });
  const statusBoxes = h("fieldset", { class: "inline-options" }, h("legend", {}, "Status"),
    STATUSES.map((value) => h("label", {}, h("input", { type: "checkbox", name: "status", value,
                                                        checked: status.includes(value) }), ` ${value}`)));
  const processSelect = h("select", { name: "process", id: "jobs-process" }, h("option", { value: "" }, "All processes"));
  form.append(statusBoxes,
    h("div", { class: "field" }, h("label", { for: "jobs-process" }, "Process"), processSelect),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Apply"),
      h("a", { href: "#/jobs", class: "button" }, "Reset")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const box of form.querySelectorAll("input[name=status]:checked")) params.append("status", box.value);
    if (processSelect.value) params.set("process", processSelect.value);
    location.hash = `#/jobs${params.toString() ? `?${params}` : ""}`;
  });
  el.append(form);
  const listSlot = h("div", {}, loading());
  el.append(listSlot);
  api.get("processes", { signal }).then((list) => {
    for (const item of list.processes) {
      processSelect.append(h("option", { value: item.id, selected: item.id === process }, item.title));
    }
  }).catch(() => {});

  async function load() {
    const params = new URLSearchParams({ limit: PAGE, offset });
    for (const value of status) params.append("status", value);
    if (process) params.append("processID", process);
    const list = await api.get(`jobs?${params}`, { signal });
    clear(listSlot);
    if (!list.jobs.length) {
      listSlot.append(h("p", { class: "empty" }, "No jobs match."));
      return list;
    }
    listSlot.append(table([
      { label: "Job", value: (job) => h("a", { href: `#/jobs/${encodeURIComponent(job.jobID)}` }, shortId(job.jobID)) },
      { label: "Process", value: (job) => job.processID },
      { label: "Status", value: (job) => statusBadge(job.status) },
      { label: "Progress", value: (job) => h("span", { class: "progress-cell" }, progressBar(job.progress, `job ${shortId(job.jobID)} progress`), `${job.progress} %`) },
      { label: "Message", value: (job) => job.error?.detail || job.message },
      { label: "Created", value: (job) => fmtDate(job.created) },
      { label: "Duration", value: (job) => (job.started ? fmtDuration(job.started, job.finished) : "–") },
      { label: "Simulation", value: (job) => (job.simulation
        ? h("a", { href: `#/simulations/${encodeURIComponent(job.simulation)}/run` }, shortId(job.simulation)) : "–") },
    ], list.jobs, { caption: `${list.numberMatched} job${list.numberMatched === 1 ? "" : "s"}` }));
    const pager = h("nav", { class: "pager", "aria-label": "Pages" });
    const link = (label, to) => {
      const params2 = new URLSearchParams(query);
      params2.set("offset", String(to));
      return h("a", { class: "button", href: `#/jobs?${params2}` }, label);
    };
    if (offset > 0) pager.append(link("← Newer", Math.max(0, offset - PAGE)));
    pager.append(h("span", {}, `${offset + 1}–${offset + list.jobs.length} of ${list.numberMatched}`));
    if (offset + PAGE < list.numberMatched) pager.append(link("Older →", offset + PAGE));
    listSlot.append(pager);
    return list;
  }

  // refresh while some job on the page is still queued or running
  const tick = async () => {
    try {
      const list = await load();
      if (list.jobs.some((job) => !isFinal(job.status)) && !signal.aborted) setTimeout(tick, 2000);
    } catch (error) { showProblem(listSlot, error); }
  };
  await tick();
}

export async function renderJob(el, jobId, { signal }) {
  el.append(h("p", { class: "breadcrumb" }, h("a", { href: "#/jobs" }, "Jobs"), " / ", shortId(jobId)));
  const heading = h("h1", { tabindex: "-1" }, `Job ${shortId(jobId)}`);
  el.append(heading);
  const panelSlot = h("div", {}, loading());
  const extra = h("div");
  el.append(panelSlot, extra);
  let job;
  const draw = (current) => {
    job = current;
    heading.textContent = `${current.processID} job ${shortId(current.jobID)}`;
    clear(panelSlot);
    panelSlot.append(jobPanel(current, { title: "Status", onCancel: async () => {
      if (await cancelJob(current.jobID)) draw(await api.get(`jobs/${encodeURIComponent(current.jobID)}`));
    } }));
    if (current.simulation) {
      panelSlot.append(h("p", {}, "Simulation: ",
        h("a", { href: `#/simulations/${encodeURIComponent(current.simulation)}/results` }, "open its results")));
    }
  };
  try {
    draw(await api.get(`jobs/${encodeURIComponent(jobId)}`, { signal }));
  } catch (error) {
    showProblem(panelSlot, error);
    return;
  }
  extra.append(h("section", { class: "panel" }, h("h2", {}, "Log"), logView(jobId, { signal })));
  if (!isFinal(job.status)) {
    try { await pollJob(jobId, draw, { signal }); } catch (error) {
      if (error.name !== "AbortError") showProblem(panelSlot, error);
      return;
    }
  }
  if (job.status === "successful") {
    const results = h("section", { class: "panel" }, h("h2", {}, "Results"));
    extra.append(results);
    try {
      const outputs = await api.get(`jobs/${encodeURIComponent(jobId)}/results`, { signal });
      results.append(h("ul", { class: "downloads" }, Object.entries(outputs).map(([id, output]) => h("li", {},
        actionButton(`Download ${output.title || id}`, () => download(output.href, id))))));
      if (["point", "rothc"].includes(job.processID) && outputs.stock) {
        results.append(await stockResults(job, { signal }));
      }
    } catch (error) { showProblem(results, error); }
  }
  const remove = actionButton(isFinal(job.status) ? "Delete job" : "Cancel job", async () => {
    const final = isFinal(job.status);
    if (!await confirmDialog(final ? "Delete this job and its files?" : "Stop this job? Nothing of it is kept.",
                             { confirm: final ? "Delete the job" : "Stop the job",
                               dismiss: final ? "Keep it" : "Keep it running" })) return;
    try {
      await api.del(`jobs/${encodeURIComponent(jobId)}`);
      toast(final ? "Job deleted." : "Job cancelled.", "info");
      location.hash = "#/jobs";
    } catch (error) { showProblem(extra, error); }
  }, { class: "danger" });
  extra.append(h("div", { class: "actions" }, remove));
}
