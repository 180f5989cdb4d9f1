// My Job Queue: the worker items of work you submitted, newest first, a page at a time, each
// with its document, account, action, attempts of the maximum, next try and last error.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { get, query } from "../api.js";
import { ErrorMessage, FieldError, Loading, typeName, when } from "../ui.js";
import { Pager, usePages } from "./runs.js";

const STATES = { queued: "Queued", in_process: "In process", failed: "Failed, will retry" };
const LIMIT = 25;

export function JobQueuePage() {
  const [state, setState] = useState("");
  const items = usePages((next) => get(`/worker-items${query({ submitted_by: "me", state, limit: LIMIT, next })}`), [state]);
  const list = items.data?.worker_items || [];
  return html`<h1>My Job Queue</h1>
    <p>The work you submitted that waits in the background, a line per document and action. Open a document to use <strong>Cancel background posting</strong> or <strong>Retry now</strong>.</p>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="queue-state">State</label>
        <select id="queue-state" value=${state} onChange=${(e) => setState(e.target.value)} aria-describedby="queue-state-error">
          <option value="">Any state</option>
          ${Object.entries(STATES).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>
        <${FieldError} error=${items.error} field="state" id="queue-state-error" /></div>
      <button type="button" class="secondary" onClick=${() => items.reload()}>Refresh</button>
    </form>
    ${items.loading && !items.data && html`<${Loading} what="your job queue" />`}
    <${ErrorMessage} error=${items.error} />
    ${items.data && (list.length === 0
      ? html`<p>Nothing of yours waits in the background${state ? " in this state" : ""}.</p>`
      : html`<div class="table"><table>
        <caption>Your queued work, newest first</caption>
        <thead><tr><th scope="col">Document</th><th scope="col">Type</th><th scope="col">Account</th><th scope="col">Action</th>
          <th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Next try</th><th scope="col">Last error</th></tr></thead>
        <tbody>${list.map((i) => html`<tr>
          <th scope="row"><a href=${`#/document/${i.document_id}`}>${i.number}</a></th>
          <td>${typeName(i.document_type)}</td>
          <td>${i.account_name || i.account || ""}</td>
          <td>${i.action.replace(/_/g, " ")}</td>
          <td>${STATES[i.state] || i.state}</td>
          <td class="number">${i.attempts} of ${i.max_attempts}</td>
          <td>${when(i.next_try)}</td>
          <td>${i.last_error || ""}</td></tr>`)}</tbody>
      </table></div>`)}
    <${Pager} pages=${items} what="your job queue" />`;
}
