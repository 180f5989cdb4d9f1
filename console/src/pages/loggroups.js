// Worker log groups: the results of submitted work, with every error of every document.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { del, get, query } from "../api.js";
import { ErrorMessage, FieldError, Loading, Notice, typeName, when } from "../ui.js";
import { Pager, usePages } from "./runs.js";

export function LogGroupList({ me }) {
  const [owner, setOwner] = useState("");
  const [draft, setDraft] = useState("");
  const groups = usePages((next) => get(`/worker-log-groups${query({ owner, next })}`), [owner]);
  const list = [...(groups.data?.worker_log_groups || [])].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  return html`<h1>Worker Log Groups</h1>
    <p>Each worker log group lists the results of work you submitted for background posting. Review it and fix every error before posting again.</p>
    ${me.may.schedule_job && html`<form class="filters" onSubmit=${(e) => { e.preventDefault(); setOwner(draft.trim()); }}>
      <div class="field"><label for="owner">Owner (user id)</label>
        <input id="owner" value=${draft} placeholder=${me.user_id} onInput=${(e) => setDraft(e.target.value)} aria-describedby="owner-error" />
        <${FieldError} error=${groups.error} field="owner" id="owner-error" /></div>
      <button type="submit" class="secondary">Show</button>
    </form>`}
    ${groups.loading && html`<${Loading} what="worker log groups" />`}
    <${ErrorMessage} error=${groups.error} />
    ${groups.data && (list.length === 0
      ? html`<p>No worker log groups yet.</p>`
      : html`<div class="table"><table>
        <caption>${list.length} worker log group${list.length === 1 ? "" : "s"}</caption>
        <thead><tr><th scope="col">Worker log group</th><th scope="col">Created</th><th scope="col">Owner</th></tr></thead>
        <tbody>${list.map((g) => html`<tr><th scope="row"><a href=${`#/worker-log-groups/${g.id}`}>${g.title}</a></th><td>${when(g.created_at)}</td><td>${g.owner}</td></tr>`)}</tbody>
      </table></div>`)}
    <${Pager} pages=${groups} what="worker log groups" />`;
}

const OUTCOME_WORDS = { failed: "Failed", posted: "Posted", completed: "Completed", returned: "Back to In Progress", skipped: "Skipped" };

export function LogGroupPage({ id }) {
  const group = usePages((next) => get(`/worker-log-groups/${id}${query({ next })}`), [id]);
  const [error, setError] = useState(null);
  const [deleted, setDeleted] = useState(false);
  const [confirming, setConfirming] = useState(false);
  if (group.loading && !group.data) return html`<h1>Worker Log Group</h1><${Loading} what="the worker log group" />`;
  if (group.error) return html`<h1>Worker Log Group</h1><${ErrorMessage} error=${group.error} /><p><a href="#/worker-log-groups">All worker log groups</a></p>`;
  const g = group.data;
  const remove = async () => {
    setError(null);
    try {
      await del(`/worker-log-groups/${id}`);
      setDeleted(true);
    } catch (failure) {
      setError(failure);
    }
  };
  if (deleted) return html`<h1>${g.title}</h1><${Notice} text="The worker log group is deleted: you will not be notified of these results again." /><p><a href="#/worker-log-groups">All worker log groups</a></p>`;
  const failures = g.entries.filter((e) => e.errors.length > 0);
  const errorCount = g.entries.reduce((n, e) => n + e.errors.length, 0);
  return html`<h1>${g.title}</h1>
    <p><a href="#/worker-log-groups">All worker log groups</a> · Created ${when(g.created_at)} for ${g.owner}</p>
    <dl class="counts">${Object.entries(g.summary).map(([k, v]) => html`<div><dt>${OUTCOME_WORDS[k] || k}</dt><dd>${v}</dd></div>`)}</dl>
    <section aria-labelledby="errors-heading">
      <h2 id="errors-heading">Errors (${errorCount})</h2>
      ${failures.length === 0 ? html`<p>No errors: every document in this group went through.</p>`
        : html`<ul class="error-report">${failures.map((e) => html`<li>
            <a href=${`#/document/${e.document_id}`}>${e.reference}</a> (${typeName(e.document_type)}, ${e.action}, attempt ${e.attempt}):
            <ul class="errors">${e.errors.map((x) => html`<li><code>${x.code}</code> ${x.message}${x.field ? html` <span class="muted">(${x.field})</span>` : ""}</li>`)}</ul>
          </li>`)}</ul>`}
    </section>
    <section aria-labelledby="entries-heading">
      <h2 id="entries-heading">Every result</h2>
      <div class="table"><table>
        <caption>${g.entries.length} result${g.entries.length === 1 ? "" : "s"}${group.page > 1 || g.next ? ` on page ${group.page}` : ""}</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Document</th><th scope="col">Action</th><th scope="col">Attempt</th><th scope="col">Outcome</th><th scope="col">Run</th></tr></thead>
        <tbody>${g.entries.map((e) => html`<tr>
          <td>${when(e.at)}</td><td><a href=${`#/document/${e.document_id}`}>${e.reference}</a></td><td>${e.action}</td>
          <td class="number">${e.attempt}</td><td class=${`outcome-${e.outcome}`}>${OUTCOME_WORDS[e.outcome] || e.outcome}</td>
          <td>${e.run_id ? html`<a href=${`#/runs/${e.run_id}`}>${e.run_id.slice(0, 8)}</a>` : ""}</td></tr>`)}</tbody>
      </table></div>
      <${Pager} pages=${group} what="the results" />
    </section>
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete</h2>
      <p>Deleting the worker log group stops notifications about these results.</p>
      ${!confirming && html`<button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete worker log group</button>`}
      ${confirming && html`<div class="confirm" role="group" aria-label="Confirm deleting the worker log group">
        <p>Delete ${g.title}? Its results are gone, and its e-mails stop: nobody is notified about these documents again.</p>
        <button type="button" class="danger" onClick=${remove} ref=${(b) => b && b.focus()}>Delete ${g.title}</button>
        <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>
      </div>`}
      <${ErrorMessage} error=${error} />
    </section>`;
}
