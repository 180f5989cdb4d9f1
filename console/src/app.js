// The console: hash routes (#/...), the signed-in user, the navigation and the pages.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { html } from "./html.js";
import { get, useApiBase } from "./api.js";
import {
  completeCognitoSignIn, configure, hasCognitoSession, isLocal, localUser,
  signInLocally, signInWithCognito, signOutOfCognito, signedOut,
} from "./auth.js";
import { DOCUMENT_TYPES, ErrorMessage, Loading } from "./ui.js";
import { SchedulerPage } from "./pages/scheduler.js";
import { ListView } from "./pages/listview.js";
import { DocumentPage } from "./pages/document.js";
import { NewDocumentPage } from "./pages/document_form.js";
import { LogGroupList, LogGroupPage } from "./pages/loggroups.js";
import { RunPage } from "./pages/run.js";
import { RunsPage } from "./pages/runs.js";
import { JobQueuePage } from "./pages/job_queue.js";
import { CompaniesPage } from "./pages/companies.js";
import { AuditPage } from "./pages/history.js";

// The set-up pages load when first opened (dynamic import), so the first load stays small.
const SET_UP_MODULES = {
  companies: () => import("./pages/company_setup.js"),
  settings: () => import("./pages/settings.js"),
  purchasing: () => import("./pages/purchase_orders.js"),
  recurring: () => import("./pages/recurring.js"),
  accounts: () => import("./pages/accounts.js"),
};

function Lazy({ module, name, ...props }) {
  const [loaded, setLoaded] = useState(null);
  const [failure, setFailure] = useState(null);
  useEffect(() => {
    SET_UP_MODULES[module]().then(setLoaded, setFailure);
  }, [module]);
  if (failure) return html`<p role="alert">The page could not load: ${failure.message}</p>`;
  if (!loaded) return html`<${Loading} what="the page" />`;
  const Component = loaded[name];
  return html`<${Component} ...${props} />`;
}

function currentRoute() {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(search) };
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

function LocalSignIn({ onSignedIn, reason }) {
  const [users, setUsers] = useState(null);
  const [chosen, setChosen] = useState("");
  const [failure, setFailure] = useState(null);
  useEffect(() => {
    get("/_local/users").then(setUsers, () => setUsers([]));
  }, []);
  const submit = (event) => {
    event.preventDefault();
    if (!chosen.trim()) {
      setFailure("Choose the local user you are.");
      return;
    }
    signInLocally(chosen.trim());
    onSignedIn();
  };
  if (users === null) return html`<${Loading} what="the local users" />`;
  return html`<main id="main" class="sign-in">
    <h1>Sign in to Background Posting</h1>
    ${reason && html`<p class="notice" role="status">${reason}</p>`}
    <form onSubmit=${submit}>
      ${users.length
        ? html`<fieldset>
            <legend>Which local user are you?</legend>
            ${users.map(
              (u) => html`<label class="choice">
                <input type="radio" name="user" value=${u.id} checked=${chosen === u.id} onChange=${() => setChosen(u.id)} />
                <span><strong>${u.id}</strong> <span class="muted">${u.groups.length ? u.groups.join(", ") : "no permission set"}</span></span>
              </label>`,
            )}
          </fieldset>`
        : html`<label>Local user id <input name="user" value=${chosen} onInput=${(e) => setChosen(e.target.value)} /></label>`}
      ${failure && html`<p class="field-error" role="alert">${failure}</p>`}
      <button type="submit">Sign in</button>
    </form>
  </main>`;
}

function CognitoSignIn({ reason }) {
  return html`<main id="main" class="sign-in">
    <h1>Sign in to Background Posting</h1>
    ${reason && html`<p class="notice" role="status">${reason}</p>`}
    <button type="button" onClick=${() => signInWithCognito()}>Sign in</button>
  </main>`;
}

/** The set-up pages, grouped under one disclosure so the navigation fits one line. */
const SET_UP = [
  ["#/setup/companies", "Companies"],
  ["#/setup/accounts", "Customers and Vendors"],
  ["#/setup/purchase-orders", "Purchase Orders"],
  ["#/setup/recurring-invoices", "Recurring Invoices"],
  ["#/setup/settings", "Settings"],
  ["#/companies", "My Companies"],
];

function Navigation({ me, onSignOut }) {
  const here = location.hash || "#/";
  const [open, setOpen] = useState(false);
  const [setUpOpen, setSetUpOpen] = useState(false);
  useEffect(() => {
    const closed = () => { setOpen(false); setSetUpOpen(false); };
    addEventListener("hashchange", closed);
    return () => removeEventListener("hashchange", closed);
  }, []);
  const current = (href) => here === href || here.startsWith(`${href}/`);
  const link = (href, label) =>
    html`<li><a href=${href} aria-current=${current(href) ? "page" : undefined}>${label}</a></li>`;
  const inSetUp = SET_UP.some(([href]) => current(href));
  return html`<header class="top">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
    <p class="brand"><a href="#/">Background Posting</a></p>
    <button type="button" class="menu-button" aria-expanded=${open} aria-controls="main-navigation" onClick=${() => setOpen(!open)}>Menu</button>
    <nav aria-label="Main" id="main-navigation" class=${open ? "open" : ""}>
      <ul>
        ${me.may.view_scheduler && link("#/scheduler", "Background Posting Scheduler")}
        ${DOCUMENT_TYPES.map((t) => link(`#/documents/${t.type}`, t.plural))}
        ${link("#/runs", "Runs")}
        ${link("#/job-queue", "My Job Queue")}
        ${link("#/worker-log-groups", "Worker Log Groups")}
        ${me.may.read_audit && link("#/audit", "Audit")}
        <li class="group">
          <button type="button" class="link" aria-expanded=${setUpOpen} aria-controls="set-up-links"
            aria-current=${inSetUp ? "true" : undefined} onClick=${() => setSetUpOpen(!setUpOpen)}>Set-up</button>
          <ul id="set-up-links" hidden=${!setUpOpen}>
            ${SET_UP.map(([href, label]) => link(href, label))}
          </ul>
        </li>
      </ul>
    </nav>
    <p class="who">Signed in as <strong>${me.user_id}</strong> <button type="button" class="link" onClick=${onSignOut}>Sign out</button></p>
  </header>`;
}

function NotAllowed() {
  return html`<h1>Background Posting Scheduler</h1>
    <p role="alert">The Background Posting Scheduler is shown to System Administrators and to users with the Background Posting - Run Now permission set.</p>`;
}

function Page({ route, me, onMeChanged }) {
  const [first, second, third] = route.parts;
  if (!first) return html`<${ListView} type="sales_invoice" me=${me} />`;
  if (first === "scheduler") return me.may.view_scheduler ? html`<${SchedulerPage} me=${me} />` : html`<${NotAllowed} />`;
  if (first === "documents" && third === "new" && DOCUMENT_TYPES.some((t) => t.type === second)) return html`<${NewDocumentPage} key=${`new-${second}`} type=${second} me=${me} />`;
  if (first === "documents" && !third && DOCUMENT_TYPES.some((t) => t.type === second)) return html`<${ListView} key=${second} type=${second} me=${me} />`;
  if (first === "document" && second) return html`<${DocumentPage} key=${second} id=${second} me=${me} />`;
  if (first === "worker-log-groups" && second) return html`<${LogGroupPage} key=${second} id=${second} me=${me} />`;
  if (first === "worker-log-groups") return html`<${LogGroupList} me=${me} />`;
  if (first === "companies") return html`<${CompaniesPage} me=${me} onChanged=${onMeChanged} />`;
  if (first === "runs" && second) return html`<${RunPage} key=${second} id=${second} />`;
  if (first === "runs") return html`<${RunsPage} />`;
  if (first === "job-queue") return html`<${JobQueuePage} />`;
  if (first === "audit") return html`<${AuditPage} me=${me} />`;
  if (first === "setup" && second === "companies" && third) return html`<${Lazy} module="companies" name="CompanySetupPage" key=${third} id=${decodeURIComponent(third)} me=${me} />`;
  if (first === "setup" && second === "companies") return html`<${Lazy} module="companies" name="CompanyListPage" key="companies" me=${me} />`;
  if (first === "setup" && second === "purchase-orders" && third) return html`<${Lazy} module="purchasing" name="PurchaseOrderPage" key=${third} id=${decodeURIComponent(third)} />`;
  if (first === "setup" && second === "purchase-orders") return html`<${Lazy} module="purchasing" name="PurchaseOrdersPage" key="orders" />`;
  if (first === "setup" && second === "recurring-invoices" && third) return html`<${Lazy} module="recurring" name="RecurringInvoicePage" key=${third} id=${decodeURIComponent(third)} />`;
  if (first === "setup" && second === "recurring-invoices") return html`<${Lazy} module="recurring" name="RecurringInvoicesPage" key="recurring" />`;
  if (first === "setup" && second === "accounts") return html`<${Lazy} module="accounts" name="AccountsPage" key="accounts" />`;
  if (first === "setup" && second === "settings") return html`<${Lazy} module="settings" name="SettingsPage" key="settings" me=${me} />`;
  return html`<h1>Page not found</h1><p>There is no page <code>${location.hash}</code>. <a href="#/">Go to the start</a>.</p>`;
}

function App({ config }) {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(isLocal() ? Boolean(localUser()) : hasCognitoSession());
  const [reason, setReason] = useState(null);
  const [me, setMe] = useState(null);
  const [failure, setFailure] = useState(null);
  useEffect(() => {
    configure(config, (why) => { setMe(null); setSignedIn(false); setReason(why || null); });
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    setFailure(null);
    get("/me").then(setMe, setFailure);
  }, [signedIn]);
  useEffect(() => {
    const title = document.querySelector("main h1")?.textContent;
    if (title) document.title = `${title} · Background Posting`;
  });
  if (!signedIn) {
    return isLocal()
      ? html`<${LocalSignIn} reason=${reason} onSignedIn=${() => { setReason(null); setSignedIn(true); }} />`
      : html`<${CognitoSignIn} reason=${reason} />`;
  }
  if (failure) return html`<main id="main"><h1>Background Posting</h1><${ErrorMessage} error=${failure} /></main>`;
  if (!me) return html`<${Loading} what="your permissions" />`;
  const signOut = () => {
    if (isLocal()) signedOut("You have signed out.");
    else signOutOfCognito();
  };
  return html`<${Navigation} me=${me} onSignOut=${signOut} />
    <main id="main" tabindex="-1"><${Page} route=${route} me=${me} onMeChanged=${() => get("/me").then(setMe, setFailure)} /></main>`;
}

async function start() {
  const root = document.getElementById("app");
  try {
    const config = await (await fetch("./config.json", { cache: "no-store" })).json();
    configure(config, () => {});
    useApiBase(config.api);
    if (config.auth === "cognito") await completeCognitoSignIn();
    render(html`<${App} config=${config} />`, root);
  } catch (failure) {
    render(html`<main><h1>Background Posting</h1><p role="alert">The console could not start: ${failure.message}</p></main>`, root);
  }
}

start();
