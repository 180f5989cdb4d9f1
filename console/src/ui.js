// Shared pieces: error messages in the API's words, statuses, dates, money, run progress.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { get } from "./api.js";

export const DOCUMENT_TYPES = [
  { type: "sales_invoice", plural: "Sales Invoices", one: "Sales Invoice" },
  { type: "sales_credit_note", plural: "Sales Credit Notes", one: "Sales Credit Note" },
  { type: "payable_invoice", plural: "Payable Invoices", one: "Payable Invoice" },
  { type: "payable_credit_note", plural: "Payable Credit Notes", one: "Payable Credit Note" },
  { type: "journal", plural: "Journals", one: "Journal" },
];
export const typeName = (type) => DOCUMENT_TYPES.find((t) => t.type === type)?.one || type;
export const STATUSES = ["In Progress", "Ready to Post", "Complete", "Discarded"];

/** The API's message for the whole request, as an alert (fields get their own, below them). */
export function ErrorMessage({ error }) {
  if (!error) return null;
  const fields = error.fields || [];
  return html`<div class="error" role="alert">
    <p>${error.message}</p>
    ${fields.length > 1 &&
    html`<ul>
      ${error.details.errors.map((e) => html`<li><code>${e.field}</code>: ${e.message}</li>`)}
    </ul>`}
  </div>`;
}

/** The API's message about one field, shown next to it and tied to it by aria-describedby. */
export function FieldError({ error, field, id }) {
  const text = error?.forField?.(field);
  return text ? html`<span class="field-error" id=${id} role="alert">${text}</span>` : null;
}

export function Notice({ text }) {
  return text ? html`<p class="notice" role="status">${text}</p>` : null;
}

export function Status({ status }) {
  const kind = (status || "").toLowerCase().replace(/\s+/g, "-");
  return html`<span class=${`status status-${kind}`}>${status}</span>`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

/** An instant as the wall clock in `zone` shows it, e.g. "Tue 1 Dec 2026, 09:15". */
export function inZone(iso, zone) {
  const format = new Intl.DateTimeFormat("en-GB", {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZone: zone || undefined,
  });
  return format.format(new Date(iso));
}

export function Money({ value, currency }) {
  if (value === null || value === undefined || value === "") return null;
  return html`<span class="money">${value}${currency ? html` <abbr title=${currency}>${currency}</abbr>` : ""}</span>`;
}

/** Something that is loading, failed, or loaded. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => { live = false; };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** One action at a time on a page: `act(work)` runs `work` (an async function whose answer is
 * the message to show), busy meanwhile, then tells `onChanged`; a refusal is kept as `error`
 * (and given to `onRefused`). `ask()` opens the page's "are you sure" box. */
export function useAction(onChanged, onRefused) {
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const act = async (work) => {
    setBusy(true); setError(null); setMessage(null); setConfirming(false);
    try {
      setMessage(await work());
      onChanged();
    } catch (failure) {
      setError(failure);
      onRefused?.(failure);
    } finally {
      setBusy(false);
    }
  };
  const ask = () => { setError(null); setMessage(null); setConfirming(true); };
  return { error, setError, message, busy, confirming, setConfirming, act, ask };
}

export function Loading({ what }) {
  return html`<p class="loading" role="status">Loading ${what}…</p>`;
}

const FINISHED = (run) => run && run.status.startsWith("completed");

/** A run's counts, polled until it finishes: a <progress> bar and the numbers beside it. */
export function RunProgress({ runId, heading = "h3", onFinished }) {
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const timer = useRef(null);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      try {
        const latest = await get(`/runs/${runId}`);
        if (!live) return;
        setRun(latest);
        setError(null);
        if (!FINISHED(latest)) timer.current = setTimeout(poll, 1000);
        else onFinished?.(latest);
      } catch (failure) {
        if (!live) return;
        setError(failure);
        timer.current = setTimeout(poll, 3000);
      }
    };
    poll();
    return () => { live = false; clearTimeout(timer.current); };
  }, [runId]);
  const Heading = heading;
  if (!run) return html`<section class="run" aria-busy="true"><${Loading} what="the run" /><${ErrorMessage} error=${error} /></section>`;
  const c = run.counts;
  const done = FINISHED(run);
  return html`<section class="run" aria-labelledby=${`run-${runId}`} aria-busy=${!done}>
    <${Heading} id=${`run-${runId}`}>Run <a href=${`#/runs/${runId}`}><code>${runId.slice(0, 8)}</code></a>: <span class="run-status">${run.status}</span></${Heading}>
    <label class="progress">
      <span>Processed ${c.processed} of ${c.queued} document${c.queued === 1 ? "" : "s"}</span>
      <progress max=${Math.max(c.queued, 1)} value=${done && c.queued === 0 ? 1 : c.processed}>${c.processed} of ${c.queued}</progress>
    </label>
    <dl class="counts" aria-live="polite">
      <div><dt>Queued</dt><dd data-count="queued">${c.queued}</dd></div>
      <div><dt>Posted</dt><dd data-count="posted">${c.posted}</dd></div>
      <div><dt>Completed</dt><dd data-count="completed">${c.completed}</dd></div>
      <div><dt>Failed</dt><dd data-count="failed">${c.failed}</dd></div>
      <div><dt>Back to In Progress</dt><dd data-count="returned">${c.returned_to_in_progress}</dd></div>
      <div><dt>Skipped</dt><dd data-count="skipped">${c.skipped}</dd></div>
    </dl>
    ${done && html`<p role="status">The run has finished: ${c.processed} processed${c.failed ? `, ${c.failed} failed` : ""}. <a href="#/worker-log-groups">Worker log groups</a> list every result.</p>`}
    <${ErrorMessage} error=${error} />
  </section>`;
}
