// A Ready to Post document's panels. Its submitter steers their own work: Cancel background
// posting (asks first) and Retry now (a run over this one document; a Run Now user may too).
// The way out of a stuck document (System Administrator): Remove worker items, then Set back
// to In Progress. Each refusal shows the API's sentence and the items it names.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { del, get, post, put, query } from "../api.js";
import { ErrorMessage, Notice, useAction, useLoad } from "../ui.js";
import { verifiedWithErrors } from "./verification.js";

function NamedItems({ error }) {
  const items = error?.details?.worker_items;
  if (!items || items.length === 0) return null;
  return html`<ul aria-label="Worker items named">${items.map((i) => html`<li>${i.action}: attempt ${i.attempts} of ${i.max_attempts}${i.held_by_worker ? ", held by a worker now" : ""}${i.last_error ? ` – ${i.last_error}` : ""}</li>`)}</ul>`;
}

export function WayOut({ document: d, me, onChanged }) {
  // an invoice verified with errors has its own ways on, for the clerk too (verification.js)
  if (d.status !== "Ready to Post" || verifiedWithErrors(d)) return null;
  return html`<${Steering} key=${`${d.number}-${d.version}`} document=${d} me=${me} onChanged=${onChanged} />
    <${AdminWayOut} document=${d} me=${me} onChanged=${onChanged} />`;
}

function Steering({ document: d, me, onChanged }) {
  const items = useLoad(() => get(`/worker-items${query({ reference: d.number })}`), [d.number]);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [run, setRun] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const submitted = (items.data?.worker_items || []).some((i) => i.submitted_by === me.user_id);
  const mayCancel = submitted || me.may.set_back_to_in_progress;
  const mayRetry = submitted || me.may.run_now;
  if (items.loading || (!mayCancel && !mayRetry)) return null;
  const start = () => { setBusy(true); setError(null); setMessage(null); setRun(null); setConfirming(false); };
  const cancel = async () => {
    start();
    try {
      await post(`/documents/${d.id}/cancel-background`);
      setMessage(`${d.number} is out of the background and In Progress again: no run will post it.`);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const retry = async () => {
    start();
    try {
      setRun((await post(`/documents/${d.id}/retry-now`)).run_id);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="steering-heading">
    <h2 id="steering-heading">Waiting for background posting</h2>
    <p>${d.post_on ? `${d.number} is to be posted on ${d.post_on}, by the first run on or after that date.` : `${d.number} will be posted by the next run of the Background Posting Scheduler.`}</p>
    <div class="actions">
      ${mayRetry && html`<button type="button" disabled=${busy} onClick=${retry}>Retry now</button>`}
      ${mayCancel && html`<button type="button" class="danger" disabled=${busy || confirming} onClick=${() => { setError(null); setMessage(null); setConfirming(true); }}>Cancel background posting</button>`}
    </div>
    ${confirming && html`<div class="confirm" role="group" aria-label="Confirm cancelling background posting">
      <p>Take ${d.number} out of the background? Its worker items are removed and it is In Progress again; post it again when it is ready.</p>
      <button type="button" class="danger" onClick=${cancel} ref=${(b) => b && b.focus()}>Cancel background posting of ${d.number}</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it in the background</button>
    </div>`}
    <${ErrorMessage} error=${error} />
    <${NamedItems} error=${error} />
    <${Notice} text=${message} />
    ${run && html`<p class="notice" role="status">A run over ${d.number} has started: <a href=${`#/runs/${run}`}>follow run ${run.slice(0, 8)}</a>.</p>`}
  </section>`;
}

function AdminWayOut({ document: d, me, onChanged }) {
  const { error, message, busy, confirming, setConfirming, act, ask } = useAction(onChanged);
  if (d.status !== "Ready to Post" || !me.may.set_back_to_in_progress) return null;
  const removeItems = () => act(async () => {
    const answer = await del(`/documents/${d.id}/worker-items`);
    const n = answer.removed;
    return `${n} worker item${n === 1 ? "" : "s"} of ${d.number} removed: the Background Posting Scheduler will not post it. Set it back to In Progress to correct it.`;
  });
  const backToInProgress = () => act(async () => {
    await put(`/documents/${d.id}/status`, { status: "In Progress" });
    return `${d.number} is In Progress again: correct it before posting it again.`;
  });
  return html`<section aria-labelledby="way-out-heading">
    <h2 id="way-out-heading">Stuck? The way out</h2>
    <p>A System Administrator first removes the document's worker items (so no run picks it up), then sets it back to In Progress. A worker item a worker holds right now cannot be removed until that worker finishes.</p>
    <div class="actions">
      <button type="button" class="danger" disabled=${busy || confirming} onClick=${ask}>Remove worker items</button>
      <button type="button" disabled=${busy} onClick=${backToInProgress}>Set back to In Progress</button>
    </div>
    ${confirming && html`<div class="confirm" role="group" aria-label="Confirm removing worker items">
      <p>Remove every worker item of ${d.number}? The Background Posting Scheduler will no longer post it, and its submitter is not told.</p>
      <button type="button" class="danger" onClick=${removeItems} ref=${(b) => b && b.focus()}>Remove the worker items of ${d.number}</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep them</button>
    </div>`}
    <${ErrorMessage} error=${error} />
    <${NamedItems} error=${error} />
    <${Notice} text=${message} />
  </section>`;
}
