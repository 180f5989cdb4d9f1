// A posted document's buttons: Download PDF (beside Print), Create credit note (a Complete
// sales or payable invoice: asks the date, then opens the new credit note, In Progress), Match
// (the other document chosen among the account's open items; the amount defaults to what is
// open on both) and the document's matches, each with Undo match (asks first).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { del, download, get, post, query } from "../api.js";
import { ErrorMessage, Money, Notice, typeName, useLoad, when } from "../ui.js";
import { handOver } from "./document_form.js";

const INVOICES = ["sales_invoice", "payable_invoice"];
const COUNTERPART = {
  sales_invoice: "sales_credit_note",
  sales_credit_note: "sales_invoice",
  payable_invoice: "payable_credit_note",
  payable_credit_note: "payable_invoice",
};
const OPEN_ITEM_PAGES = 5; // of 200: the open items offered to match with

const today = () => new Date().toISOString().slice(0, 10);

/** Compare two decimal strings exactly (no floating point): -1, 0 or 1. */
export function compareDecimal(a, b) {
  const parts = (v) => {
    const text = String(v).trim();
    const negative = text.startsWith("-");
    const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
    return { negative, whole: whole || "0", fraction };
  };
  const x = parts(a), y = parts(b);
  const digits = Math.max(x.fraction.length, y.fraction.length);
  const scaled = (p) => BigInt((p.negative ? "-" : "") + p.whole + p.fraction.padEnd(digits, "0"));
  const i = scaled(x), j = scaled(y);
  return i < j ? -1 : i > j ? 1 : 0;
}

const positive = (value) => value !== null && value !== undefined && compareDecimal(value, "0") > 0;

function DownloadPdf({ document: d }) {
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  if (d.status !== "In Progress" && d.status !== "Complete") return null;
  const fetchPdf = async () => {
    setBusy(true); setError(null); setMessage(null);
    try {
      const blob = await download(`/documents/${d.id}/print${query({ format: "pdf" })}`, "application/pdf");
      const url = URL.createObjectURL(blob);
      const link = Object.assign(window.document.createElement("a"), { href: url, download: `${d.number}.pdf` });
      window.document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setMessage(`${d.number}.pdf is downloaded.`);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="actions" role="group" aria-label="Printed copy">
    <button type="button" class="secondary" disabled=${busy} onClick=${fetchPdf}>Download PDF</button>
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
  </div>`;
}

function CreateCreditNote({ document: d }) {
  const [asking, setAsking] = useState(false);
  const [on, setOn] = useState(today());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (d.status !== "Complete" || !INVOICES.includes(d.type)) return null;
  const create = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null);
    try {
      const note = await post(`/documents/${d.id}/credit-note`, { document_date: on });
      handOver(note.id, { message: `${note.number} is a new credit note for ${d.number}, In Progress with ${d.number}'s lines: correct it, then post it.` });
      location.hash = `#/document/${note.id}`;
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="credit-note-heading">
    <h2 id="credit-note-heading">Credit note</h2>
    ${!asking && html`<button type="button" onClick=${() => { setAsking(true); setError(null); }}>Create credit note</button>`}
    ${asking && html`<form class="confirm" aria-label=${`Create a credit note for ${d.number}`} onSubmit=${create}>
      <p>A new ${typeName(COUNTERPART[d.type])} for ${d.account}, in ${d.currency}, with ${d.number}'s lines; it opens In Progress, ready to correct and post.</p>
      <label>Credit note date <input type="date" required value=${on} onInput=${(e) => setOn(e.target.value)}
        aria-invalid=${error?.forField?.("document_date") ? "true" : undefined} /></label>
      <button type="submit" disabled=${busy}>Create the credit note</button>
      <button type="button" class="secondary" onClick=${() => setAsking(false)}>Cancel</button>
    </form>`}
    <${ErrorMessage} error=${error} />
  </section>`;
}

/** The account's Complete documents of the other kind with something open to match. */
async function openItems(d) {
  const found = [];
  let next = null;
  for (let page = 0; page < OPEN_ITEM_PAGES; page += 1) {
    const answer = await get(`/documents${query({
      company: d.company, account: d.account, type: COUNTERPART[d.type], status: "Complete",
      outstanding: "true", limit: 200, next,
    })}`);
    found.push(...answer.documents);
    next = answer.next;
    if (!next) break;
  }
  return found.filter((o) => o.id !== d.id && o.currency === d.currency && positive(o.outstanding));
}

function MatchForm({ document: d, onChanged }) {
  const items = useLoad(() => openItems(d), [d.id, d.version]);
  const [other, setOther] = useState("");
  const [amount, setAmount] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const choose = (id) => {
    setOther(id); setError(null);
    const chosen = (items.data || []).find((o) => o.id === id);
    setAmount(chosen ? (compareDecimal(chosen.outstanding, d.outstanding) < 0 ? chosen.outstanding : d.outstanding) : "");
  };
  const match = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null); setMessage(null);
    try {
      const chosen = items.data.find((o) => o.id === other);
      const answer = await post(`/documents/${d.id}/match`, { with: other, ...(amount.trim() ? { amount: amount.trim() } : {}) });
      setMessage(`${d.number} is matched with ${chosen?.number || answer.matched_with?.number}: ${answer.outstanding} ${d.currency} is outstanding on ${d.number}, ${answer.matched_with?.outstanding} ${d.currency} on ${answer.matched_with?.number}.`);
      setOther(""); setAmount("");
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const amountError = error?.forField?.("amount");
  return html`<form aria-label=${`Match ${d.number}`} onSubmit=${match}>
    <${ErrorMessage} error=${items.error} />
    ${items.data && items.data.length === 0 && html`<p>${d.account} has no ${typeName(COUNTERPART[d.type]).toLowerCase()} in ${d.currency} with an amount open to match with ${d.number}.</p>`}
    ${items.data && items.data.length > 0 && html`
      <label>Match with <select required value=${other} onChange=${(e) => choose(e.target.value)}>
        <option value="">Choose a ${typeName(COUNTERPART[d.type]).toLowerCase()}</option>
        ${items.data.map((o) => html`<option value=${o.id}>${o.number}, ${o.document_date}: ${o.outstanding} ${o.currency} outstanding</option>`)}
      </select></label>
      <label>Amount to match (${d.currency}) <input inputmode="decimal" value=${amount} onInput=${(e) => setAmount(e.target.value)}
        aria-invalid=${amountError ? "true" : undefined} aria-describedby=${amountError ? "match-amount-error" : undefined} /></label>
      ${amountError && html`<span class="field-error" id="match-amount-error">${amountError}</span>`}
      <button type="submit" disabled=${busy || !other}>Match</button>`}
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
  </form>`;
}

function Matches({ document: d, onChanged }) {
  const [confirming, setConfirming] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const undo = async (m) => {
    setBusy(true); setError(null); setMessage(null);
    try {
      await del(`/matches/${m.id}`);
      setMessage(`The match of ${m.amount} ${d.currency} with ${m.with_number || "the other document"} is undone: it is outstanding again on both.`);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  };
  const matches = d.matches || [];
  return html`
    ${matches.length === 0 ? html`<p>${d.number} is not matched.</p>` : html`<div class="table"><table>
      <caption>Matches of ${d.number}</caption>
      <thead><tr><th scope="col">With</th><th scope="col" class="number">Amount</th><th scope="col">When</th><th scope="col">By</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
      <tbody>${matches.map((m) => html`<tr>
        <td><a href=${`#/document/${m.with}`}>${m.with_number || "the other document"}</a></td>
        <td class="number"><${Money} value=${m.amount} currency=${d.currency} /></td>
        <td>${when(m.at)}</td><td>${m.by}</td>
        <td><button type="button" class="danger" disabled=${busy || d.status !== "Complete"} onClick=${() => { setError(null); setMessage(null); setConfirming(m); }}>Undo match</button></td>
      </tr>`)}</tbody>
    </table></div>`}
    ${confirming && html`<div class="confirm" role="group" aria-label="Confirm undoing the match">
      <p>Undo the match of ${confirming.amount} ${d.currency} between ${d.number} and ${confirming.with_number || "the other document"}? The amount is outstanding again on both.</p>
      <button type="button" class="danger" disabled=${busy} onClick=${() => undo(confirming)} ref=${(b) => b && b.focus()}>Undo the match with ${confirming.with_number || "the other document"}</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(null)}>Keep it</button>
    </div>`}
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />`;
}

function Matching({ document: d, onChanged }) {
  if (!COUNTERPART[d.type] || d.status !== "Complete") return null;
  return html`<section aria-labelledby="matching-heading">
    <h2 id="matching-heading">Matching</h2>
    <p>Outstanding on ${d.number}: <${Money} value=${d.outstanding ?? "0"} currency=${d.currency} /></p>
    <${Matches} document=${d} onChanged=${onChanged} />
    ${positive(d.outstanding) && html`<${MatchForm} key=${d.version} document=${d} onChanged=${onChanged} />`}
  </section>`;
}

export function CompleteDocument({ document: d, onChanged }) {
  return html`<${DownloadPdf} document=${d} />
    <${CreateCreditNote} document=${d} />
    <${Matching} document=${d} onChanged=${onChanged} />`;
}
