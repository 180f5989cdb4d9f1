// A run of the Background Posting Scheduler, its counts updating while it is under way.
import { html } from "../html.js";
import { get } from "../api.js";
import { ErrorMessage, Loading, RunProgress, useLoad, when } from "../ui.js";

const TRIGGERS = { run_now: "Run Now", list_view: "Background Post", schedule: "Scheduled", scheduled: "Scheduled", document: "Retry now" };

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
    <${RunProgress} runId=${id} heading="h2" />`;
}
