// One document: header, lines (paged), status and the actions it allows, its transaction,
// its worker items and the errors of its last background attempt; for a payable invoice
// verified with errors, what verification found and the clerk's ways on (verification.js).
// An In Progress document is a form (document_form.js): its header and lines can be
// corrected, saved, previewed, posted.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { call, get, post, query } from "../api.js";
import { ErrorMessage, Loading, Money, Notice, Status, typeName, useAction, useLoad, when } from "../ui.js";
import { WayOut } from "./way_out.js";
import { Reversal } from "./reverse.js";
import { DocumentForm, Outcome, Totals, takeOutcome } from "./document_form.js";
import { CompleteDocument } from "./document_complete.js";
import { History } from "./history.js";
import { VerificationPanel, verifiedWithErrors } from "./verification.js";

const LINES = 50;
const LOG_GROUPS_SEARCHED = 10;

function Lines({ id, document }) {
  const [offset, setOffset] = useState(0);
  const page = useLoad(
    () => (offset === 0 ? Promise.resolve(document) : get(`/documents/${id}${query({ lines_offset: offset, lines_limit: LINES })}`)),
    [id, offset, document],
  );
  const lines = (page.data?.lines || []).slice(0, LINES);
  const journal = document.type === "journal";
  const total = document.line_count;
  return html`<section aria-labelledby="lines-heading">
    <h2 id="lines-heading">Lines</h2>
    ${total === 0 ? html`<p>This document has no lines yet.</p>` : html`
    <div class="table" aria-busy=${page.loading}><table>
      <caption>Lines ${offset + 1}–${offset + lines.length} of ${total}</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Description</th>
        ${journal
          ? html`<th scope="col">GL account</th><th scope="col">Account</th><th scope="col" class="number">Value</th>`
          : html`<th scope="col" class="number">Quantity</th><th scope="col" class="number">Unit price</th><th scope="col">Tax code</th><th scope="col">GL account</th>`}
      </tr></thead>
      <tbody>${lines.map((l, i) => html`<tr>
        <td class="number">${offset + i + 1}</td><td>${l.description}</td>
        ${journal
          ? html`<td>${l.gl_account}</td><td>${l.account || ""}</td><td class="number">${l.value}</td>`
          : html`<td class="number">${l.quantity}</td><td class="number">${l.unit_price}</td><td>${l.tax_code || ""}</td><td>${l.gl_account || ""}</td>`}
      </tr>`)}</tbody>
    </table></div>
    ${total > LINES && html`<nav class="pager" aria-label="Line pages">
      <button type="button" class="secondary" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - LINES))}>Previous lines</button>
      <button type="button" class="secondary" disabled=${offset + LINES >= total} onClick=${() => setOffset(offset + LINES)}>Next lines</button>
    </nav>`}`}
  </section>`;
}

function Transaction({ id }) {
  const tx = useLoad(() => get(`/documents/${id}/transaction`), [id]);
  if (tx.loading) return html`<${Loading} what="the transaction" />`;
  if (tx.error) return html`<section aria-labelledby="tx-heading"><h2 id="tx-heading">Transaction</h2><${ErrorMessage} error=${tx.error} /></section>`;
  const t = tx.data;
  return html`<section aria-labelledby="tx-heading">
    <h2 id="tx-heading">Transaction ${t.number}</h2>
    <dl class="facts">
      <div><dt>Period</dt><dd>${t.period}</dd></div>
      <div><dt>Posted</dt><dd>${when(t.posted_at)} by ${t.posted_by}</dd></div>
      <div><dt>Rates</dt><dd>1 ${t.currency} = ${t.rate_document_to_home} ${t.home_currency}; 1 ${t.home_currency} = ${t.rate_home_to_dual} ${t.dual_currency}</dd></div>
    </dl>
    <div class="table"><table>
      <caption>${t.line_count} transaction line${t.line_count === 1 ? "" : "s"}</caption>
      <thead><tr><th scope="col">Kind</th><th scope="col">GL account</th><th scope="col">Account</th><th scope="col">Description</th>
        <th scope="col" class="number">Document (${t.currency})</th><th scope="col" class="number">Home (${t.home_currency})</th><th scope="col" class="number">Dual (${t.dual_currency})</th></tr></thead>
      <tbody>${t.lines.map((l) => html`<tr><td>${l.kind}</td><td>${l.gl_account}</td><td>${l.account || ""}</td><td>${l.description}</td>
        <td class="number">${l.document_value}</td><td class="number">${l.home_value}</td><td class="number">${l.dual_value}</td></tr>`)}</tbody>
    </table></div>
    ${t.totals && html`<dl class="facts totals">
      ${Object.entries(t.totals).map(([k, v]) => html`<div><dt>${k[0].toUpperCase() + k.slice(1)}</dt><dd><${Money} value=${v} currency=${t.currency} /></dd></div>`)}
    </dl>`}
    ${t.discount
      ? html`<h3>Settlement discount</h3>
        <p>Due ${t.discount.due_date} (account currency ${t.discount.account_currency}).</p>
        <div class="table"><table>
          <caption>Discount if paid by</caption>
          <thead><tr><th scope="col">Paid by</th><th scope="col" class="number">Days</th><th scope="col" class="number">Percent</th>
            <th scope="col" class="number">Discount, document currency (${t.currency})</th><th scope="col" class="number">Discount, account currency (${t.discount.account_currency})</th></tr></thead>
          <tbody>${t.discount.tiers.map((d) => html`<tr><td>${d.date}</td><td class="number">${d.days}</td><td class="number">${d.percent}%</td>
            <td class="number">${d.document_amount}</td><td class="number">${d.account_amount}</td></tr>`)}</tbody>
        </table></div>`
      : html`<p>No settlement discount.</p>`}
  </section>`;
}

/** The document's own worker items: numbers are per company, so the items of another
 * company's document of the same number are left out. */
async function ownWorkerItems(document) {
  const { worker_items: items } = await get(`/worker-items${query({ reference: document.number })}`);
  return items.filter((i) => i.document_id === document.id);
}

function WorkerItems({ document }) {
  const number = document.number;
  const items = useLoad(async () => ({ worker_items: await ownWorkerItems(document) }), [document.id, number]);
  return html`<section aria-labelledby="items-heading">
    <h2 id="items-heading">Worker items</h2>
    ${items.loading && html`<${Loading} what="worker items" />`}
    <${ErrorMessage} error=${items.error} />
    ${items.data && (items.data.worker_items.length === 0
      ? html`<p>No worker items remain for ${number}.</p>`
      : html`<div class="table"><table>
        <caption>Worker items for ${number}</caption>
        <thead><tr><th scope="col">Action</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Held by a worker</th><th scope="col">Submitted by</th><th scope="col">Worker log group</th></tr></thead>
        <tbody>${items.data.worker_items.map((i) => html`<tr>
          <td>${i.action}</td><td>${i.attempts} of ${i.max_attempts}</td><td>${i.last_error || "None"}</td>
          <td>${i.held_by_worker ? "Yes" : "No"}</td><td>${i.submitted_by}</td>
          <td>${i.log_group ? html`<a href=${`#/worker-log-groups/${i.log_group}`}>Open</a>` : ""}</td></tr>`)}</tbody>
      </table></div>`)}
  </section>`;
}

/** This document's entries in its worker items' log groups and the caller's newest groups. */
async function backgroundAttempts(document) {
  const [items, { worker_log_groups: groups }] = await Promise.all([
    ownWorkerItems(document),
    get("/worker-log-groups"),
  ]);
  const newest = [...groups].sort((a, b) => (a.created_at < b.created_at ? 1 : -1)).slice(0, LOG_GROUPS_SEARCHED);
  const ids = [...new Set([...items.map((i) => i.log_group).filter(Boolean), ...newest.map((g) => g.id)])];
  const found = [];
  for (const id of ids) {
    let full;
    try {
      full = await get(`/worker-log-groups/${id}`);
    } catch (failure) {
      if (failure.status === 404) continue; // deleted, or another user's
      throw failure;
    }
    for (const entry of full.entries) if (entry.document_id === document.id) found.push({ ...entry, group: id });
  }
  return found.sort((a, b) => (a.at < b.at ? 1 : -1));
}

function ErrorList({ errors }) {
  return html`<ul class="errors">${errors.map((e) => html`<li><code>${e.code}</code> ${e.message}${e.field ? html` <span class="muted">(${e.field})</span>` : ""}</li>`)}</ul>`;
}

function LastBackgroundErrors({ document }) {
  const attempts = useLoad(() => backgroundAttempts(document), [document.id, document.version]);
  const own = document.last_background_errors;
  const last = attempts.data?.[0];
  return html`<section aria-labelledby="attempt-heading">
    <h2 id="attempt-heading">Last background attempt</h2>
    ${Array.isArray(own) && own.length > 0 && html`<p>The last background attempt failed:</p><${ErrorList} errors=${own} />`}
    ${own && !Array.isArray(own) && own.errors && html`<p>The last background attempt (${when(own.at)}) failed:</p><${ErrorList} errors=${own.errors} />`}
    ${attempts.loading && html`<${Loading} what="background attempts" />`}
    <${ErrorMessage} error=${attempts.error} />
    ${attempts.data && (last
      ? html`<p>${when(last.at)}: ${last.action}, attempt ${last.attempt}, <strong>${last.outcome}</strong>
          (<a href=${`#/worker-log-groups/${last.group}`}>worker log group</a>${last.run_id ? html`, <a href=${`#/runs/${last.run_id}`}>run</a>` : ""}).</p>
        ${last.errors.length > 0 ? html`<${ErrorList} errors=${last.errors} />` : html`<p>No errors.</p>`}`
      : !own && html`<p>No background attempt of this document is in its worker items' or your recent worker log groups.</p>`)}
  </section>`;
}

function Actions({ document, me, onChanged, onRefused, unsaved }) {
  // a refusal also goes to the form, which shows the problems it names at their fields
  const { error, setError, message, busy, confirming, setConfirming, act } = useAction(
    onChanged,
    onRefused,
  );
  const [printable, setPrintable] = useState(null);
  const frame = useRef(null);
  const d = document;
  const postIt = () => act(async () => {
    const answer = await post(`/documents/${d.id}/post`, { mode: "auto" });
    return answer.status === "Complete"
      ? `${d.number} is posted: transaction ${answer.transaction_number}.`
      : `${d.number} is Ready to Post: the Background Posting Scheduler posts it at its next run.`;
  });
  const postAndMatch = () => act(async () => {
    const answer = await post(`/documents/${d.id}/post-and-match`);
    return `${d.number} is posted and matched with ${answer.source_document_number || "its invoice"}.`;
  });
  const discard = () => act(async () => { await post(`/documents/${d.id}/discard`); return `${d.number} is discarded.`; });
  const print = async () => {
    setError(null);
    try {
      setPrintable(await call("GET", `/documents/${d.id}/print`));
    } catch (failure) {
      setError(failure);
    }
  };
  const creditNote = d.type === "sales_credit_note" || d.type === "payable_credit_note";
  const inProgress = d.status === "In Progress";
  return html`<section aria-labelledby="actions-heading">
    <h2 id="actions-heading">Actions</h2>
    ${d.status === "Ready to Post" && !verifiedWithErrors(d) && html`<p class="locked" role="note"><strong>Locked:</strong> ${d.number} is Ready to Post. The Background Posting Scheduler will post it at its next run; until then it cannot be amended, discarded, posted again or printed.
      ${me.may.set_back_to_in_progress ? " If it is stuck, a System Administrator can set it back to In Progress once no worker items remain." : ""}</p>`}
    ${d.status === "Complete" && html`<p>${d.number} is posted${d.transaction_number ? ` (transaction ${d.transaction_number})` : ""}.</p>`}
    ${d.status === "Discarded" && html`<p>${d.number} is discarded.</p>`}
    ${inProgress && unsaved && html`<p class="warning" id="unsaved-note">The form has unsaved changes: Post posts ${d.number} as last saved; Save & Post saves them and posts.</p>`}
    <div class="actions">
      ${inProgress && html`<button type="button" disabled=${busy} onClick=${postIt} aria-describedby=${unsaved ? "unsaved-note" : undefined}>Post</button>`}
      ${inProgress && creditNote && d.source_document && html`<button type="button" disabled=${busy} onClick=${postAndMatch}>Post & Match</button>`}
      ${(inProgress || d.status === "Complete") && html`<button type="button" class="secondary" disabled=${busy} onClick=${print}>Print</button>`}
      ${inProgress && !confirming && html`<button type="button" class="danger" disabled=${busy} onClick=${() => setConfirming(true)}>Discard</button>`}
    </div>
    ${confirming && html`<div class="confirm" role="group" aria-label="Confirm discard">
      <p>Discard ${d.number}? A discarded document cannot be posted.</p>
      <button type="button" class="danger" onClick=${discard} ref=${(b) => b && b.focus()}>Discard ${d.number}</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>
    </div>`}
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
    ${printable && html`<div class="printable">
      <iframe title=${`Printable ${d.number}`} srcdoc=${printable} ref=${frame}></iframe>
      <button type="button" onClick=${() => frame.current?.contentWindow?.print()}>Print this copy</button>
      <button type="button" class="secondary" onClick=${() => setPrintable(null)}>Close</button>
    </div>`}
  </section>`;
}

export function DocumentPage({ id, me }) {
  const doc = useLoad(() => get(`/documents/${id}${query({ lines_limit: LINES })}`), [id]);
  const [outcome, setOutcome] = useState(() => takeOutcome(id)); // kept across reloads
  const [unsaved, setUnsaved] = useState(false); // the form holds changes not saved yet
  const arrived = useRef(Boolean(outcome) && !outcome.error); // saved on the new document's page
  useEffect(() => { // then the focus moves to this page's heading (a refusal focuses its field)
    if (!doc.data || !arrived.current) return;
    arrived.current = false;
    document.querySelector("main h1")?.focus();
  }, [doc.data]);
  if (doc.loading && !doc.data) return html`<${Loading} what="the document" />`;
  if (doc.error) return html`<h1>Document</h1><${ErrorMessage} error=${doc.error} />`;
  const d = doc.data;
  const inProgress = d.status === "In Progress";
  const large = d.line_count > 1000; // its lines are listed; the form appends to them
  return html`<h1 tabindex="-1">${typeName(d.type)} ${d.number} <${Status} status=${d.status} /></h1>
    <p><a href=${`#/documents/${d.type}`}>Back to the list</a></p>
    <dl class="facts">
      <div><dt>Company</dt><dd>${d.company}</dd></div>
      ${d.account && html`<div><dt>Account</dt><dd>${d.account}</dd></div>`}
      <div><dt>Document date</dt><dd>${d.document_date}</dd></div>
      <div><dt>Currency</dt><dd>${d.currency}</dd></div>
      <div><dt>Tax</dt><dd>${d.tax_mode === "avatax" ? "AvaTax" : "Built-in"}${d.tax ? `: ${d.tax.total} (${d.tax.status})` : ""}</dd></div>
      ${d.reference && html`<div><dt>Reference</dt><dd>${d.reference}</dd></div>`}
      ${d.description && html`<div><dt>Description</dt><dd>${d.description}</dd></div>`}
      ${d.outstanding !== undefined && d.outstanding !== null && html`<div><dt>Outstanding</dt><dd><${Money} value=${d.outstanding} currency=${d.currency} /></dd></div>`}
      ${d.source_document && html`<div><dt>Credits invoice</dt><dd><a href=${`#/document/${d.source_document}`}>${d.source_document_number || "the invoice"}</a></dd></div>`}
      <div><dt>Created</dt><dd>${when(d.created_at)} by ${d.created_by}</dd></div>
      ${d.posted_at && html`<div><dt>Posted</dt><dd>${when(d.posted_at)} by ${d.posted_by}</dd></div>`}
    </dl>
    <${Outcome} outcome=${outcome} />
    ${inProgress && html`<${DocumentForm} type=${d.type} document=${d} me=${me}
      outcome=${outcome} setOutcome=${setOutcome} onSaved=${doc.reload} onUnsaved=${setUnsaved} />`}
    ${(inProgress || d.status === "Ready to Post") && d.type !== "journal" && html`<${Totals} id=${id} version=${d.version} />`}
    <${Actions} document=${d} me=${me} onChanged=${doc.reload} unsaved=${inProgress && unsaved}
      onRefused=${inProgress ? (failure) => setOutcome({ error: failure, shownElsewhere: true }) : undefined} />
    <${VerificationPanel} document=${d} onChanged=${doc.reload} />
    <${CompleteDocument} document=${d} onChanged=${doc.reload} />
    <${WayOut} document=${d} me=${me} onChanged=${doc.reload} />
    <${Reversal} document=${d} onChanged=${doc.reload} />
    ${(!inProgress || large) && html`<${Lines} id=${id} document=${d} />`}
    ${d.status === "Complete" && html`<${Transaction} id=${id} />`}
    <${WorkerItems} key=${`${d.number}-${d.version}`} document=${d} />
    <${LastBackgroundErrors} document=${d} />
    <${History} document=${d} />`;
}

