// A run of the Background Posting Scheduler, its counts updating while it is under way.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { download, get, query } from "../api.js";
import { ErrorMessage, Loading, Notice, RunProgress, typeName, useLoad, when } from "../ui.js";
import { Pager, usePages } from "./runs.js";

const TRIGGERS = { run_now: "Run Now", list_view: "Background Post", schedule: "Scheduled", scheduled: "Scheduled", document: "Retry now" };
const OUTCOMES = {
  posted: "Posted", completed: "Completed", tax_calculated: "Tax calculated", tax_committed: "Tax committed",
  failed: "Failed", returned_to_in_progress: "Back to In Progress", abandoned: "Abandoned", skipped: "Skipped",
  cancelled: "Cancelled",
};
const LIMIT = 100;

function DownloadCsv({ id, outcome }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const fetchCsv = async () => {
    setBusy(true); setError(null); setMessage(null);
    try {
      const blob = await download(`/runs/${id}/results${query({ outcome, format: "csv", limit: 1000 })}`, "text/csv");
      const url = URL.createObjectURL(blob);
      const name = `run-${id.slice(0, 12)}${outcome ? `-${outcome}` : ""}.csv`;
      const link = Object.assign(window.document.createElement("a"), { href: url, download: name });
      window.document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setMessage(`${name} is downloaded.`);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="actions">
    <button type="button" class="secondary" disabled=${busy} onClick=${fetchCsv}>Download CSV</button>
    <${ErrorMessage} error=${error} /><${Notice} text=${message} />
  </div>`;
}

function RunResults({ id }) {
  const [outcome, setOutcome] = useState("");
  const results = usePages((next) => get(`/runs/${id}/results${query({ outcome, limit: LIMIT, next })}`), [id, outcome]);
  const rows = results.data?.results || [];
  return html`<section aria-labelledby="results-heading">
    <h2 id="results-heading">Results</h2>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="result-outcome">Outcome</label>
        <select id="result-outcome" value=${outcome} onChange=${(e) => setOutcome(e.target.value)}>
          <option value="">Any outcome</option>
          ${Object.entries(OUTCOMES).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select></div>
      <button type="button" class="secondary" onClick=${() => results.reload()}>Refresh</button>
    </form>
    <${DownloadCsv} id=${id} outcome=${outcome} />
    ${results.loading && !results.data && html`<${Loading} what="the run's results" />`}
    <${ErrorMessage} error=${results.error} />
    ${results.data && (rows.length === 0
      ? html`<p>No results${outcome ? " with this outcome" : ""} on this page.</p>`
      : html`<div class="table"><table>
        <caption>What the run did, a row per document and action</caption>
        <thead><tr><th scope="col">Document</th><th scope="col">Type</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Attempt</th><th scope="col">Errors</th><th scope="col">When</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr>
          <th scope="row"><a href=${`#/document/${r.document_id}`}>${r.number}</a></th>
          <td>${typeName(r.document_type)}</td><td>${r.action.replace(/_/g, " ")}</td>
          <td class=${`outcome-${r.outcome}`}>${OUTCOMES[r.outcome] || r.outcome}</td>
          <td class="number">${r.attempt}</td>
          <td>${r.errors.length ? html`<ul class="errors">${r.errors.map((x) => html`<li>${x.message}</li>`)}</ul>` : ""}</td>
          <td>${when(r.at)}</td></tr>`)}</tbody>
      </table></div>`)}
    <${Pager} pages=${results} what="the run's results" />
  </section>`;
}

export function RunPage({ id }) {
  const run = useLoad(() => get(`/runs/${id}`), [id]);
  if (run.loading) return html`<h1>Run</h1><${Loading} what="the run" />`;
  if (run.error) return html`<h1>Run</h1><${ErrorMessage} error=${run.error} />`;
  const r = run.data;
  const scope = r.scope.companies === "all" ? "every company" : r.scope.companies.join(", ");
  return html`<h1>${TRIGGERS[r.trigger] || r.trigger} run</h1>
    <dl class="facts">
      <div><dt>Requested by</dt><dd>${r.requested_by}</dd></div>
      <div><dt>Started</dt><dd>${when(r.created_at)}</dd></div>
      ${r.scheduled_for && html`<div><dt>Scheduled for</dt><dd>${when(r.scheduled_for)}</dd></div>`}
      ${r.scope.document
        ? html`<div><dt>Document</dt><dd><a href=${`#/document/${r.scope.document}`}>${r.scope.reference || r.scope.document}</a></dd></div>`
        : html`<div><dt>Documents</dt><dd>${r.scope.document_type ? r.scope.document_type.replace(/_/g, " ") : "every type"} in ${scope}</dd></div>`}
    </dl>
    <${RunProgress} runId=${id} heading="h2" />
    <${RunResults} id=${id} />
    <p><a href="#/runs">All runs</a></p>`;
}
