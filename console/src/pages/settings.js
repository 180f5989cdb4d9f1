// Settings (set-up): a company's accounting settings (`GET/PUT /companies/{id}/settings`) and
// the organisation's background posting settings (`GET/PUT /settings/background-posting`).
// Each field says in one sentence what it does.
import { useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, put } from "../api.js";
import { ErrorMessage, Loading, Notice, useLoad } from "../ui.js";
import { Field, focusFirstInvalid } from "./setup_fields.js";

const TRADING = [
  ["sales_invoice", "Sales invoice"], ["sales_credit_note", "Sales credit note"],
  ["payable_invoice", "Payable invoice"], ["payable_credit_note", "Payable credit note"],
];
const RULES = {
  required_field: "Required field",
  max_document_total: "Maximum document total",
  gl_account_not_allowed: "GL accounts not allowed",
  max_line_value: "Maximum line value",
};

function describe(v) {
  const what = v.rule === "required_field" ? `${RULES[v.rule]}: ${v.field}`
    : v.rule === "gl_account_not_allowed" ? `${RULES[v.rule]}: ${v.gl_accounts.join(", ")}`
      : `${RULES[v.rule]}: ${v.amount}`;
  return `${what}${v.document_types?.length ? ` (${v.document_types.join(", ")})` : ""}${v.message ? ` – “${v.message}”` : ""}`;
}

export function SettingsPage({ me }) {
  const companies = useLoad(() => get("/companies?limit=200"), []);
  const [company, setCompany] = useState("");
  const admin = me.may.schedule_job;
  return html`<h1>Settings</h1>
    ${!admin && html`<p class="info" role="status">Only a System Administrator can change settings; you can view them.</p>`}
    <h2>Accounting settings of a company</h2>
    ${companies.loading && html`<${Loading} what="the companies" />`}
    <${ErrorMessage} error=${companies.error} />
    ${companies.data && html`<div class="field">
      <label for="settings-company">Company</label>
      <select id="settings-company" value=${company} onChange=${(e) => setCompany(e.target.value)}>
        <option value="">Choose a company</option>
        ${companies.data.companies.map((c) => html`<option value=${c.id}>${c.id} – ${c.name}</option>`)}
      </select>
    </div>`}
    ${company && html`<${CompanySettings} key=${company} company=${company} admin=${admin} />`}
    <${BackgroundPostingSettings} admin=${admin} />`;
}

function CompanySettings({ company, admin }) {
  const loaded = useLoad(() => get(`/companies/${encodeURIComponent(company)}/settings`), [company]);
  if (loaded.loading && !loaded.data) return html`<${Loading} what="the settings" />`;
  if (loaded.error) return html`<${ErrorMessage} error=${loaded.error} />`;
  return html`<${CompanySettingsForm} key=${JSON.stringify(loaded.data)} company=${company} settings=${loaded.data} admin=${admin} onSaved=${loaded.reload} />`;
}

function CompanySettingsForm({ company, settings, admin, onSaved }) {
  const v = settings.invoice_verification || {};
  const [form, setForm] = useState({
    ...Object.fromEntries(TRADING.map(([t]) => [t, String(settings.line_thresholds?.[t] ?? 250)])),
    journal_line_limit: String(settings.journal_line_limit),
    tolerance_amount: String(v.tolerance_amount ?? "0"), tolerance_percent: String(v.tolerance_percent ?? "0"),
    within_tolerance: v.within_tolerance || "accept", after_posting: v.after_posting || "posted",
    post_values: v.post_values || "keyed",
  });
  const [validations, setValidations] = useState(settings.custom_validations || []);
  const [rule, setRule] = useState({ rule: "required_field", field: "reference", amount: "", gl_accounts: "", message: "" });
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const body = (list) => ({
    line_thresholds: Object.fromEntries(TRADING.map(([t]) => [t, Number(form[t])])),
    journal_line_limit: Number(form.journal_line_limit),
    custom_validations: list,
    invoice_verification: {
      tolerance_amount: form.tolerance_amount.trim(), tolerance_percent: form.tolerance_percent.trim(),
      within_tolerance: form.within_tolerance, after_posting: form.after_posting,
      post_values: form.post_values,
    },
  });
  const save = async (list, done) => {
    setBusy(true); setError(null); setMessage(null);
    try {
      await put(`/companies/${encodeURIComponent(company)}/settings`, body(list));
      setMessage(done);
      onSaved();
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  const newRule = () => {
    const r = { rule: rule.rule };
    if (rule.rule === "required_field") r.field = rule.field;
    else if (rule.rule === "gl_account_not_allowed") r.gl_accounts = rule.gl_accounts.split(",").map((x) => x.trim()).filter(Boolean);
    else r.amount = rule.amount.trim();
    if (rule.message.trim()) r.message = rule.message.trim();
    return r;
  };
  const number = (label, name, apiName, hint) => html`<${Field} label=${label} name=${apiName} error=${error} hint=${hint} idPrefix="s-">
    ${(a) => html`<input ...${a} type="number" min="1" value=${form[name]} onInput=${set(name)} />`}
  </${Field}>`;
  return html`<form ref=${formRef} onSubmit=${(e) => { e.preventDefault(); save(validations, `The settings of ${company} are saved.`); }} aria-label=${`Settings of ${company}`} noValidate>
    <fieldset disabled=${!admin || busy}>
      <legend>Line thresholds</legend>
      <p class="hint">A document with more lines than its type's threshold posts in the background instead of at once.</p>
      <div class="form-grid">
        ${TRADING.map(([t, label]) => number(`${label} threshold`, t, `line_thresholds.${t}`))}
        ${number("Journal line limit", "journal_line_limit", "journal_line_limit", "A journal with more lines than this posts in the background.")}
      </div>
    </fieldset>
    <fieldset disabled=${!admin || busy}>
      <legend>Invoice verification</legend>
      <div class="form-grid">
        <${Field} label="Tolerance amount" name="invoice_verification.tolerance_amount" error=${error} idPrefix="s-" hint="A payable invoice may differ from what was received by up to this amount (its currency) and still post.">
          ${(a) => html`<input ...${a} inputmode="decimal" value=${form.tolerance_amount} onInput=${set("tolerance_amount")} />`}</${Field}>
        <${Field} label="Tolerance percent" name="invoice_verification.tolerance_percent" error=${error} idPrefix="s-" hint="Or by up to this percentage of the expected total.">
          ${(a) => html`<input ...${a} inputmode="decimal" value=${form.tolerance_percent} onInput=${set("tolerance_percent")} />`}</${Field}>
        <${Field} label="Within tolerance" name="invoice_verification.within_tolerance" error=${error} idPrefix="s-" hint="Accept posts the invoice as invoiced; Reduce posts it at the expected values.">
          ${(a) => html`<select ...${a} value=${form.within_tolerance} onChange=${set("within_tolerance")}><option value="accept">Accept</option><option value="reduce">Reduce</option></select>`}</${Field}>
        <${Field} label="After posting" name="invoice_verification.after_posting" error=${error} idPrefix="s-" hint="Posted, not completed keeps a verified invoice waiting for someone to complete its verification before payment.">
          ${(a) => html`<select ...${a} value=${form.after_posting} onChange=${set("after_posting")}><option value="posted">Posted</option><option value="posted_not_completed">Posted, not completed</option></select>`}</${Field}>
        <${Field} label="Values posted" name="invoice_verification.post_values" error=${error} idPrefix="s-" hint="As keyed posts the vendor's lines; Suggested posts each order line at what was received and not yet invoiced, at the order's price.">
          ${(a) => html`<select ...${a} value=${form.post_values} onChange=${set("post_values")}><option value="keyed">As keyed</option><option value="suggested">Suggested</option></select>`}</${Field}>
      </div>
    </fieldset>
    <fieldset disabled=${!admin || busy}>
      <legend>Custom validations</legend>
      <p class="hint">Rules every posting of this company must pass; a document that breaks one is refused with the rule's message.</p>
      <ul aria-label="Custom validations">
        ${validations.map((item, n) => html`<li>${describe(item)} ${admin && html`<button type="button" class="link" onClick=${() => save(validations.filter((_, i) => i !== n), "The validation is removed.")}>Remove validation ${n + 1}</button>`}</li>`)}
        ${validations.length === 0 && html`<li>None.</li>`}
      </ul>
      ${admin && html`<div class="form-grid">
        <div class="field"><label for="rule-kind">Rule</label>
          <select id="rule-kind" value=${rule.rule} onChange=${(e) => setRule({ ...rule, rule: e.target.value })}>
            ${Object.entries(RULES).map(([k, label]) => html`<option value=${k}>${label}</option>`)}
          </select></div>
        ${rule.rule === "required_field" && html`<div class="field"><label for="rule-field">Required field</label>
          <select id="rule-field" value=${rule.field} onChange=${(e) => setRule({ ...rule, field: e.target.value })}>
            ${["reference", "description", "account", "lines.description", "lines.gl_account", "lines.tax_code"].map((f) => html`<option value=${f}>${f}</option>`)}
          </select></div>`}
        ${(rule.rule === "max_document_total" || rule.rule === "max_line_value") && html`<${Field} label="Maximum amount" name=${`custom_validations[${validations.length}].amount`} error=${error} idPrefix="rule-">
          ${(a) => html`<input ...${a} inputmode="decimal" value=${rule.amount} onInput=${(e) => setRule({ ...rule, amount: e.target.value })} />`}</${Field}>`}
        ${rule.rule === "gl_account_not_allowed" && html`<${Field} label="GL accounts not allowed" name=${`custom_validations[${validations.length}].gl_accounts`} error=${error} idPrefix="rule-" hint="Separated by commas.">
          ${(a) => html`<input ...${a} value=${rule.gl_accounts} onInput=${(e) => setRule({ ...rule, gl_accounts: e.target.value })} />`}</${Field}>`}
        <${Field} label="Message" name=${`custom_validations[${validations.length}].message`} error=${error} idPrefix="rule-" hint="Optional: your own words for the refusal.">
          ${(a) => html`<input ...${a} value=${rule.message} onInput=${(e) => setRule({ ...rule, message: e.target.value })} />`}</${Field}>
      </div>
      <button type="button" class="secondary" disabled=${busy} onClick=${() => save([...validations, newRule()], "The validation is added.").then(() => setValidations(validations))}>Add validation</button>`}
    </fieldset>
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
    ${admin && html`<button type="submit" disabled=${busy}>Save settings</button>`}
  </form>`;
}

function BackgroundPostingSettings({ admin }) {
  const loaded = useLoad(() => get("/settings/background-posting"), []);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  if (loaded.loading && !loaded.data) return html`<${Loading} what="the background posting settings" />`;
  if (loaded.error) return html`<${ErrorMessage} error=${loaded.error} />`;
  const values = form || { max_attempts: String(loaded.data.max_attempts), max_attempts_avatax: String(loaded.data.max_attempts_avatax) };
  const set = (name) => (e) => setForm({ ...values, [name]: e.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null); setMessage(null);
    try {
      await put("/settings/background-posting", { max_attempts: Number(values.max_attempts), max_attempts_avatax: Number(values.max_attempts_avatax) });
      setMessage("The background posting settings are saved.");
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  return html`<form ref=${formRef} onSubmit=${submit} aria-labelledby="bp-heading" noValidate>
    <h2 id="bp-heading">Background posting</h2>
    <fieldset disabled=${!admin || busy}>
      <legend>Maximum attempts (every company)</legend>
      <div class="form-grid">
        <${Field} label="Maximum attempts" name="max_attempts" error=${error} hint="How many runs may fail to post a document before it goes back to In Progress (applies to queued work from its next attempt).">
          ${(a) => html`<input ...${a} type="number" min="1" max="20" value=${values.max_attempts} onInput=${set("max_attempts")} />`}</${Field}>
        <${Field} label="Maximum attempts (AvaTax)" name="max_attempts_avatax" error=${error} hint="The same for the AvaTax tax step, which may fail while the tax service is unreachable.">
          ${(a) => html`<input ...${a} type="number" min="1" max="20" value=${values.max_attempts_avatax} onInput=${set("max_attempts_avatax")} />`}</${Field}>
      </div>
    </fieldset>
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
    ${admin && html`<button type="submit" disabled=${busy}>Save background posting settings</button>`}
  </form>`;
}
