// A payable invoice verified with errors (Ready to Post, verification `with_errors`): what
// verification found (expected, invoiced and difference in total and per order line, and its
// errors) and the accounts payable clerk's three ways on (docs/invoice-verification.md):
// Reschedule verification (verified again in the next run), Set back to In Progress (its
// worker items go with it; change it and post it again) and Discard (asks first). Anyone
// logged into the company may use them, as they may post it.
import { html } from "../html.js";
import { post, put } from "../api.js";
import { ErrorMessage, Money, Notice, useAction, when } from "../ui.js";

/** The invoice waits for goods: verified with errors, still Ready to Post. */
export const verifiedWithErrors = (d) => d.status === "Ready to Post" && d.verification?.status === "with_errors";

function OrderLines({ lines, currency }) {
  return html`<div class="table"><table>
    <caption>Expected, invoiced and difference per order line</caption>
    <thead><tr><th scope="col">Order line</th><th scope="col">Description</th>
      <th scope="col" class="number">Received, not invoiced before</th>
      <th scope="col" class="number">Expected (${currency})</th><th scope="col" class="number">Invoiced (${currency})</th>
      <th scope="col" class="number">Difference (${currency})</th></tr></thead>
    <tbody>${lines.map((l) => html`<tr aria-label=${`${l.purchase_order} line ${l.line}`}>
      <th scope="row">${l.purchase_order} line ${l.line}</th><td>${l.description}</td>
      <td class="number">${l.available} of ${l.ordered} ordered</td>
      <td class="number">${l.expected}</td><td class="number">${l.invoiced}</td><td class="number">${l.difference}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

export function VerificationPanel({ document: d, onChanged }) {
  // the message is kept when the invoice has moved on
  const { error, message, busy, confirming, setConfirming, act, ask } = useAction(onChanged);
  if (!verifiedWithErrors(d)) return message ? html`<${Notice} text=${message} />` : null;
  const v = d.verification;
  const reschedule = () => act(async () => {
    await post(`/documents/${d.id}/reschedule-verification`);
    return `${d.number} is verified again in the next run of the Background Posting Scheduler.`;
  });
  const setBack = () => act(async () => {
    await put(`/documents/${d.id}/status`, { status: "In Progress" });
    return `${d.number} is In Progress again, out of the background: change it, then post it again.`;
  });
  const discard = () => act(async () => {
    await post(`/documents/${d.id}/discard`);
    return `${d.number} is discarded.`;
  });
  return html`<section aria-labelledby="verification-heading">
    <h2 id="verification-heading">Invoice verification</h2>
    <p class="warning">${d.number} was verified with errors${v.checked_at ? ` (${when(v.checked_at)})` : ""}: it charges more than the goods received and not yet invoiced are worth, beyond the tolerance. It waits in the background and is verified again in every run (these tries are not counted as attempts).</p>
    <dl class="facts">
      <div><dt>Expected</dt><dd><${Money} value=${v.expected} currency=${d.currency} /></dd></div>
      <div><dt>Invoiced</dt><dd><${Money} value=${v.invoiced} currency=${d.currency} /></dd></div>
      <div><dt>Difference</dt><dd><${Money} value=${v.difference} currency=${d.currency} /></dd></div>
      <div><dt>Tolerance</dt><dd><${Money} value=${v.tolerance} currency=${d.currency} /></dd></div>
    </dl>
    ${(v.order_lines || []).length > 0 && html`<${OrderLines} lines=${v.order_lines} currency=${d.currency} />`}
    ${(v.errors || []).length > 0 && html`<ul class="errors" aria-label="Verification errors">${v.errors.map((e) => html`<li><code>${e.code}</code> ${e.message}</li>`)}</ul>`}
    <p>When more goods have been received, reschedule it; to change what it charges, set it back to In Progress; if it should not be posted at all, discard it.</p>
    <div class="actions">
      <button type="button" disabled=${busy} onClick=${reschedule}>Reschedule verification</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${setBack}>Set back to In Progress</button>
      <button type="button" class="danger" disabled=${busy || confirming} onClick=${ask}>Discard</button>
    </div>
    ${confirming && html`<div class="confirm" role="group" aria-label="Confirm discard">
      <p>Discard ${d.number} as it is? Its worker items are removed and a discarded invoice cannot be posted.</p>
      <button type="button" class="danger" onClick=${discard} ref=${(b) => b && b.focus()}>Discard ${d.number}</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>
    </div>`}
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
  </section>`;
}
