// The public API, called with the signed-in user's identity. Every failure becomes an
// ApiError carrying the API's own words (error.message) and the fields it names.
import { authorization, signedOut } from "./auth.js";

let base = "";

export function useApiBase(url) {
  base = (url || "").replace(/\/$/, "");
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The API answered ${status}.`);
    this.status = status;
    this.code = error.code || "error";
    this.details = error.details || {};
  }

  /** The message the API gave for `field` (as named in details.errors[].field). */
  forField(field) {
    const errors = Array.isArray(this.details.errors) ? this.details.errors : [];
    const found = errors.filter((e) => e.field === field || e.field?.startsWith(`${field}.`) || e.field?.startsWith(`${field}[`));
    return found.length ? found.map((e) => e.message).join("; ") : null;
  }

  /** The fields the API named, in order. */
  get fields() {
    return (Array.isArray(this.details.errors) ? this.details.errors : []).map((e) => e.field);
  }
}

export async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const auth = await authorization();
  if (auth) headers.Authorization = auth;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(base + path, init);
  } catch (failure) {
    throw new ApiError(0, {
      code: "unreachable",
      message: `The API could not be reached (${failure.message}). Check your connection and try again.`,
    });
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) {
    const error = data && typeof data === "object" && data.error ? data.error : { message: `The API answered ${response.status}.` };
    if (response.status === 401) signedOut(error.message);
    throw new ApiError(response.status, error);
  }
  return data;
}

/** A file the API answers (e.g. a PDF with `accept` "application/pdf"), as a Blob. */
export async function download(path, accept) {
  const headers = { Accept: accept };
  const auth = await authorization();
  if (auth) headers.Authorization = auth;
  let response;
  try {
    response = await fetch(base + path, { headers });
  } catch (failure) {
    throw new ApiError(0, {
      code: "unreachable",
      message: `The API could not be reached (${failure.message}). Check your connection and try again.`,
    });
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    const error = data && data.error ? data.error : { message: `The API answered ${response.status}.` };
    if (response.status === 401) signedOut(error.message);
    throw new ApiError(response.status, error);
  }
  return response.blob();
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body ?? {});
export const put = (path, body) => call("PUT", path, body);
export const patch = (path, body) => call("PATCH", path, body);
export const del = (path) => call("DELETE", path);

export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}
