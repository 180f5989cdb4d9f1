// The companies you are logged into: list views and Background Post work within them.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { put } from "../api.js";
import { ErrorMessage, FieldError, Notice } from "../ui.js";

export function CompaniesPage({ me, onChanged }) {
  const [text, setText] = useState((me.logged_in_companies || []).join(", "));
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const allowed = me.allowed_companies.includes("*") ? "every company" : me.allowed_companies.join(", ");
  const save = async (event) => {
    event.preventDefault();
    setError(null); setMessage(null);
    const companies = text.split(/[\s,]+/).filter(Boolean);
    try {
      const answer = await put("/me/companies", { companies });
      setMessage(`You are logged into ${answer.companies.join(", ")}.`);
      onChanged();
    } catch (failure) {
      setError(failure);
    }
  };
  return html`<h1>My Companies</h1>
    <p>You may use ${allowed}. List views show, and Background Post posts, the documents of the companies you are logged into.</p>
    <p>${me.logged_in_companies ? `Logged into: ${me.logged_in_companies.join(", ")}.` : `Logged into: ${allowed}.`}</p>
    <form onSubmit=${save} noValidate>
      <div class="field">
        <label for="companies">Companies to log into (separated by commas)</label>
        <input id="companies" value=${text} onInput=${(e) => setText(e.target.value)} aria-describedby="companies-error" />
        <${FieldError} error=${error} field="companies" id="companies-error" />
      </div>
      <${ErrorMessage} error=${error} />
      <${Notice} text=${message} />
      <button type="submit">Log into these companies</button>
    </form>`;
}
