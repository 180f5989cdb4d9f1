// Entering and correcting a document: a new document of a list's type (#/documents/<type>/new)
// and the form of an In Progress one, with its lines grid, Save, Save & Post, Preview and the
// saved document's net, tax and gross. Every problem the API names by its field
// (`details.errors[].field`, e.g. `lines[0].unit_price`) is shown next to that field.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, patch, post, query } from "../api.js";
import { ErrorMessage, Loading, Money, Notice, typeName } from "../ui.js";

const PAGE = 50; // lines shown per page of the grid
const MOST_LINES = 1000; // what one request may send (PATCH replaces every line: at most this many)
const LAST_COMPANY = "bp.company";

// --- decimal strings, added exactly (no floating point) -------------------------------------

const DECIMAL = /^-?\d+(\.\d+)?$/;
export const isDecimal = (text) => DECIMAL.test(text);

function scaled(text) {
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace(/^-/, "").split(".");
  const units = BigInt(whole + fraction) * (negative ? -1n : 1n);
  return { units, places: fraction.length };
}

/** The exact sum of decimal strings, with at least two decimal places. */
export function sum(values) {
  const parts = values.filter(isDecimal).map(scaled);
  const places = Math.max(2, ...parts.map((p) => p.places));
  const total = parts.reduce((acc, p) => acc + p.units * 10n ** BigInt(places - p.places), 0n);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(places + 1, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

const negated = (text) => (text.startsWith("-") ? text.slice(1) : `-${text}`);

// --- what the form holds ---------------------------------------------------------------------

let nextKey = 1;
const key = () => nextKey++;

function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function blankLine(journal) {
  return journal
    ? { key: key(), description: "", gl_account: "", account: "", debit: "", credit: "" }
    : { key: key(), description: "", quantity: "1", unit_price: "", tax_code: "", gl_account: "", periods: "", frequency: "monthly" };
}

function formLine(line, journal) {
  if (journal) {
    const value = line.value || "";
    const credit = value.startsWith("-");
    return {
      key: key(), description: line.description || "", gl_account: line.gl_account || "", account: line.account || "",
      debit: credit ? "" : value, credit: credit ? value.slice(1) : "",
    };
  }
  return {
    key: key(), description: line.description || "", quantity: line.quantity ?? "", unit_price: line.unit_price ?? "",
    tax_code: line.tax_code || "", gl_account: line.gl_account || "",
    periods: line.income_schedule ? String(line.income_schedule.periods) : "",
    frequency: line.income_schedule?.frequency || "monthly",
    purchase_order: line.purchase_order || null, purchase_order_line: line.purchase_order_line || null,
  };
}

function formHeader(d) {
  return {
    company: d.company || "", account: d.account || "", document_date: d.document_date || today(),
    currency: d.currency || "", tax_mode: d.tax_mode || "builtin", reference: d.reference || "",
    description: d.description || "", auto_reverse_on: d.auto_reverse_on || "",
    purchase_orders: (d.purchase_orders || []).join(", "),
  };
}

/** A line as the API takes it; a journal's debit or credit becomes its signed value. */
function apiLine(line, journal, type) {
  if (journal) {
    const value = line.debit.trim() ? line.debit.trim() : line.credit.trim() ? negated(line.credit.trim()) : "";
    return {
      description: line.description, gl_account: line.gl_account.trim(), value,
      ...(line.account.trim() ? { account: line.account.trim() } : {}),
    };
  }
  const body = { description: line.description, quantity: line.quantity.trim(), unit_price: line.unit_price.trim() };
  if (line.tax_code.trim()) body.tax_code = line.tax_code.trim();
  if (line.gl_account.trim()) body.gl_account = line.gl_account.trim();
  if (type === "sales_invoice" && line.periods.trim()) {
    const periods = Number(line.periods);
    body.income_schedule = { periods: Number.isInteger(periods) ? periods : line.periods, frequency: line.frequency };
  }
  if (line.purchase_order) {
    body.purchase_order = line.purchase_order;
    body.purchase_order_line = line.purchase_order_line;
  }
  return body;
}

/** Problems the form finds itself (a journal line's debit and credit), as the API words them. */
function journalProblems(lines, offset = 0) {
  const problems = [];
  lines.forEach((l, i) => {
    const at = `line ${offset + i + 1}`;
    const debit = l.debit.trim();
    const credit = l.credit.trim();
    if (debit && credit) problems.push({ field: `lines[${i}].credit`, message: `Credit on ${at}: enter a debit or a credit, not both.` });
    else if (debit && !isDecimal(debit)) problems.push({ field: `lines[${i}].debit`, message: `Debit on ${at}: must be a decimal in plain notation such as "10.50".` });
    else if (credit && !isDecimal(credit)) problems.push({ field: `lines[${i}].credit`, message: `Credit on ${at}: must be a decimal in plain notation such as "10.50".` });
    else if (!debit && !credit) problems.push({ field: `lines[${i}].debit`, message: `Debit on ${at}: enter a debit or a credit.` });
  });
  return problems;
}

/** An error of the form's own, shaped as the API's (ErrorMessage and the fields read it). */
function formError(problems) {
  const error = new Error(problems.length === 1 ? problems[0].message : `${problems[0].message} There are ${problems.length - 1} more problems, shown at their fields.`);
  error.details = { errors: problems };
  error.fields = problems.map((p) => p.field);
  return error;
}

// A refusal about the company names no field (its details carry the id): it is the Company field's.
const COMPANY_CODES = ["company_not_found", "company_not_allowed"];
function problemsOf(error) {
  if (Array.isArray(error?.details?.errors)) return error.details.errors;
  if (COMPANY_CODES.includes(error?.code)) return [{ field: "company", message: error.message }];
  return [];
}

// --- handing an outcome to the document page after Save of a new document ---------------------

const handedOver = new Map();
/** Hand `outcome` ({message}) to the page of document `id`, opened next. */
export function handOver(id, outcome) {
  handedOver.set(id, outcome);
}

/** The message or error a new document's page opens with (taken once). */
export function takeOutcome(id) {
  const outcome = handedOver.get(id) || null;
  handedOver.delete(id);
  return outcome;
}

/** The outcome of the last Save or Save & Post: a message, or the API's refusal (whose
 * problems the form shows at their fields, as it does for a refused Post). */
export function Outcome({ outcome }) {
  if (!outcome) return null;
  // A refusal of an action shown with that action (Post, Discard) is not repeated here.
  const error = outcome.shownElsewhere ? null : outcome.error;
  return html`<div class="outcome"><${Notice} text=${outcome.message} /><${ErrorMessage} error=${error} /></div>`;
}

function postedMessage(answer) {
  return answer.status === "Complete"
    ? `${answer.number} is posted${answer.transaction_number ? `: transaction ${answer.transaction_number}` : ""}.`
    : `${answer.number} is saved and Ready to Post: the Background Posting Scheduler posts it at its next run.`;
}

// --- the form --------------------------------------------------------------------------------

function useCompany(company) {
  const [found, setFound] = useState(null);
  useEffect(() => {
    let live = true;
    setFound(null);
    if (company) get(`/companies/${encodeURIComponent(company)}`).then((c) => live && setFound(c), () => {});
    return () => { live = false; };
  }, [company]);
  return found;
}

function Field({ id, label, problems, children, hint }) {
  const text = problems.filter((p) => p.field === id || p.field?.startsWith(`${id}[`)).map((p) => p.message).join(" ");
  return html`<div class="field">
    <label for=${`f-${id}`}>${label}</label>
    ${children({ id: `f-${id}`, "aria-invalid": text ? "true" : undefined, "aria-describedby": text ? `f-${id}-error` : hint ? `f-${id}-hint` : undefined })}
    ${hint && !text && html`<span class="hint" id=${`f-${id}-hint`}>${hint}</span>`}
    ${text && html`<span class="field-error" id=${`f-${id}-error`}>${text}</span>`}
  </div>`;
}

/** One cell's input, named as the column (the row is named "Line N") with its error below. */
function Cell({ name, field, value, problems, onInput, number, list }) {
  const text = problems.filter((p) => p.field === field).map((p) => p.message).join(" ");
  const errorId = `${field.replace(/[^a-z0-9]/gi, "-")}-error`;
  return html`<td class=${number ? "number" : ""}>
    <input aria-label=${name} value=${value} list=${list} inputmode=${number ? "decimal" : undefined}
      class=${number ? "number" : ""} aria-invalid=${text ? "true" : undefined} aria-describedby=${text ? errorId : undefined}
      onInput=${(e) => onInput(e.target.value)} />
    ${text && html`<span class="field-error" id=${errorId}>${text}</span>`}
  </td>`;
}

function LinesGrid({ type, lines, setLines, offset, problems, taxCodes, appendOnly }) {
  const journal = type === "journal";
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(lines.length / PAGE));
  const shown = lines.slice(page * PAGE, page * PAGE + PAGE);
  const change = (index, field, value) => setLines(lines.map((l, i) => (i === index ? { ...l, [field]: value } : l)));
  const add = () => {
    const next = [...lines, blankLine(journal)];
    setLines(next);
    setPage(Math.floor((next.length - 1) / PAGE));
    setTimeout(() => document.querySelector(`tr[data-line="${next.length - 1}"] input`)?.focus());
  };
  const remove = (index) => setLines(lines.filter((_, i) => i !== index));
  // A journal's running balance: the signed values so far.
  const values = journal ? lines.map((l) => apiLine(l, true).value) : [];
  const running = journal ? lines.map((_, i) => sum(values.slice(0, i + 1))) : [];
  const debits = journal ? sum(lines.map((l) => l.debit.trim())) : null;
  const credits = journal ? sum(lines.map((l) => l.credit.trim())) : null;
  const balance = journal ? sum(values) : null;
  const balanced = journal && /^-?0\.0+$/.test(balance);
  const whole = problems.filter((p) => p.field === "lines").map((p) => p.message).join(" ");
  return html`<section aria-labelledby="entry-lines-heading">
    <h2 id="entry-lines-heading">${appendOnly ? "Lines to add" : "Lines"}</h2>
    ${whole && html`<p class="field-error">${whole}</p>`}
    ${lines.length === 0
      ? html`<p>${appendOnly ? "No lines to add yet." : "This document has no lines yet."} Add line adds one.</p>`
      : html`<div class="table lines-grid"><table>
      <caption>${appendOnly ? "New lines" : "Lines"} ${page * PAGE + 1}–${page * PAGE + shown.length} of ${lines.length}</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Description</th>
        ${journal
          ? html`<th scope="col">GL account</th><th scope="col">Account</th><th scope="col" class="number">Debit</th><th scope="col" class="number">Credit</th><th scope="col" class="number">Running balance</th>`
          : html`<th scope="col" class="number">Quantity</th><th scope="col" class="number">Unit price</th><th scope="col">Tax code</th><th scope="col">GL account</th>
            ${type === "sales_invoice" && html`<th scope="col">Income schedule</th>`}`}
        <th scope="col"><span class="visually-hidden">Remove</span></th>
      </tr></thead>
      <tbody>${shown.map((l, j) => {
        const i = page * PAGE + j;
        const at = (field) => `lines[${i}].${field}`;
        const own = problems.filter((p) => p.field === `lines[${i}]`).map((p) => p.message).join(" ");
        const cell = (name, field, extra = {}) => html`<${Cell} name=${name} field=${at(field)} value=${l[field]} problems=${problems} onInput=${(v) => change(i, field, v)} ...${extra} />`;
        return html`<tr key=${l.key} data-line=${i} aria-label=${`Line ${offset + i + 1}`}>
          <th scope="row" class="number">${offset + i + 1}</th>
          ${cell("Description", "description")}
          ${journal
            ? html`${cell("GL account", "gl_account")}${cell("Account", "account")}${cell("Debit", "debit", { number: true })}${cell("Credit", "credit", { number: true })}
              <td class="number" data-balance>${isDecimal(values[i]) ? running[i] : ""}</td>`
            : html`${cell("Quantity", "quantity", { number: true })}${cell("Unit price", "unit_price", { number: true })}
              ${cell("Tax code", "tax_code", { list: "tax-codes" })}${cell("GL account", "gl_account")}
              ${type === "sales_invoice" && html`<td class="schedule">
                <input aria-label="Income schedule periods" inputmode="numeric" value=${l.periods} placeholder="None" onInput=${(e) => change(i, "periods", e.target.value)}
                  aria-invalid=${problems.some((p) => p.field?.startsWith(at("income_schedule"))) ? "true" : undefined} />
                <select aria-label="Income schedule frequency" value=${l.frequency} onChange=${(e) => change(i, "frequency", e.target.value)}>
                  <option value="monthly">monthly</option><option value="quarterly">quarterly</option><option value="yearly">yearly</option>
                </select>
                ${problems.filter((p) => p.field?.startsWith(at("income_schedule"))).map((p) => html`<span class="field-error">${p.message}</span>`)}
              </td>`}`}
          <td><button type="button" class="secondary" aria-label=${`Remove line ${offset + i + 1}`} onClick=${() => remove(i)}>Remove</button>
            ${own && html`<span class="field-error">${own}</span>`}</td>
        </tr>`;
      })}</tbody>
      ${journal && html`<tfoot><tr><th scope="row" colspan="4">Totals</th>
        <td class="number" data-total="debit">${debits}</td><td class="number" data-total="credit">${credits}</td>
        <td class="number"><output aria-label="Balance" data-total="balance">${balance}</output></td><td></td></tr></tfoot>`}
    </table></div>`}
    ${journal && lines.length > 0 && html`<p class=${balanced ? "notice" : "warning"} role="status">
      ${balanced ? "The journal balances: debits equal credits." : `The journal does not balance yet: debits less credits are ${balance}.`}</p>`}
    ${pages > 1 && html`<nav class="pager" aria-label="Line pages">
      <button type="button" class="secondary" disabled=${page === 0} onClick=${() => setPage(page - 1)}>Previous lines</button>
      <span>Page ${page + 1} of ${pages}</span>
      <button type="button" class="secondary" disabled=${page + 1 >= pages} onClick=${() => setPage(page + 1)}>Next lines</button>
    </nav>`}
    <datalist id="tax-codes">${taxCodes.map((t) => html`<option value=${t.code}>${t.code} (${t.rate}%)</option>`)}</datalist>
    <button type="button" class="secondary" onClick=${add}>Add line</button>
  </section>`;
}

/** The saved document's net, tax and gross (the API's preview totals), with tax per code. */
function TotalsList({ totals, currency }) {
  return html`<dl class="facts totals">
    <div><dt>Net</dt><dd><${Money} value=${totals.net} currency=${currency} /></dd></div>
    <div><dt>Tax</dt><dd>${totals.tax_known ? html`<${Money} value=${totals.tax} currency=${currency} />` : "Calculated when it posts"}</dd></div>
    <div><dt>Gross</dt><dd>${totals.tax_known ? html`<${Money} value=${totals.gross} currency=${currency} />` : "Calculated when it posts"}</dd></div>
  </dl>
  ${totals.taxes?.length > 0 && html`<div class="table"><table>
    <caption>Tax per code</caption>
    <thead><tr><th scope="col">Tax code</th><th scope="col" class="number">Tax (${currency})</th></tr></thead>
    <tbody>${totals.taxes.map((t) => html`<tr><td>${t.tax_code || "None"}</td><td class="number">${t.tax}</td></tr>`)}</tbody>
  </table></div>`}`;
}

export function Totals({ id, version }) {
  const totals = usePreviewTotals(id, version);
  return html`<section aria-labelledby="totals-heading">
    <h2 id="totals-heading">Totals</h2>
    ${totals.loading && html`<${Loading} what="the totals" />`}
    <${ErrorMessage} error=${totals.error} />
    ${totals.data && html`<${TotalsList} totals=${totals.data.totals} currency=${totals.data.currency} />`}
  </section>`;
}

function usePreviewTotals(id, version) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  useEffect(() => {
    let live = true;
    post(`/documents/${id}/preview${query({ lines_limit: 0 })}`).then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => { live = false; };
  }, [id, version]);
  return state;
}

const KINDS = { control: "Control", analysis: "Analysis", tax: "Tax", rounding: "Rounding", small_difference: "Small difference" };

/** What posting would write, from the API's preview: changes nothing. */
function PreviewPanel({ id, preview, dirty, onClose }) {
  const [page, setPage] = useState(preview);
  const [error, setError] = useState(null);
  useEffect(() => setPage(preview), [preview]);
  const t = page.transaction;
  const go = async (offset) => {
    setError(null);
    try {
      setPage(await post(`/documents/${id}/preview${query({ lines_offset: offset, lines_limit: PAGE })}`));
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<section aria-labelledby="preview-heading" class="preview">
    <h2 id="preview-heading" tabindex="-1">Posting preview</h2>
    <p>${page.number} as saved${dirty ? " (your unsaved changes are not in it: Save first)" : ""}. Nothing is posted or changed.</p>
    <${TotalsList} totals=${page.totals} currency=${page.currency} />
    ${page.can_post
      ? html`<p role="status">${page.number} can be posted.</p>`
      : html`<div class="error" role="alert"><p>${page.problems.length === 1 ? "1 problem stops" : `${page.problems.length} problems stop`} ${page.number} from posting:</p>
          <ul class="problems" aria-label="Problems">${page.problems.map((p) => html`<li>${p.message}</li>`)}</ul></div>`}
    ${t && html`<div class="table"><table>
      <caption>The transaction: ${t.line_count} line${t.line_count === 1 ? "" : "s"} in period ${t.period}; 1 ${t.currency} = ${t.rate_document_to_home} ${t.home_currency}, 1 ${t.home_currency} = ${t.rate_home_to_dual} ${t.dual_currency}</caption>
      <thead><tr><th scope="col">Kind</th><th scope="col">GL account</th><th scope="col">Account</th><th scope="col">Description</th>
        <th scope="col" class="number">Document (${t.currency})</th><th scope="col" class="number">Home (${t.home_currency})</th><th scope="col" class="number">Dual (${t.dual_currency})</th></tr></thead>
      <tbody>${t.lines.map((l) => html`<tr><td>${KINDS[l.kind] || l.kind}</td><td>${l.gl_account}</td><td>${l.account || ""}</td><td>${l.description}</td>
        <td class="number">${l.document_value}</td><td class="number">${l.home_value}</td><td class="number">${l.dual_value}</td></tr>`)}</tbody>
    </table></div>
    ${(t.lines_offset > 0 || t.lines_next !== null) && html`<nav class="pager" aria-label="Preview line pages">
      <button type="button" class="secondary" disabled=${t.lines_offset === 0} onClick=${() => go(Math.max(0, t.lines_offset - PAGE))}>Previous transaction lines</button>
      <button type="button" class="secondary" disabled=${t.lines_next === null} onClick=${() => go(t.lines_next)}>Next transaction lines</button>
    </nav>`}
    ${t.discount
      ? html`<p>Due ${t.discount.due_date}; settlement discount ${t.discount.tiers.map((d) => `${d.percent}% (${d.document_amount} ${t.currency}) if paid by ${d.date}`).join(", ")}.</p>`
      : html`<p>No settlement discount.</p>`}`}
    <${ErrorMessage} error=${error} />
    <button type="button" class="secondary" onClick=${onClose}>Close preview</button>
  </section>`;
}

/**
 * The form of a document: `document` is null for a new one of `type`. `outcome` (the last
 * answer: a message or an error) is kept by the page, so it outlives the reload after a save.
 */
export function DocumentForm({ type, document: saved, me, outcome, setOutcome, onSaved, onUnsaved }) {
  const journal = type === "journal";
  const isNew = !saved;
  const [loaded, setLoaded] = useState(() => (isNew || saved.line_count <= saved.lines.length ? saved : null));
  const [loadError, setLoadError] = useState(null);
  const appendOnly = !isNew && saved.line_count > MOST_LINES; // its lines are edited by appending
  useEffect(() => {
    if (isNew || loaded || appendOnly) return;
    get(`/documents/${saved.id}${query({ lines_limit: MOST_LINES })}`).then(setLoaded, setLoadError);
  }, []);
  const initialCompany = isNew
    ? localStorage.getItem(LAST_COMPANY) || me.logged_in_companies?.[0] || me.allowed_companies.find((c) => c !== "*") || ""
    : saved.company;
  const [header, setHeader] = useState(() => formHeader(isNew ? { company: initialCompany } : saved));
  const [lines, setLinesState] = useState(() => (isNew ? [blankLine(journal)] : appendOnly ? [] : null));
  const [linesDirty, setLinesDirty] = useState(false);
  const [headerDirty, setHeaderDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState(null);
  const [companyTyped, setCompanyTyped] = useState(initialCompany);
  const company = useCompany(isNew ? companyTyped : saved.company);
  const form = useRef(null);
  useEffect(() => {
    if (loaded && lines === null) setLinesState(loaded.lines.map((l) => formLine(l, journal)));
  }, [loaded]);
  useEffect(() => { // a new document takes its company's home currency until one is entered
    if (isNew && company && !header.currency) setHeader((h) => ({ ...h, currency: company.home_currency }));
  }, [company]);
  useEffect(() => { // after a refusal, the first field it names has the focus
    if (outcome?.error && problemsOf(outcome.error).length) form.current?.querySelector('[aria-invalid="true"]')?.focus();
  }, [outcome]);

  useEffect(() => onUnsaved?.(headerDirty || linesDirty), [headerDirty, linesDirty]);
  const setLines = (next) => { setLinesState(next); setLinesDirty(true); };
  const set = (field) => (e) => { setHeader({ ...header, [field]: e.target.value }); setHeaderDirty(true); };
  // Where a problem stands: a large document's grid holds only the lines to add, so a
  // problem of the whole document (posting, preview) at `lines[k]` is at grid row k - line_count
  // (an earlier line's stays in the message above); POST /lines names its own lines from 0.
  const inGrid = (list, relative) => (appendOnly && !relative ? list.map((p) => {
    const at = /^lines\[(\d+)\](.*)$/.exec(p.field || "");
    if (!at) return p;
    const row = Number(at[1]) - saved.line_count;
    return { ...p, field: row >= 0 ? `lines[${row}]${at[2]}` : null };
  }) : list);
  // A journal line's `value` is shown at its debit or its credit, whichever was entered.
  const problems = [
    ...inGrid(problemsOf(outcome?.error), outcome?.error?.appended),
    ...inGrid((preview?.problems || []).filter((p) => p.field), false),
  ].map((p) => {
    const at = journal && /^lines\[(\d+)\]\.value$/.exec(p.field || "");
    if (!at) return p;
    const line = lines?.[Number(at[1])];
    return { ...p, field: `lines[${at[1]}].${line && !line.debit.trim() && line.credit.trim() ? "credit" : "debit"}` };
  });

  const body = () => {
    const b = {
      document_date: header.document_date, currency: header.currency.trim().toUpperCase(), tax_mode: header.tax_mode,
      reference: header.reference, description: header.description,
    };
    if (!journal || header.account.trim()) b.account = header.account.trim();
    else if (!isNew) b.account = null;
    if (journal) {
      if (header.auto_reverse_on) b.auto_reverse_on = header.auto_reverse_on;
      else if (!isNew && saved.auto_reverse_on) b.auto_reverse_on = null;
    }
    if (type === "payable_invoice") {
      const orders = header.purchase_orders.split(",").map((o) => o.trim()).filter(Boolean);
      if (orders.length || (!isNew && saved.purchase_orders?.length)) b.purchase_orders = orders;
    }
    return b;
  };
  const apiLines = () => lines.map((l) => apiLine(l, journal, type));

  /** Save: create (POST /documents) or amend (PATCH, then append the new lines of a large one). */
  const save = async (andPost) => {
    setBusy(true); setOutcome(null); setPreview(null);
    try {
      if (journal) {
        const own = journalProblems(lines, appendOnly ? saved.line_count : 0);
        if (own.length) throw Object.assign(formError(own), { appended: true }); // grid rows
      }
      if (isNew) {
        const company = header.company.trim();
        const created = await post(andPost ? "/documents/save-and-post" : "/documents", { type, company, ...body(), lines: apiLines() });
        localStorage.setItem(LAST_COMPANY, company);
        handedOver.set(created.id, { message: andPost ? postedMessage(created) : `${created.number} is saved (In Progress).` });
        location.hash = `#/document/${created.id}`;
        return;
      }
      let changed = false;
      if (headerDirty || (linesDirty && !appendOnly)) {
        await patch(`/documents/${saved.id}`, { ...body(), ...(linesDirty && !appendOnly ? { lines: apiLines() } : {}) });
        changed = true;
        // The form now holds what is saved: it stays as it is (a later edit is not lost to the
        // page's reload), only no longer unsaved.
        setHeaderDirty(false);
        if (!appendOnly) setLinesDirty(false);
      }
      if (appendOnly && lines.length) {
        try {
          await post(`/documents/${saved.id}/lines`, { lines: apiLines(), line_count: saved.line_count });
        } catch (failure) {
          failure.appended = true; // its fields name the lines sent, from 0
          throw failure;
        }
        changed = true;
        setLinesState([]); // appended: they are listed with the others now
        setLinesDirty(false);
      }
      let message = changed ? `${saved.number} is saved.` : `${saved.number} has no unsaved changes.`;
      if (andPost) {
        try {
          message = postedMessage(await post(`/documents/${saved.id}/post`, { mode: "auto" }));
        } catch (failure) {
          setOutcome({ message: changed ? `${saved.number} is saved (In Progress) but not posted.` : null, error: failure });
          if (changed) onSaved();
          return;
        }
      }
      setOutcome({ message });
      onSaved();
    } catch (failure) {
      const document = failure.details?.document; // Save & Post of a new one: saved, not posted
      if (isNew && document?.id) {
        handedOver.set(document.id, { error: failure });
        location.hash = `#/document/${document.id}`;
        return;
      }
      setOutcome({ error: failure });
    } finally {
      setBusy(false);
    }
  };

  const showPreview = async () => {
    setBusy(true); setOutcome(null);
    try {
      setPreview(await post(`/documents/${saved.id}/preview${query({ lines_limit: PAGE })}`));
      setTimeout(() => document.getElementById("preview-heading")?.focus());
    } catch (failure) {
      setOutcome({ error: failure });
    } finally {
      setBusy(false);
    }
  };

  if (loadError) return html`<${ErrorMessage} error=${loadError} />`;
  if (lines === null) return html`<${Loading} what="the lines" />`;
  const accountHint = type.startsWith("payable") ? "The vendor's id" : journal ? "Optional: a customer or vendor" : "The customer's id";
  return html`<form ref=${form} class="document-form" aria-labelledby="entry-heading" onSubmit=${(e) => { e.preventDefault(); save(false); }} novalidate>
    <h2 id="entry-heading">${isNew ? "Enter the document" : `Correct ${saved.number}`}</h2>
    <fieldset class="form-grid">
      <legend>Header</legend>
      ${isNew && html`<${Field} id="company" label="Company" problems=${problems}>
        ${(a) => html`<input ...${a} value=${header.company} list="my-companies" autocomplete="off"
          onInput=${(e) => { setHeader({ ...header, company: e.target.value }); setHeaderDirty(true); }}
          onChange=${(e) => setCompanyTyped(e.target.value.trim())} />
          <datalist id="my-companies">${[...new Set([...(me.logged_in_companies || []), ...me.allowed_companies])].filter((c) => c !== "*").map((c) => html`<option value=${c} />`)}</datalist>`}
      </${Field}>`}
      <${Field} id="account" label="Account" problems=${problems} hint=${accountHint}>
        ${(a) => html`<input ...${a} value=${header.account} autocomplete="off" onInput=${set("account")} />`}
      </${Field}>
      <${Field} id="document_date" label="Document date" problems=${problems}>
        ${(a) => html`<input ...${a} type="date" value=${header.document_date} onInput=${set("document_date")} />`}
      </${Field}>
      <${Field} id="currency" label="Currency" problems=${problems}>
        ${(a) => html`<input ...${a} value=${header.currency} maxlength="3" size="4" autocomplete="off" onInput=${set("currency")} />`}
      </${Field}>
      ${!journal && html`<${Field} id="tax_mode" label="Tax calculation" problems=${problems}>
        ${(a) => html`<select ...${a} value=${header.tax_mode} onChange=${set("tax_mode")}><option value="builtin">Built-in</option><option value="avatax">AvaTax</option></select>`}
      </${Field}>`}
      <${Field} id="reference" label="Reference" problems=${problems}>
        ${(a) => html`<input ...${a} value=${header.reference} maxlength="100" onInput=${set("reference")} />`}
      </${Field}>
      <${Field} id="description" label="Description of the document" problems=${problems}>
        ${(a) => html`<input ...${a} value=${header.description} maxlength="500" onInput=${set("description")} />`}
      </${Field}>
      ${journal && html`<${Field} id="auto_reverse_on" label="Reverse automatically on" problems=${problems} hint="An accrual: left empty, it is not reversed">
        ${(a) => html`<input ...${a} type="date" value=${header.auto_reverse_on} onInput=${set("auto_reverse_on")} />`}
      </${Field}>`}
      ${type === "payable_invoice" && html`<${Field} id="purchase_orders" label="Purchase orders" problems=${problems} hint="Ids separated by commas: verification builds the lines from what was received">
        ${(a) => html`<input ...${a} value=${header.purchase_orders} onInput=${set("purchase_orders")} />`}
      </${Field}>`}
    </fieldset>
    ${company?.credit_terms && !journal && html`<p class="hint">Due ${company.credit_terms.days_due} days after the document date (the company's credit terms; the account's own terms apply when it has them).</p>`}
    ${appendOnly && html`<p class="hint">${saved.number} has ${saved.line_count.toLocaleString()} lines, more than one save can send: its lines are listed below; lines added here are appended after them when you save.</p>`}
    <${LinesGrid} type=${type} lines=${lines} setLines=${setLines} offset=${appendOnly ? saved.line_count : 0} problems=${problems}
      taxCodes=${company?.tax_codes || []} appendOnly=${appendOnly} />
    <div class="actions" role="group" aria-label="Save">
      <button type="submit" disabled=${busy}>Save</button>
      <button type="button" disabled=${busy} onClick=${() => save(true)}>Save & Post</button>
      ${!isNew && html`<button type="button" class="secondary" disabled=${busy} onClick=${showPreview}>Preview</button>`}
    </div>
    ${isNew && html`<p class="hint">Save the document to preview its posting and see its totals.</p>`}
    ${preview && html`<${PreviewPanel} id=${saved.id} preview=${preview} dirty=${headerDirty || linesDirty} onClose=${() => setPreview(null)} />`}
  </form>`;
}

/** #/documents/<type>/new: a blank document of that type. */
export function NewDocumentPage({ type, me }) {
  const [outcome, setOutcome] = useState(null);
  useEffect(() => document.querySelector("main h1")?.focus(), []); // a new page: its heading
  const names = typeName(type);
  return html`<h1 tabindex="-1">New ${names}</h1>
    <p><a href=${`#/documents/${type}`}>Back to the list</a></p>
    <${Outcome} outcome=${outcome} />
    <${DocumentForm} type=${type} document=${null} me=${me} outcome=${outcome} setOutcome=${setOutcome} onSaved=${() => {}} />`;
}
