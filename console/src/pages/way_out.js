// The way out of a stuck Ready to Post document (System Administrator): Remove worker items,
// then Set back to In Progress. Each refusal shows the API's sentence and the items it names.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { del, put } from "../api.js";
import { ErrorMessage, Notice } from "../ui.js";

function NamedItems({ error }) {
  const items = error?.details?.worker_items;
  if (!items || items.length === 0) return null;
  return html`<ul aria-label="Worker items named">${items.map((i) => html`<li>${i.action}: attempt ${i.attempts} of ${i.max_attempts}${i.held_by_worker ? ", held by a worker now" : ""}${i.last_error ? ` – ${i.last_error}` : ""}</li>`)}</ul>`;
}

export function WayOut({ document: d, me, onChanged }) {
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  if (d.status !== "Ready to Post" || !me.may.set_back_to_in_progress) return null;
  const act = async (work) => {
    setBusy(true); setError(null); setMessage(null); setConfirming(false);
    try {
      setMessage(await work());
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
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
      <button type="button" class="danger" disabled=${busy || confirming} onClick=${() => { setError(null); setMessage(null); setConfirming(true); }}>Remove worker items</button>
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
