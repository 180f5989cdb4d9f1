// Companies (set-up): the companies you may use (`GET /companies`), New company (System
// Administrator), and one company's set-up: its profile, periods (Close period, Reopen period,
// Add period), exchange rates, tax codes, GL accounts and credit terms, all through
// `GET/PATCH /companies/{id}` and `PATCH /companies/{id}/periods/{name}`.
import { useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, patch, post, query } from "../api.js";
import { ErrorMessage, Loading, Notice, useLoad } from "../ui.js";
import { Field, entryError, focusFirstInvalid } from "./setup_fields.js";

export const GL_ROLES = [
  ["receivable_control", "Receivable control"],
  ["payable_control", "Payable control"],
  ["sales_tax", "Sales tax"],
  ["purchase_tax", "Purchase tax"],
  ["revenue", "Revenue"],
  ["expense", "Expense"],
  ["deferred_income", "Deferred income"],
  ["currency_rounding", "Currency rounding"],
  ["small_differences", "Small differences"],
];
const GL_DEFAULTS = {
  receivable_control: "1100", payable_control: "2100", sales_tax: "2200", purchase_tax: "1200",
  revenue: "4000", expense: "5000", deferred_income: "2300", currency_rounding: "7900", small_differences: "7910",
};

export function CompanyListPage({ me }) {
  const [token, setToken] = useState(null);
  const [earlier, setEarlier] = useState([]);
  const list = useLoad(() => get(`/companies${query({ next: token })}`), [token]);
  const admin = me.may.schedule_job;
  return html`<h1>Companies</h1>
    <p>The companies you may use. Open one to set up its periods, exchange rates, tax codes, GL accounts and credit terms.</p>
    ${list.loading && html`<${Loading} what="the companies" />`}
    <${ErrorMessage} error=${list.error} />
    ${list.data && html`<div class="table"><table>
      <caption>Companies</caption>
      <thead><tr><th scope="col">Company</th><th scope="col">Name</th><th scope="col">Home currency</th><th scope="col">Dual currency</th><th scope="col">Time zone</th></tr></thead>
      <tbody>
        ${list.data.companies.map((c) => html`<tr>
          <td><a href=${`#/setup/companies/${encodeURIComponent(c.id)}`}>${c.id}</a></td>
          <td>${c.name}</td><td>${c.home_currency}</td><td>${c.dual_currency}</td><td>${c.timezone}</td>
        </tr>`)}
        ${list.data.companies.length === 0 && html`<tr><td colspan="5">No companies yet.${admin ? " Create one with New company below." : ""}</td></tr>`}
      </tbody>
    </table></div>
    <div class="actions">
      ${earlier.length > 0 && html`<button type="button" class="secondary" onClick=${() => { setToken(earlier[earlier.length - 1]); setEarlier(earlier.slice(0, -1)); }}>Previous page</button>`}
      ${list.data.next && html`<button type="button" class="secondary" onClick=${() => { setEarlier([...earlier, token]); setToken(list.data.next); }}>Next page</button>`}
    </div>`}
    ${admin && html`<${NewCompany} />`}`;
}

function NewCompany() {
  const [form, setForm] = useState({ id: "", name: "", home_currency: "", dual_currency: "", timezone: "Europe/London", ...GL_DEFAULTS });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null);
    const gl_accounts = Object.fromEntries(GL_ROLES.map(([role]) => [role, form[role].trim()]));
    const body = {
      id: form.id.trim(), name: form.name.trim(), home_currency: form.home_currency.trim().toUpperCase(),
      dual_currency: form.dual_currency.trim().toUpperCase(), timezone: form.timezone.trim(), gl_accounts,
    };
    try {
      const created = await post("/companies", body);
      location.hash = `#/setup/companies/${encodeURIComponent(created.id)}`;
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  const text = (label, name, hint, idPrefix = "new-") => html`<${Field} label=${label} name=${name} error=${error} hint=${hint} idPrefix=${idPrefix}>
    ${(a) => html`<input ...${a} value=${form[name]} onInput=${set(name)} />`}
  </${Field}>`;
  const gl = (label, role) => html`<${Field} label=${label} name=${`gl_accounts.${role}`} error=${error} idPrefix="new-">
    ${(a) => html`<input ...${a} value=${form[role]} onInput=${set(role)} />`}
  </${Field}>`;
  return html`<form ref=${formRef} onSubmit=${submit} aria-labelledby="new-company-heading" noValidate>
    <h2 id="new-company-heading">New company</h2>
    <div class="form-grid">
      ${text("Company id", "id", "Letters, digits, dot, dash or underscore, e.g. ACME.")}
      ${text("Company name", "name")}
      ${text("Home currency", "home_currency", "ISO code, e.g. GBP: the currency its books are kept in.")}
      ${text("Dual currency", "dual_currency", "ISO code, e.g. EUR: every posting is also kept in it.")}
      ${text("Time zone", "timezone", "e.g. Europe/London: decides which day a run posts on.")}
    </div>
    <fieldset>
      <legend>GL accounts</legend>
      <div class="form-grid">${GL_ROLES.map(([role, label]) => gl(label, role))}</div>
    </fieldset>
    <${ErrorMessage} error=${error} />
    <button type="submit" disabled=${busy}>Create company</button>
  </form>`;
}

/** Whether the company has posted: the API refuses a currency change once it has. */
function usePosted(companyId) {
  return useLoad(() => get(`/documents${query({ company: companyId, status: "Complete", limit: 1 })}`).then((page) => page.documents.length > 0), [companyId]);
}

export function CompanySetupPage({ id, me }) {
  const company = useLoad(() => get(`/companies/${encodeURIComponent(id)}`), [id]);
  const posted = usePosted(id);
  const admin = me.may.schedule_job;
  if (company.loading && !company.data) return html`<h1>Company ${id}</h1><${Loading} what="the company" />`;
  if (company.error) return html`<h1>Company ${id}</h1><${ErrorMessage} error=${company.error} />`;
  const c = company.data;
  const save = (body) => patch(`/companies/${encodeURIComponent(id)}`, body).then((answer) => { company.reload(); return answer; });
  return html`<h1>Company ${c.id}: ${c.name}</h1>
    <p><a href="#/setup/companies">All companies</a></p>
    ${!admin && html`<p class="info" role="status">Only a System Administrator can change a company; you can view its set-up.</p>`}
    <${Profile} key=${`profile-${c.name}-${c.home_currency}-${c.dual_currency}-${c.timezone}-${JSON.stringify(c.address)}-${c.iban}-${c.qr_iban}`} company=${c} posted=${posted.data === true} admin=${admin} save=${save} />
    <${Periods} company=${c} admin=${admin} save=${save} reload=${company.reload} />
    <${ExchangeRates} company=${c} admin=${admin} save=${save} />
    <${TaxCodes} company=${c} admin=${admin} save=${save} />
    <${GlAccounts} key=${`gl-${JSON.stringify(c.gl_accounts)}`} company=${c} admin=${admin} save=${save} />
    <${CreditTermsForm} key=${`terms-${JSON.stringify([c.credit_terms, c.vendor_credit_terms])}`} company=${c} admin=${admin} save=${save} />`;
}

function useSaving() {
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const run = async (work, done) => {
    setBusy(true); setError(null); setMessage(null);
    try {
      await work();
      setMessage(done);
      return true;
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, message, busy, run, formRef };
}

const ADDRESS = [["line1", "Address line 1"], ["line2", "Address line 2"], ["city", "City"], ["region", "Region"], ["postal_code", "Postal code"], ["country", "Country"]];

function Profile({ company: c, posted, admin, save }) {
  const [form, setForm] = useState({
    name: c.name, home_currency: c.home_currency, dual_currency: c.dual_currency, timezone: c.timezone,
    iban: c.iban || "", qr_iban: c.qr_iban || "",
    ...Object.fromEntries(ADDRESS.map(([k]) => [k, c.address?.[k] || ""])),
  });
  const s = useSaving();
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = (event) => {
    event.preventDefault();
    const body = {};
    for (const k of ["name", "timezone"]) if (form[k].trim() !== c[k]) body[k] = form[k].trim();
    if (!posted) for (const k of ["home_currency", "dual_currency"]) if (form[k].trim().toUpperCase() !== c[k]) body[k] = form[k].trim().toUpperCase();
    for (const k of ["iban", "qr_iban"]) if (form[k].trim() !== (c[k] || "")) body[k] = form[k].trim() || null;
    const address = Object.fromEntries(ADDRESS.map(([k]) => [k, form[k].trim()]).filter(([k, v]) => v || k !== "line2"));
    const hadAddress = Boolean(c.address);
    const anyAddress = ADDRESS.some(([k]) => form[k].trim());
    if (anyAddress && JSON.stringify(address) !== JSON.stringify(Object.fromEntries(ADDRESS.map(([k]) => [k, c.address?.[k] || ""]).filter(([k, v]) => v || k !== "line2")))) body.address = address;
    if (!anyAddress && hadAddress) body.address = null;
    if (Object.keys(body).length === 0) return;
    s.run(() => save(body), "The company is saved.");
  };
  const text = (label, name, hint, extra = {}) => html`<${Field} label=${label} name=${name} error=${s.error} hint=${hint}>
    ${(a) => html`<input ...${a} ...${extra} value=${form[name]} onInput=${set(name)} />`}
  </${Field}>`;
  const addressField = (label, name) => html`<${Field} label=${label} name=${`address.${name}`} error=${s.error}>
    ${(a) => html`<input ...${a} value=${form[name]} onInput=${set(name)} />`}
  </${Field}>`;
  const currencyHint = posted
    ? `This company has posted transactions: its home and dual currency (${c.home_currency}, ${c.dual_currency}) can no longer change.`
    : "Can change until the company's first posting.";
  return html`<form ref=${s.formRef} onSubmit=${submit} aria-labelledby="profile-heading" noValidate>
    <h2 id="profile-heading">Company</h2>
    <fieldset disabled=${!admin || s.busy}>
      <legend>Name, currencies and time zone</legend>
      <div class="form-grid">
        ${text("Company name", "name")}
        ${text("Home currency", "home_currency", currencyHint, { readOnly: posted })}
        ${text("Dual currency", "dual_currency", currencyHint, { readOnly: posted })}
        ${text("Time zone", "timezone", "The company's local time: which day a run posts on, and when a document to be posted on a date is due.")}
      </div>
    </fieldset>
    <fieldset disabled=${!admin || s.busy}>
      <legend>Address and bank</legend>
      <div class="form-grid">
        ${ADDRESS.map(([k, label]) => addressField(label, k))}
        ${text("IBAN", "iban", "Printed on invoices for payment.")}
        ${text("QR-IBAN", "qr_iban", "Swiss QR-bill payments (a company in CH or LI).")}
      </div>
    </fieldset>
    <${ErrorMessage} error=${s.error} />
    <${Notice} text=${s.message} />
    ${admin && html`<button type="submit" disabled=${s.busy}>Save company</button>`}
  </form>`;
}

function Periods({ company: c, admin, save, reload }) {
  const [form, setForm] = useState({ name: "", start: "", end: "" });
  const s = useSaving();
  const row = useSaving();
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const periods = [...c.periods].sort((a, b) => (a.start < b.start ? -1 : 1));
  const change = (period, status) => row.run(async () => {
    await patch(`/companies/${encodeURIComponent(c.id)}/periods/${encodeURIComponent(period.name)}`, { status });
    reload();
  }, `Period ${period.name} is ${status === "closed" ? "closed: nothing more posts into it" : "open again"}.`);
  const add = async (event) => {
    event.preventDefault();
    const entry = { name: form.name.trim(), start: form.start, end: form.end, status: "open" };
    if (await s.run(() => save({ periods: [...c.periods, entry] }), `Period ${entry.name} is added.`)) setForm({ name: "", start: "", end: "" });
  };
  const error = entryError(s.error, "periods", c.periods.length, "name");
  return html`<section aria-labelledby="periods-heading">
    <h2 id="periods-heading">Periods</h2>
    <div class="table"><table>
      <caption>Periods of ${c.id}</caption>
      <thead><tr><th scope="col">Period</th><th scope="col">Start</th><th scope="col">End</th><th scope="col">Status</th>${admin && html`<th scope="col">Action</th>`}</tr></thead>
      <tbody>
        ${periods.map((p) => html`<tr>
          <td>${p.name}</td><td>${p.start}</td><td>${p.end}</td><td>${p.status === "open" ? "Open" : "Closed"}</td>
          ${admin && html`<td>${p.status === "open"
            ? html`<button type="button" class="secondary" disabled=${row.busy} aria-label=${`Close period ${p.name}`} onClick=${() => change(p, "closed")}>Close period</button>`
            : html`<button type="button" class="secondary" disabled=${row.busy} aria-label=${`Reopen period ${p.name}`} onClick=${() => change(p, "open")}>Reopen period</button>`}</td>`}
        </tr>`)}
        ${periods.length === 0 && html`<tr><td colspan="5">No periods yet: nothing can post until a period holds its date.</td></tr>`}
      </tbody>
    </table></div>
    <${ErrorMessage} error=${row.error} />
    <${Notice} text=${row.message} />
    ${admin && html`<form ref=${s.formRef} onSubmit=${add} aria-labelledby="add-period-heading" noValidate>
      <h3 id="add-period-heading">Add a period</h3>
      <div class="form-grid">
        <${Field} label="Period name" name="name" error=${error} idPrefix="period-" hint="e.g. 2026-12">${(a) => html`<input ...${a} value=${form.name} onInput=${set("name")} />`}</${Field}>
        <${Field} label="Start" name="start" error=${error} idPrefix="period-">${(a) => html`<input ...${a} type="date" value=${form.start} onInput=${set("start")} />`}</${Field}>
        <${Field} label="End" name="end" error=${error} idPrefix="period-">${(a) => html`<input ...${a} type="date" value=${form.end} onInput=${set("end")} />`}</${Field}>
      </div>
      <${ErrorMessage} error=${s.error} />
      <${Notice} text=${s.message} />
      <button type="submit" disabled=${s.busy}>Add period</button>
    </form>`}
  </section>`;
}

function ExchangeRates({ company: c, admin, save }) {
  const blank = { from_currency: "", to_currency: c.home_currency, date: "", rate: "" };
  const [form, setForm] = useState(blank);
  const s = useSaving();
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const rates = [...c.exchange_rates].sort((a, b) => (a.date > b.date ? -1 : a.date < b.date ? 1 : 0));
  const add = async (event) => {
    event.preventDefault();
    const entry = { from_currency: form.from_currency.trim().toUpperCase(), to_currency: form.to_currency.trim().toUpperCase(), date: form.date, rate: form.rate.trim() };
    if (await s.run(() => save({ exchange_rates: [...c.exchange_rates, entry] }), `The rate ${entry.from_currency} → ${entry.to_currency} from ${entry.date} is added.`)) setForm(blank);
  };
  const error = entryError(s.error, "exchange_rates", c.exchange_rates.length, "from_currency");
  return html`<section aria-labelledby="rates-heading">
    <h2 id="rates-heading">Exchange rates</h2>
    <p class="hint">One unit of the first currency is worth the rate in the second, from the date on (the newest rate on or before a document's date applies).</p>
    <div class="table"><table>
      <caption>Exchange rates of ${c.id}</caption>
      <thead><tr><th scope="col">From</th><th scope="col">To</th><th scope="col">From date</th><th scope="col" class="number">Rate</th></tr></thead>
      <tbody>
        ${rates.slice(0, 200).map((r) => html`<tr><td>${r.from_currency}</td><td>${r.to_currency}</td><td>${r.date}</td><td class="number">${r.rate}</td></tr>`)}
        ${rates.length === 0 && html`<tr><td colspan="4">No exchange rates yet.</td></tr>`}
      </tbody>
    </table></div>
    ${rates.length > 200 && html`<p class="hint">The newest 200 of ${rates.length} rates are shown.</p>`}
    ${admin && html`<form ref=${s.formRef} onSubmit=${add} aria-labelledby="add-rate-heading" noValidate>
      <h3 id="add-rate-heading">Add an exchange rate</h3>
      <div class="form-grid">
        <${Field} label="From currency" name="from_currency" error=${error} idPrefix="rate-">${(a) => html`<input ...${a} value=${form.from_currency} onInput=${set("from_currency")} />`}</${Field}>
        <${Field} label="To currency" name="to_currency" error=${error} idPrefix="rate-">${(a) => html`<input ...${a} value=${form.to_currency} onInput=${set("to_currency")} />`}</${Field}>
        <${Field} label="Rate from" name="date" error=${error} idPrefix="rate-">${(a) => html`<input ...${a} type="date" value=${form.date} onInput=${set("date")} />`}</${Field}>
        <${Field} label="Rate" name="rate" error=${error} idPrefix="rate-">${(a) => html`<input ...${a} inputmode="decimal" value=${form.rate} onInput=${set("rate")} />`}</${Field}>
      </div>
      <${ErrorMessage} error=${s.error} />
      <${Notice} text=${s.message} />
      <button type="submit" disabled=${s.busy}>Add rate</button>
    </form>`}
  </section>`;
}

function TaxCodes({ company: c, admin, save }) {
  const blank = { code: "", rate: "", description: "" };
  const [form, setForm] = useState(blank);
  const s = useSaving();
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const add = async (event) => {
    event.preventDefault();
    const entry = { code: form.code.trim(), rate: form.rate.trim(), description: form.description.trim() };
    if (await s.run(() => save({ tax_codes: [...c.tax_codes, entry] }), `Tax code ${entry.code} is added.`)) setForm(blank);
  };
  const error = entryError(s.error, "tax_codes", c.tax_codes.length, "code");
  return html`<section aria-labelledby="tax-heading">
    <h2 id="tax-heading">Tax codes</h2>
    <div class="table"><table>
      <caption>Tax codes of ${c.id}</caption>
      <thead><tr><th scope="col">Code</th><th scope="col" class="number">Rate (%)</th><th scope="col">Description</th></tr></thead>
      <tbody>
        ${c.tax_codes.map((t) => html`<tr><td>${t.code}</td><td class="number">${t.rate}</td><td>${t.description}</td></tr>`)}
        ${c.tax_codes.length === 0 && html`<tr><td colspan="3">No tax codes yet.</td></tr>`}
      </tbody>
    </table></div>
    ${admin && html`<form ref=${s.formRef} onSubmit=${add} aria-labelledby="add-tax-heading" noValidate>
      <h3 id="add-tax-heading">Add a tax code</h3>
      <div class="form-grid">
        <${Field} label="Tax code" name="code" error=${error} idPrefix="tax-">${(a) => html`<input ...${a} value=${form.code} onInput=${set("code")} />`}</${Field}>
        <${Field} label="Tax rate (%)" name="rate" error=${error} idPrefix="tax-">${(a) => html`<input ...${a} inputmode="decimal" value=${form.rate} onInput=${set("rate")} />`}</${Field}>
        <${Field} label="Tax code description" name="description" error=${error} idPrefix="tax-">${(a) => html`<input ...${a} value=${form.description} onInput=${set("description")} />`}</${Field}>
      </div>
      <${ErrorMessage} error=${s.error} />
      <${Notice} text=${s.message} />
      <button type="submit" disabled=${s.busy}>Add tax code</button>
    </form>`}
  </section>`;
}

function GlAccounts({ company: c, admin, save }) {
  const [form, setForm] = useState({ ...c.gl_accounts });
  const s = useSaving();
  const submit = (event) => {
    event.preventDefault();
    const gl_accounts = Object.fromEntries(GL_ROLES.map(([role]) => [role, (form[role] || "").trim()]));
    s.run(() => save({ gl_accounts }), "The GL accounts are saved.");
  };
  return html`<form ref=${s.formRef} onSubmit=${submit} aria-labelledby="gl-heading" noValidate>
    <h2 id="gl-heading">GL accounts</h2>
    <p class="hint">The accounts each posting uses for its role (codes of your chart of accounts; the API keeps codes, not names).</p>
    <fieldset disabled=${!admin || s.busy}>
      <legend>GL account per role</legend>
      <div class="form-grid">
        ${GL_ROLES.map(([role, label]) => html`<${Field} label=${label} name=${`gl_accounts.${role}`} error=${s.error} idPrefix="gl-">
          ${(a) => html`<input ...${a} value=${form[role] || ""} onInput=${(e) => setForm({ ...form, [role]: e.target.value })} />`}
        </${Field}>`)}
      </div>
    </fieldset>
    <${ErrorMessage} error=${s.error} />
    <${Notice} text=${s.message} />
    ${admin && html`<button type="submit" disabled=${s.busy}>Save GL accounts</button>`}
  </form>`;
}

const discountsText = (terms) => (terms?.discounts || []).map((d) => `${d.days}:${d.percent}`).join(", ");
const parseDiscounts = (text) => text.split(",").map((t) => t.trim()).filter(Boolean).map((t) => {
  const [days, percent] = t.split(":").map((x) => x.trim());
  return { days: Number(days), percent: percent || "" };
});

function CreditTermsForm({ company: c, admin, save }) {
  const [form, setForm] = useState({
    days_due: String(c.credit_terms?.days_due ?? 30), discounts: discountsText(c.credit_terms),
    vendor_days_due: String(c.vendor_credit_terms?.days_due ?? 30), vendor_discounts: discountsText(c.vendor_credit_terms),
  });
  const s = useSaving();
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = (event) => {
    event.preventDefault();
    s.run(() => save({
      credit_terms: { days_due: Number(form.days_due), discounts: parseDiscounts(form.discounts) },
      vendor_credit_terms: { days_due: Number(form.vendor_days_due), discounts: parseDiscounts(form.vendor_discounts) },
    }), "The credit terms are saved.");
  };
  const hint = "Days:percent, separated by commas, e.g. 10:2 (2% off when paid within 10 days).";
  return html`<form ref=${s.formRef} onSubmit=${submit} aria-labelledby="terms-heading" noValidate>
    <h2 id="terms-heading">Credit terms</h2>
    <fieldset disabled=${!admin || s.busy}>
      <legend>Customers without their own terms</legend>
      <div class="form-grid">
        <${Field} label="Customer days due" name="credit_terms.days_due" error=${s.error} hint="Days from the document date to the due date.">${(a) => html`<input ...${a} type="number" min="0" value=${form.days_due} onInput=${set("days_due")} />`}</${Field}>
        <${Field} label="Customer settlement discounts" name="credit_terms.discounts" error=${s.error} hint=${hint}>${(a) => html`<input ...${a} value=${form.discounts} onInput=${set("discounts")} />`}</${Field}>
      </div>
    </fieldset>
    <fieldset disabled=${!admin || s.busy}>
      <legend>Vendors without their own terms</legend>
      <div class="form-grid">
        <${Field} label="Vendor days due" name="vendor_credit_terms.days_due" error=${s.error} hint="Days from the document date to the due date.">${(a) => html`<input ...${a} type="number" min="0" value=${form.vendor_days_due} onInput=${set("vendor_days_due")} />`}</${Field}>
        <${Field} label="Vendor settlement discounts" name="vendor_credit_terms.discounts" error=${s.error} hint=${hint}>${(a) => html`<input ...${a} value=${form.vendor_discounts} onInput=${set("vendor_discounts")} />`}</${Field}>
      </div>
    </fieldset>
    <${ErrorMessage} error=${s.error} />
    <${Notice} text=${s.message} />
    ${admin && html`<button type="submit" disabled=${s.busy}>Save credit terms</button>`}
  </form>`;
}
