// Runs: every run of background posting for an administrator, else the runs that processed
// your work, newest first, a page at a time; the counts update while a run is under way.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, query } from "../api.js";
import { ErrorMessage, FieldError, Loading, when } from "../ui.js";

export const TRIGGERS = { run_now: "Run Now", list_view: "Background Post", schedule: "Scheduled", document: "Retry now" };
const STATUSES = ["finding work", "processing", "completed", "completed with failures"];
const finished = (run) => run.status.startsWith("completed");
const LIMIT = 25;

/** A page of a paged list: `next` moves on, `first` goes back to the first page. */
export function usePages(load, deps) {
  const [tokens, setTokens] = useState([null]);
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  const token = tokens[tokens.length - 1];
  useEffect(() => setTokens([null]), deps);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load(token).then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => { live = false; };
  }, [...deps, token, tick]);
  return {
    ...state,
    page: tokens.length,
    next: state.data?.next ? () => setTokens([...tokens, state.data.next]) : null,
    previous: tokens.length > 1 ? () => setTokens(tokens.slice(0, -1)) : null,
    reload: () => setTick((t) => t + 1),
  };
}

export function Pager({ pages, what }) {
  if (!pages.next && !pages.previous) return null;
  return html`<nav class="pager" aria-label=${`Pages of ${what}`}>
    <button type="button" class="secondary" disabled=${!pages.previous} onClick=${() => pages.previous?.()}>Previous page</button>
    <span>Page ${pages.page}</span>
    <button type="button" class="secondary" disabled=${!pages.next} onClick=${() => pages.next?.()}>Next page</button>
  </nav>`;
}

export function RunsPage() {
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const runs = usePages((next) => get(`/runs${query({ status, trigger, limit: LIMIT, next })}`), [status, trigger]);
  const list = runs.data?.runs || [];
  const underWay = list.some((r) => !finished(r));
  useEffect(() => {
    if (!underWay) return undefined;
    const timer = setTimeout(() => runs.reload(), 1500); // live counts while a run is processing
    return () => clearTimeout(timer);
  }, [runs.data]);
  return html`<h1>Runs</h1>
    <p>Each run of background posting: the schedule's, Run Now, a list view's Background Post or a document's Retry now. You see every run as a System Administrator, otherwise the runs that processed work you submitted.</p>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <div class="field"><label for="run-status">Status</label>
        <select id="run-status" value=${status} onChange=${(e) => setStatus(e.target.value)} aria-describedby="run-status-error">
          <option value="">Any status</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
        <${FieldError} error=${runs.error} field="status" id="run-status-error" /></div>
      <div class="field"><label for="run-trigger">Started by</label>
        <select id="run-trigger" value=${trigger} onChange=${(e) => setTrigger(e.target.value)}>
          <option value="">Anything</option>
          ${Object.entries(TRIGGERS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select></div>
    </form>
    ${runs.loading && !runs.data && html`<${Loading} what="runs" />`}
    <${ErrorMessage} error=${runs.error} />
    ${runs.data && (list.length === 0
      ? html`<p>No runs${status || trigger ? " match these filters" : " yet"}.</p>`
      : html`<div class="table"><table aria-busy=${underWay}>
        <caption>Runs, newest first</caption>
        <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">By</th><th scope="col">Trigger</th><th scope="col">Status</th>
          <th scope="col">Queued</th><th scope="col">Processed</th><th scope="col">Posted</th><th scope="col">Failed</th></tr></thead>
        <tbody aria-live="polite">${list.map((r) => html`<tr>
          <th scope="row"><a href=${`#/runs/${r.id}`}><code>${r.id.slice(0, 12)}</code></a></th>
          <td>${when(r.started_at)}</td><td>${r.started_by}</td><td>${TRIGGERS[r.trigger] || r.trigger}</td>
          <td class="run-status">${r.status}</td>
          <td class="number" data-count="queued">${r.counts.queued}</td><td class="number" data-count="processed">${r.counts.processed}</td>
          <td class="number" data-count="posted">${r.counts.posted}</td><td class="number" data-count="failed">${r.counts.failed}</td></tr>`)}</tbody>
      </table></div>`)}
    <${Pager} pages=${runs} what="runs" />`;
}
