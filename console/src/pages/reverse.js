// Reversing a posted journal (POST /documents/{id}/reverse): asks for the date and a reason
// first; shows the links between a journal and its reversal, and an accrual's date.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { post } from "../api.js";
import { ErrorMessage, Notice } from "../ui.js";

const today = () => new Date().toISOString().slice(0, 10);

export function Reversal({ document: d, onChanged }) {
  const [asking, setAsking] = useState(false);
  const [on, setOn] = useState(today());
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  if (d.type !== "journal") return null;
  const reversible = d.status === "Complete" && !d.reversed_by && !d.reverses;
  const links = html`
    ${d.reverses && html`<p>Reverses <a href=${`#/document/${d.reverses}`}>the journal it corrects</a>.</p>`}
    ${d.reversed_by && html`<p>Reversed by <a href=${`#/document/${d.reversed_by}`}>its reversal</a>.</p>`}
    ${d.auto_reverse_on && !d.reversed_by && html`<p>An accrual: the first run on or after ${d.auto_reverse_on} reverses it${d.status === "Complete" ? "" : " once it is posted"}.</p>`}`;
  const reverse = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null); setMessage(null);
    try {
      const answer = await post(`/documents/${d.id}/reverse`, { date: on, reason });
      setAsking(false);
      setMessage(answer.status === "Complete"
        ? `${answer.number} reverses ${d.number}: transaction ${answer.transaction_number}.`
        : `${answer.number} reverses ${d.number}; it is Ready to Post and posts in the background.`);
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="reversal-heading">
    <h2 id="reversal-heading">Reversal</h2>
    ${links}
    ${reversible && !asking && html`<button type="button" onClick=${() => { setAsking(true); setError(null); }}>Reverse</button>`}
    ${reversible && asking && html`<form class="confirm" aria-label=${`Reverse ${d.number}`} onSubmit=${reverse}>
      <p>Reverse ${d.number}? A second journal negates every line at ${d.number}'s rates, in the period of the date you choose.</p>
      <label>Reversal date <input type="date" required value=${on} onInput=${(e) => setOn(e.target.value)} /></label>
      <label>Reason <input type="text" maxlength="200" value=${reason} onInput=${(e) => setReason(e.target.value)} /></label>
      <button type="submit" disabled=${busy}>Reverse ${d.number}</button>
      <button type="button" class="secondary" onClick=${() => setAsking(false)}>Keep it</button>
    </form>`}
    <${ErrorMessage} error=${error} />
    <${Notice} text=${message} />
  </section>`;
}
