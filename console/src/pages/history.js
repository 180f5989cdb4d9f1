// History on every document (each change, who made it, from which status to which) and the
// administrators' Audit page (every change of reference data and settings, before and after).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { get, query } from "../api.js";
import { ErrorMessage, FieldError, Loading, when } from "../ui.js";
import { Pager, usePages } from "./runs.js";

const ACTIONS = {
  create: "Created",
  amend: "Amended",
  lines_added: "Lines added",
  queue: "Sent to the background",
  cancel: "Background posting cancelled",
  set_back: "Set back to In Progress",
  worker_items_removed: "Worker items removed",
  returned: "Returned to In Progress (attempts used up)",
  post: "Posted",
  match: "Matched",
  unmatch: "Match undone",
  discard: "Discarded",
  reverse: "Reversed",
  tax_calculated: "Tax calculated",
  tax_committed: "Tax committed",
  verification: "Verified with errors",
  reschedule_verification: "Verification rescheduled",
  complete_verification: "Verification completed",
  backfill_outstanding: "Outstanding amount filled in (upgrade)",
  close_period: "Period closed",
  reopen_period: "Period reopened",
  schedule: "Scheduled",
  unschedule: "Unscheduled",
};

export const actionName = (action) => ACTIONS[action] || action.replace(/_/g, " ");

const LABELS = { run: "Run", submitted_by: "For", transaction: "Transaction", with: "With", amount: "Amount",
  worker_items: "Worker items", step: "Step", attempts: "Attempts", reversal: "Reversal", reason: "Reason",
  date: "Date", reverses: "Reverses", credit_note_for: "Credit note for", income_schedule_of: "Income schedule of",
  post_on: "Post on", not_before: "Not before", outcome: "Outcome", verification: "Verification", fields: "Fields" };

function shown(value) {
  if (value === null || value === undefined || value === "") return "(none)";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.map(shown).join(", ");
  if ("added" in value || "removed" in value) {
    const parts = [];
    if (value.removed?.length) parts.push(`removed ${value.removed.length}`);
    if (value.added?.length) parts.push(`added ${value.added.length}`);
    return parts.join(", ") || "(no entries)";
  }
  return Object.entries(value).map(([k, v]) => `${k.replace(/_/g, " ")}: ${shown(v)}`).join("; ");
}

/** What a change did, in words: the fields before and after, then the rest by name. */
function Changes({ before, after }) {
  const names = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  if (names.length === 0) return "";
  return html`<ul class="changes">${names.map((name) => html`<li>
    <strong>${name.replace(/_/g, " ")}</strong>: ${before ? shown(before[name]) : "(none)"} → ${after ? shown(after[name]) : "(removed)"}</li>`)}</ul>`;
}

function Details({ details }) {
  const { before, after, outstanding, lines, ...rest } = details || {};
  return html`${(before || after) && html`<${Changes} before=${before} after=${after} />`}
    ${outstanding && html`<p>Outstanding: ${shown(outstanding.before)} → ${shown(outstanding.after)}</p>`}
    ${lines && html`<p>Lines: ${lines.before} → ${lines.after}</p>`}
    ${Object.keys(rest).length > 0 && html`<p>${Object.entries(rest).map(([k, v], i) => html`${i ? "; " : ""}${LABELS[k] || k.replace(/_/g, " ")}: ${shown(v)}`)}</p>`}`;
}

export function History({ document }) {
  const pages = usePages((next) => get(`/documents/${document.id}/history${query({ limit: 50, next })}`), [document.id, document.version]);
  const entries = pages.data?.history || [];
  return html`<section aria-labelledby="history-heading">
    <h2 id="history-heading">History</h2>
    ${pages.loading && !pages.data && html`<${Loading} what="the history" />`}
    <${ErrorMessage} error=${pages.error} />
    ${pages.data && (entries.length === 0
      ? html`<p>No changes are recorded for ${document.number} (it was created before the history was kept).</p>`
      : html`<div class="table"><table>
        <caption>Every change of ${document.number}, oldest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">By</th><th scope="col">What</th><th scope="col">Status</th><th scope="col">Details</th></tr></thead>
        <tbody>${entries.map((e) => html`<tr>
          <td>${when(e.at)}</td><td>${e.by}</td><th scope="row">${actionName(e.action)}</th>
          <td>${e.from_status && e.from_status !== e.to_status ? `${e.from_status} → ${e.to_status}` : e.to_status}</td>
          <td><${Details} details=${e.details} /></td></tr>`)}</tbody>
      </table></div>`)}
    <${Pager} pages=${pages} what="the history" />
  </section>`;
}

export function AuditPage({ me }) {
  const [company, setCompany] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [asked, setAsked] = useState({ company: "", from: "", to: "" });
  const pages = usePages((next) => get(`/audit${query({ ...asked, limit: 50, next })}`), [asked.company, asked.from, asked.to]);
  if (!me.may.read_audit) {
    return html`<h1>Audit</h1><p role="alert">The audit of reference data and settings is shown to System Administrators.</p>`;
  }
  const entries = pages.data?.audit || [];
  const search = (e) => { e.preventDefault(); setAsked({ company: company.trim(), from, to }); };
  return html`<h1>Audit</h1>
    <p>Every change of companies (periods, rates, tax codes, GL accounts), customers and vendors, settings and the schedule: who made it, when, and the fields before and after. Oldest first.</p>
    <form class="filters" onSubmit=${search}>
      <div class="field"><label for="audit-company">Company</label>
        <input id="audit-company" value=${company} onInput=${(e) => setCompany(e.target.value)} placeholder="Every company you may use" aria-describedby="audit-company-error" />
        <${FieldError} error=${pages.error} field="company" id="audit-company-error" /></div>
      <div class="field"><label for="audit-from">From</label>
        <input id="audit-from" type="date" value=${from} onInput=${(e) => setFrom(e.target.value)} aria-describedby="audit-from-error" />
        <${FieldError} error=${pages.error} field="from" id="audit-from-error" /></div>
      <div class="field"><label for="audit-to">To</label>
        <input id="audit-to" type="date" value=${to} onInput=${(e) => setTo(e.target.value)} aria-describedby="audit-to-error" />
        <${FieldError} error=${pages.error} field="to" id="audit-to-error" /></div>
      <button type="submit">Show</button>
    </form>
    ${pages.loading && !pages.data && html`<${Loading} what="the audit" />`}
    <${ErrorMessage} error=${pages.error} />
    ${pages.data && (entries.length === 0
      ? html`<p>No changes are recorded${asked.company ? ` for ${asked.company}` : ""}${asked.from || asked.to ? " in these dates" : ""}.</p>`
      : html`<div class="table"><table>
        <caption>Changes of reference data and settings, oldest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">By</th><th scope="col">Company</th><th scope="col">What</th><th scope="col">Change</th><th scope="col">Before → after</th></tr></thead>
        <tbody>${entries.map((e) => html`<tr>
          <td>${when(e.at)}</td><td>${e.by}</td><td>${e.company || "All (organisation)"}</td>
          <th scope="row">${e.subject}</th><td>${actionName(e.action)}</td>
          <td><${Changes} before=${e.before} after=${e.after} /></td></tr>`)}</tbody>
      </table></div>`)}
    <${Pager} pages=${pages} what="the audit" />`;
}
