// Recurring Invoices (set-up): create one from a sales invoice template (`POST
// /recurring-invoices`), open one (`GET /recurring-invoices/{id}`): its schedule, the invoices
// it made, and Stop (asks first; `DELETE /recurring-invoices/{id}`). The API has no list of
// recurring invoices yet: the page lists those created in this browser.
import { useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { del, get, post } from "../api.js";
import { ErrorMessage, Loading, Notice, useLoad } from "../ui.js";
import { Field, focusFirstInvalid } from "./setup_fields.js";

const KEPT = "recurring-invoices";
const kept = () => { try { return JSON.parse(localStorage.getItem(KEPT) || "[]"); } catch { return []; } };

export function RecurringInvoicesPage() {
  const [form, setForm] = useState({ company: "", account: "", currency: "", description: "", quantity: "1", unit_price: "", tax_code: "", frequency: "monthly", start: "", until: "", save_and_post: false });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [openId, setOpenId] = useState("");
  const formRef = useRef(null);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null);
    const line = { description: form.description.trim(), quantity: form.quantity.trim(), unit_price: form.unit_price.trim() };
    if (form.tax_code.trim()) line.tax_code = form.tax_code.trim();
    const body = {
      template: { type: "sales_invoice", company: form.company.trim(), account: form.account.trim(), currency: form.currency.trim().toUpperCase(), document_date: form.start, lines: [line] },
      frequency: form.frequency, start: form.start, save_and_post: form.save_and_post,
    };
    if (form.until) body.until = form.until;
    try {
      const created = await post("/recurring-invoices", body);
      localStorage.setItem(KEPT, JSON.stringify([{ id: created.id, company: created.company, account: form.account.trim() }, ...kept()].slice(0, 50)));
      location.hash = `#/setup/recurring-invoices/${created.id}`;
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  const text = (label, name, api, extra = {}) => html`<${Field} label=${label} name=${api} error=${error} idPrefix="ri-">
    ${(a) => html`<input ...${a} ...${extra} value=${form[name]} onInput=${set(name)} />`}
  </${Field}>`;
  const mine = kept();
  return html`<h1>Recurring Invoices</h1>
    <p>A recurring invoice makes a sales invoice from its template each time one falls due (each run creates those due, each once).</p>
    <h2>Created in this browser</h2>
    ${mine.length ? html`<ul>${mine.map((r) => html`<li><a href=${`#/setup/recurring-invoices/${r.id}`}>${r.company} · ${r.account} · <code>${r.id.slice(0, 8)}</code></a></li>`)}</ul>` : html`<p>None yet.</p>`}
    <form onSubmit=${(e) => { e.preventDefault(); if (openId.trim()) location.hash = `#/setup/recurring-invoices/${openId.trim()}`; }} aria-label="Open a recurring invoice">
      <div class="field"><label for="ri-open">Recurring invoice id</label><input id="ri-open" value=${openId} onInput=${(e) => setOpenId(e.target.value)} /></div>
      <button type="submit" class="secondary">Open recurring invoice</button>
    </form>
    <form ref=${formRef} onSubmit=${submit} aria-labelledby="ri-new-heading" noValidate>
      <h2 id="ri-new-heading">New recurring invoice</h2>
      <fieldset disabled=${busy}>
        <legend>The invoice it makes</legend>
        <div class="form-grid">
          ${text("Company", "company", "template.company")}
          ${text("Account", "account", "template.account")}
          ${text("Currency", "currency", "template.currency")}
          ${text("Description", "description", "template.lines[0].description")}
          ${text("Quantity", "quantity", "template.lines[0].quantity", { inputmode: "decimal" })}
          ${text("Unit price", "unit_price", "template.lines[0].unit_price", { inputmode: "decimal" })}
          ${text("Tax code", "tax_code", "template.lines[0].tax_code")}
        </div>
      </fieldset>
      <fieldset disabled=${busy}>
        <legend>When it recurs</legend>
        <div class="form-grid">
          <${Field} label="Frequency" name="frequency" error=${error} idPrefix="ri-">${(a) => html`<select ...${a} value=${form.frequency} onChange=${set("frequency")}><option value="monthly">Monthly</option><option value="quarterly">Quarterly</option><option value="yearly">Yearly</option></select>`}</${Field}>
          ${text("First invoice on", "start", "start", { type: "date" })}
          ${text("No invoice after", "until", "until", { type: "date" })}
        </div>
        <label class="choice"><input type="checkbox" checked=${form.save_and_post} onChange=${set("save_and_post")} /> Save & Post each invoice (posted by the same run)</label>
      </fieldset>
      <${ErrorMessage} error=${error} />
      <button type="submit" disabled=${busy}>Create recurring invoice</button>
    </form>`;
}

export function RecurringInvoicePage({ id }) {
  const loaded = useLoad(() => get(`/recurring-invoices/${encodeURIComponent(id)}`), [id]);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  if (loaded.loading && !loaded.data) return html`<h1>Recurring invoice</h1><${Loading} what="the recurring invoice" />`;
  if (loaded.error) return html`<h1>Recurring invoice</h1><p><a href="#/setup/recurring-invoices">Recurring Invoices</a></p><${ErrorMessage} error=${loaded.error} />`;
  const r = loaded.data;
  const stop = async () => {
    setBusy(true); setError(null); setConfirming(false);
    try {
      await del(`/recurring-invoices/${encodeURIComponent(id)}`);
      setMessage("The recurring invoice is stopped: it makes no more invoices (those it made stay).");
      loaded.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const active = r.status === "active";
  return html`<h1>Recurring invoice <code>${r.id.slice(0, 8)}</code></h1>
    <p><a href="#/setup/recurring-invoices">Recurring Invoices</a></p>
    <dl class="counts">
      <div><dt>Company</dt><dd>${r.company}</dd></div>
      <div><dt>Account</dt><dd>${r.template.account}</dd></div>
      <div><dt>Frequency</dt><dd>${r.frequency}</dd></div>
      <div><dt>From</dt><dd>${r.start}</dd></div>
      ${r.until && html`<div><dt>Until</dt><dd>${r.until}</dd></div>`}
      <div><dt>Status</dt><dd data-status>${active ? "Active" : "Stopped"}</dd></div>
      <div><dt>Next invoice</dt><dd>${r.next_date || "none"}</dd></div>
    </dl>
    <h2>Invoices it made</h2>
    ${r.invoices.length ? html`<ol aria-label="Invoices it made">${r.invoices.map((d) => html`<li><a href=${`#/document/${d}`}>Invoice <code>${d.slice(0, 8)}</code></a></li>`)}</ol>` : html`<p>None yet: the first run on or after ${r.start} makes the first.</p>`}
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
    ${active && html`<button type="button" class="danger" disabled=${busy || confirming} onClick=${() => setConfirming(true)}>Stop</button>`}
    ${confirming && html`<div class="confirm" role="group" aria-label="Confirm stopping the recurring invoice">
      <p>Stop this recurring invoice? It makes no more invoices; those it made stay.</p>
      <button type="button" class="danger" onClick=${stop}>Stop recurring invoice</button>
      <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>
    </div>`}`;
}
