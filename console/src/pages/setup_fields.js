// Pieces the set-up pages share: a labelled field whose API error stands next to it, and the
// mapping of an API refusal about a list entry (e.g. `periods[3].start`) onto the form adding it.
import { html } from "../html.js";
import { FieldError } from "../ui.js";

/** A labelled input; `name` is the API's field name, so its refusal is shown below it. */
export function Field({ label, name, error, hint, idPrefix = "", children }) {
  const id = `${idPrefix}${name}`.replace(/[^A-Za-z0-9_-]/g, "-");
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : undefined;
  const invalid = Boolean(error?.forField?.(name));
  const described = [invalid ? errorId : null, hintId].filter(Boolean).join(" ") || undefined;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children({ id, name, "aria-describedby": described, "aria-invalid": invalid ? "true" : undefined })}
    ${hint && html`<span class="hint" id=${hintId}>${hint}</span>`}
    <${FieldError} error=${error} field=${name} id=${errorId} />
  </div>`;
}

/**
 * An API refusal about entry `index` of the list `list` (fields `list[index].x`), seen from a
 * form whose fields are named `x`: `forField("x")` answers the API's message about that entry's
 * `x`. A refusal naming only the list (`list`) is shown at the form's first field, `first`.
 */
export function entryError(error, list, index, first) {
  if (!error) return null;
  const errors = Array.isArray(error.details?.errors) ? error.details.errors : [];
  const prefix = `${list}[${index}]`;
  const mapped = errors.flatMap((e) => {
    if (e.field === list || e.field === prefix) return [{ ...e, field: first }];
    if (e.field?.startsWith(`${prefix}.`)) return [{ ...e, field: e.field.slice(prefix.length + 1) }];
    return [];
  });
  return {
    message: error.message,
    details: { ...error.details, errors: mapped },
    get fields() { return mapped.map((e) => e.field); },
    forField(field) {
      const found = mapped.filter((e) => e.field === field || e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`));
      return found.length ? found.map((e) => e.message).join("; ") : null;
    },
  };
}

/** Put the focus on the first field the API refused (inside `form`), else leave it. */
export function focusFirstInvalid(form) {
  setTimeout(() => form?.querySelector("[aria-invalid='true']")?.focus(), 0);
}
