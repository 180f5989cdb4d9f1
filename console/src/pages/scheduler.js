// The Background Posting Scheduler tab: frequency settings, Schedule Job, the next runs, Run Now.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { del, get, post, put } from "../api.js";
import { ErrorMessage, FieldError, Loading, Notice, RunProgress, inZone, useLoad } from "../ui.js";

const WEEKDAYS = [
  ["MON", "Monday"], ["TUE", "Tuesday"], ["WED", "Wednesday"], ["THU", "Thursday"],
  ["FRI", "Friday"], ["SAT", "Saturday"], ["SUN", "Sunday"],
];
const NTH = [["1", "First"], ["2", "Second"], ["3", "Third"], ["4", "Fourth"], ["-1", "Last"]];
const ZONES = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];

function formFrom(settings) {
  const s = settings || {};
  return {
    frequency: s.frequency || "hourly",
    every_hours: String(s.every_hours ?? 1),
    start_offset_minutes: String(s.start_offset_minutes ?? 0),
    time: s.time || "02:00",
    weekday: s.weekday || "MON",
    monthly_by: s.nth !== undefined ? "weekday" : "day",
    day: String(s.day ?? 1),
    nth: String(s.nth ?? 1),
    timezone: s.timezone || "",
  };
}

function bodyFrom(form) {
  const body = { frequency: form.frequency };
  if (form.frequency === "hourly") {
    body.every_hours = Number(form.every_hours);
    body.start_offset_minutes = Number(form.start_offset_minutes);
  } else {
    body.time = form.time;
  }
  if (form.frequency === "weekly") body.weekday = form.weekday;
  if (form.frequency === "monthly") {
    if (form.monthly_by === "day") body.day = Number(form.day);
    else Object.assign(body, { nth: Number(form.nth), weekday: form.weekday });
  }
  if (form.timezone) body.timezone = form.timezone;
  return body;
}

function Field({ label, name, error, children, hint }) {
  const errorId = `${name}-error`;
  return html`<div class="field">
    <label for=${name}>${label}</label>
    ${children({ id: name, "aria-describedby": error?.forField?.(name) ? errorId : undefined, "aria-invalid": error?.forField?.(name) ? "true" : undefined })}
    ${hint && html`<span class="hint">${hint}</span>`}
    <${FieldError} error=${error} field=${name} id=${errorId} />
  </div>`;
}

export function SchedulerPage({ me }) {
  const view = useLoad(() => get("/scheduler?count=5"), []);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const [runId, setRunId] = useState(null);
  const [runError, setRunError] = useState(null);
  const [starting, setStarting] = useState(false);
  const [running, setRunning] = useState(false);
  useEffect(() => {
    if (view.data && form === null) setForm(formFrom(view.data.settings));
  }, [view.data]);
  if (view.loading && !view.data) return html`<h1>Background Posting Scheduler</h1><${Loading} what="the schedule" />`;
  if (view.error) return html`<h1>Background Posting Scheduler</h1><${ErrorMessage} error=${view.error} />`;
  if (!form) return null;
  const data = view.data;
  const admin = me.may.schedule_job;
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });

  const scheduleJob = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null); setMessage(null);
    try {
      const answer = await put("/scheduler", bodyFrom(form));
      setMessage(answer.message);
      view.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const unschedule = async () => {
    setBusy(true); setError(null); setMessage(null);
    try {
      await del("/scheduler");
      setMessage("The scheduled job was removed: background posting runs only when someone clicks Run Now or Background Post.");
      view.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const runNow = async () => {
    if (starting || running) return; // a double click starts one run, not two
    setRunError(null); setStarting(true);
    try {
      const started = (await post("/scheduler/run")).run_id;
      setRunId(started); setRunning(true);
    } catch (failure) {
      setRunError(failure);
    } finally {
      setStarting(false);
    }
  };
  const f = form.frequency;
  return html`<h1>Background Posting Scheduler</h1>
    <section aria-labelledby="current">
      <h2 id="current">Scheduled job</h2>
      ${data.scheduled
        ? html`<p>${data.message || "The job is scheduled."}</p>`
        : html`<p>No job is scheduled: documents that are Ready to Post wait until someone clicks Run Now.</p>`}
      ${data.scheduled && data.in_sync === false && html`<p class="warning" role="alert">The schedule in EventBridge does not match the saved settings: click Schedule Job again.</p>`}
      ${data.next_runs.length > 0 && html`<h3>Next runs (${data.timezone})</h3>
        <ol class="next-runs">${data.next_runs.map((r) => html`<li><time datetime=${r.utc}>${inZone(r.utc, data.timezone)}</time></li>`)}</ol>`}
    </section>

    <form onSubmit=${scheduleJob} aria-labelledby="frequency-heading" class="scheduler-form" noValidate>
      <h2 id="frequency-heading">Frequency</h2>
      ${!admin && html`<p class="info" role="status">Only a System Administrator can change the schedule; you can view it and click Run Now.</p>`}
      <fieldset disabled=${!admin || busy}>
        <legend>How often the scheduler runs</legend>
        <div class="choices" role="radiogroup">
          ${[["hourly", "Hourly"], ["daily", "Daily"], ["weekly", "Weekly"], ["monthly", "Monthly"]].map(
            ([value, label]) => html`<label class="choice"><input type="radio" name="frequency" value=${value} checked=${f === value} onChange=${set("frequency")} /> ${label}</label>`,
          )}
        </div>
        <${FieldError} error=${error} field="frequency" id="frequency-error" />
        ${f === "hourly" && html`
          <${Field} label="Repeat every (hours)" name="every_hours" error=${error}>
            ${(a) => html`<input ...${a} type="number" min="1" max="24" value=${form.every_hours} onInput=${set("every_hours")} />`}
          </${Field}>
          <${Field} label="Preferred Start Offset (minutes after the hour)" name="start_offset_minutes" error=${error}
            hint="Set at 09:10 with an offset of 15 minutes, the scheduler first runs at 09:15.">
            ${(a) => html`<input ...${a} type="number" min="0" max="59" value=${form.start_offset_minutes} onInput=${set("start_offset_minutes")} />`}
          </${Field}>`}
        ${(f === "weekly" || (f === "monthly" && form.monthly_by === "weekday")) && html`
          ${f === "monthly" && html`<${Field} label="Which" name="nth" error=${error}>
            ${(a) => html`<select ...${a} value=${form.nth} onChange=${set("nth")}>${NTH.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`}
          </${Field}>`}
          <${Field} label="Day of the week" name="weekday" error=${error}>
            ${(a) => html`<select ...${a} value=${form.weekday} onChange=${set("weekday")}>${WEEKDAYS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`}
          </${Field}>`}
        ${f === "monthly" && html`
          <fieldset class="inner">
            <legend>Day of the month</legend>
            <label class="choice"><input type="radio" name="monthly_by" value="day" checked=${form.monthly_by === "day"} onChange=${set("monthly_by")} /> By day number</label>
            <label class="choice"><input type="radio" name="monthly_by" value="weekday" checked=${form.monthly_by === "weekday"} onChange=${set("monthly_by")} /> By weekday (e.g. the third Tuesday)</label>
          </fieldset>
          ${form.monthly_by === "day" && html`<${Field} label="Day" name="day" error=${error} hint="Day 29 to 31: the last day in shorter months.">
            ${(a) => html`<input ...${a} type="number" min="1" max="31" value=${form.day} onInput=${set("day")} />`}
          </${Field}>`}`}
        ${f !== "hourly" && html`<${Field} label="Preferred Start Time" name="time" error=${error}>
          ${(a) => html`<input ...${a} type="time" value=${form.time} onInput=${set("time")} />`}
        </${Field}>`}
        <${Field} label="Time zone" name="timezone" error=${error} hint=${`Empty: the organisation's time zone (${data.timezone}).`}>
          ${(a) => html`<input ...${a} list="zones" value=${form.timezone} placeholder=${data.timezone} onInput=${set("timezone")} autocomplete="off" />
            <datalist id="zones">${ZONES.map((z) => html`<option value=${z} />`)}</datalist>`}
        </${Field}>
      </fieldset>
      <${ErrorMessage} error=${error} />
      <${Notice} text=${message} />
      <div class="actions">
        ${admin && html`<button type="submit" disabled=${busy}>Schedule Job</button>`}
        ${admin && data.scheduled && html`<button type="button" class="secondary" disabled=${busy} onClick=${unschedule}>Unschedule Job</button>`}
      </div>
    </form>

    <section aria-labelledby="run-now-heading">
      <h2 id="run-now-heading">Run Now</h2>
      <p>Posts every Ready to Post document in the organisation now, as well as at the scheduled times.</p>
      <button type="button" onClick=${runNow} disabled=${starting || running} aria-describedby="run-now-state">Run Now</button>
      <p id="run-now-state" class="muted">${starting ? "Starting a run…" : running ? "A run is under way (below): Run Now is available again when it has finished." : ""}</p>
      <${ErrorMessage} error=${runError} />
      ${runId && html`<${RunProgress} key=${runId} runId=${runId} onFinished=${() => setRunning(false)} />`}
    </section>`;
}
