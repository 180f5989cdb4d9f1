// Customers and Vendors (set-up): a company's accounts (`GET /accounts?company=&kind=`), New
// account (`POST /accounts`) and Amend (`PATCH /accounts/{id}`): name, trading currencies,
// days due and e-mail. A refusal about a field stands next to it.
import { useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, patch, post, query } from "../api.js";
import { ErrorMessage, Loading, Notice, useLoad } from "../ui.js";
import { Field, focusFirstInvalid } from "./setup_fields.js";

const blank = { id: "", name: "", kind: "customer", trading_currencies: "", days_due: "", email: "" };
const formOf = (a) => ({
  id: a.id, name: a.name, kind: a.kind, trading_currencies: a.trading_currencies.join(", "),
  days_due: a.credit_terms ? String(a.credit_terms.days_due) : "", email: a.email || "",
});

export function AccountsPage() {
  const companies = useLoad(() => get("/companies?limit=200"), []);
  const [company, setCompany] = useState("");
  const [kind, setKind] = useState("");
  const [token, setToken] = useState(null);
  const [editing, setEditing] = useState(null); // null: new account; else the account amended
  const [form, setForm] = useState(blank);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const list = useLoad(() => (company ? get(`/accounts${query({ company, kind, next: token })}`) : Promise.resolve(null)), [company, kind, token]);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null); setMessage(null);
    const body = {
      name: form.name.trim(),
      trading_currencies: form.trading_currencies.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase()),
      email: form.email.trim() || null,
    };
    if (form.days_due.trim()) body.credit_terms = { days_due: Number(form.days_due), discounts: editing?.credit_terms?.discounts || [] };
    try {
      if (editing) {
        await patch(`/accounts/${encodeURIComponent(editing.id)}`, body);
        setMessage(`Account ${editing.id} is saved.`);
      } else {
        await post("/accounts", { ...body, id: form.id.trim(), company, kind: form.kind, email: body.email || undefined });
        setMessage(`Account ${form.id.trim()} is created.`);
      }
      setEditing(null); setForm(blank);
      list.reload();
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  const text = (label, name, hint) => html`<${Field} label=${label} name=${name === "days_due" ? "credit_terms.days_due" : name} error=${error} hint=${hint} idPrefix="acct-">
    ${(a) => html`<input ...${a} value=${form[name]} onInput=${set(name)} />`}
  </${Field}>`;
  return html`<h1>Customers and Vendors</h1>
    ${companies.loading && html`<${Loading} what="the companies" />`}
    <${ErrorMessage} error=${companies.error} />
    ${companies.data && html`<div class="filters">
      <div class="field"><label for="acct-company">Company</label>
        <select id="acct-company" value=${company} onChange=${(e) => { setCompany(e.target.value); setToken(null); setEditing(null); setForm(blank); }}>
          <option value="">Choose a company</option>
          ${companies.data.companies.map((c) => html`<option value=${c.id}>${c.id} – ${c.name}</option>`)}
        </select></div>
      <div class="field"><label for="acct-kind">Show</label>
        <select id="acct-kind" value=${kind} onChange=${(e) => { setKind(e.target.value); setToken(null); }}>
          <option value="">Customers and vendors</option><option value="customer">Customers</option><option value="vendor">Vendors</option>
        </select></div>
    </div>`}
    ${company && list.data && html`<div class="table"><table>
      <caption>Accounts of ${company}</caption>
      <thead><tr><th scope="col">Account</th><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Trading currencies</th><th scope="col">Days due</th><th scope="col">E-mail</th><th scope="col">Action</th></tr></thead>
      <tbody>
        ${list.data.accounts.map((a) => html`<tr>
          <td>${a.id}</td><td>${a.name}</td><td>${a.kind === "customer" ? "Customer" : "Vendor"}</td><td>${a.trading_currencies.join(", ")}</td>
          <td>${a.credit_terms ? a.credit_terms.days_due : "the company's"}</td><td>${a.email || ""}</td>
          <td><button type="button" class="secondary" aria-label=${`Amend ${a.id}`} onClick=${() => { setEditing(a); setForm(formOf(a)); setError(null); setMessage(null); }}>Amend</button></td>
        </tr>`)}
        ${list.data.accounts.length === 0 && html`<tr><td colspan="7">No accounts on this page.</td></tr>`}
      </tbody>
    </table></div>
    ${list.data.next && html`<button type="button" class="secondary" onClick=${() => setToken(list.data.next)}>Next page</button>`}`}
    <${ErrorMessage} error=${list.error} />
    ${company && html`<form ref=${formRef} onSubmit=${submit} aria-labelledby="acct-form-heading" noValidate>
      <h2 id="acct-form-heading">${editing ? `Amend ${editing.id}` : "New account"}</h2>
      <fieldset disabled=${busy}>
        <legend>${editing ? `${editing.id} of ${company}` : `A customer or vendor of ${company}`}</legend>
        <div class="form-grid">
          ${!editing && text("Account id", "id")}
          ${text("Account name", "name")}
          ${!editing && html`<${Field} label="Kind" name="kind" error=${error} idPrefix="acct-">${(a) => html`<select ...${a} value=${form.kind} onChange=${set("kind")}><option value="customer">Customer</option><option value="vendor">Vendor</option></select>`}</${Field}>`}
          ${text("Trading currencies", "trading_currencies", "Separated by commas; the first is the account's currency.")}
          ${text("Days due", "days_due", "Empty: the company's credit terms.")}
          ${text("E-mail", "email")}
        </div>
      </fieldset>
      <${ErrorMessage} error=${error} />
      <${Notice} text=${message} />
      <div class="actions">
        <button type="submit" disabled=${busy}>${editing ? "Save account" : "Create account"}</button>
        ${editing && html`<button type="button" class="secondary" onClick=${() => { setEditing(null); setForm(blank); setError(null); }}>Cancel amending</button>`}
      </div>
    </form>`}`;
}
