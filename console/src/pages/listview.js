// A list view per document type: New (a blank document of the type), filter by status and
// company, page, select and Post, Background Post (Listview permission set or System
// Administrator).
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, post, query } from "../api.js";
import { DOCUMENT_TYPES, ErrorMessage, FieldError, Loading, Notice, RunProgress, STATUSES, Status, useLoad } from "../ui.js";

const PAGE = 25;
const LAST_COMPANY = "bp.company";

export function ListView({ type, me }) {
  const names = DOCUMENT_TYPES.find((t) => t.type === type);
  const [filters, setFilters] = useState({ status: "", company: localStorage.getItem(LAST_COMPANY) || "" });
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [filters]);
  const [pages, setPages] = useState([null]); // the `next` token of each page seen so far
  const token = pages[pages.length - 1];
  // A user allowed every company and not logged into some must name one to list.
  const needsCompany = !filters.company && me.logged_in_companies === null && me.allowed_companies.includes("*");
  const list = useLoad(
    () => needsCompany ? Promise.resolve(null) : get(`/documents${query({ type, status: filters.status, company: filters.company, limit: PAGE, next: token })}`),
    [type, filters.status, filters.company, token],
  );
  const [selected, setSelected] = useState(new Set());
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const [runId, setRunId] = useState(null);

  const documents = list.data?.documents || [];
  const apply = (event) => {
    event.preventDefault();
    const company = draft.company.trim();
    if (company) localStorage.setItem(LAST_COMPANY, company);
    else localStorage.removeItem(LAST_COMPANY);
    setFilters({ ...draft, company });
    setPages([null]);
    setSelected(new Set());
  };
  const toggle = (id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id); else next.add(id);
    setSelected(next);
  };
  const allSelected = documents.length > 0 && documents.every((d) => selected.has(d.id));
  const toggleAll = () => setSelected(allSelected ? new Set() : new Set(documents.map((d) => d.id)));

  const postSelected = async () => {
    setBusy(true); setError(null); setMessage(null);
    try {
      const answer = await post("/documents/post", { ids: [...selected] });
      const numbers = answer.documents.map((d) => d.number).join(", ");
      setMessage(`${answer.documents.length} document${answer.documents.length === 1 ? " is" : "s are"} Ready to Post: ${numbers}. The Background Posting Scheduler posts them at its next run.`);
      setSelected(new Set());
      list.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const backgroundPost = async () => {
    setBusy(true); setError(null); setMessage(null);
    try {
      const answer = await post("/documents/background-post", { type });
      setRunId(answer.run_id);
      setMessage(`Background Post started: every Ready to Post ${names.one.toLowerCase()} in ${me.may.schedule_job ? "all companies" : "your companies"} is being posted.`);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return html`<h1>${names.plural}</h1>
    <form class="filters" onSubmit=${apply} aria-label="Filter">
      <div class="field">
        <label for="status">Status</label>
        <select id="status" value=${draft.status} onChange=${(e) => setDraft({ ...draft, status: e.target.value })}>
          <option value="">Any status</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="company">Company</label>
        <input id="company" value=${draft.company} onInput=${(e) => setDraft({ ...draft, company: e.target.value })} placeholder="Every company" aria-describedby="company-error" />
        <${FieldError} error=${list.error} field="company" id="company-error" />
      </div>
      <button type="submit" class="secondary">Apply filters</button>
    </form>

    <div class="actions" role="group" aria-label="List view actions">
      <button type="button" class="secondary" onClick=${() => { location.hash = `#/documents/${type}/new`; }}>New</button>
      <button type="button" disabled=${busy || selected.size === 0} onClick=${postSelected}>Post${selected.size ? ` (${selected.size})` : ""}</button>
      ${me.may.background_post && html`<button type="button" disabled=${busy} onClick=${backgroundPost}>Background Post</button>`}
    </div>
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
    ${runId && html`<${RunProgress} key=${runId} runId=${runId} />`}

    ${needsCompany && html`<p class="notice" role="status">Enter a company and click Apply filters to see its ${names.plural.toLowerCase()}.</p>`}
    ${list.error && html`<${ErrorMessage} error=${list.error} />`}
    ${list.loading && !list.data && html`<${Loading} what=${names.plural.toLowerCase()} />`}
    ${list.data && html`<div class="table" aria-busy=${list.loading}>
      <table>
        <caption>${documents.length ? `${documents.length} ${names.plural.toLowerCase()} on page ${pages.length}` : `No ${names.plural.toLowerCase()} match these filters.`}</caption>
        <thead><tr>
          <th scope="col"><input type="checkbox" aria-label="Select every document on this page" checked=${allSelected} onChange=${toggleAll} /></th>
          <th scope="col">Number</th><th scope="col" class="wide-only">Company</th><th scope="col" class="wide-only">Account</th>
          <th scope="col">Date</th><th scope="col" class="wide-only">Currency</th><th scope="col" class="number wide-only">Lines</th><th scope="col">Status</th>
        </tr></thead>
        <tbody>
          ${documents.map((d) => html`<tr key=${d.id} class=${selected.has(d.id) ? "selected" : ""}>
            <td><input type="checkbox" aria-label=${`Select ${d.number}`} checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>
            <th scope="row"><a href=${`#/document/${d.id}`}>${d.number}</a></th>
            <td class="wide-only">${d.company}</td><td class="wide-only">${d.account || ""}</td><td class="nowrap">${d.document_date}</td><td class="wide-only">${d.currency}</td>
            <td class="number wide-only">${d.line_count}</td><td><${Status} status=${d.status} /></td>
          </tr>`)}
        </tbody>
      </table>
    </div>
    <nav class="pager" aria-label="Pages">
      <button type="button" class="secondary" disabled=${pages.length === 1} onClick=${() => setPages(pages.slice(0, -1))}>Previous page</button>
      <span>Page ${pages.length}</span>
      <button type="button" class="secondary" disabled=${!list.data.next} onClick=${() => setPages([...pages, list.data.next])}>Next page</button>
    </nav>`}`;
}
