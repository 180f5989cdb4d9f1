// Purchase Orders (set-up): open an order by its number (`GET /purchase-orders/{id}`; the API
// has no list of orders yet), its lines with ordered, received and invoiced quantities, and
// Receive goods (`POST /goods-receipts`), which records a goods receipt for the lines entered.
import { useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { get, post } from "../api.js";
import { ErrorMessage, Loading, Notice, useLoad } from "../ui.js";
import { Field, focusFirstInvalid } from "./setup_fields.js";

export function PurchaseOrdersPage() {
  const [number, setNumber] = useState("");
  const open = (event) => {
    event.preventDefault();
    if (number.trim()) location.hash = `#/setup/purchase-orders/${encodeURIComponent(number.trim())}`;
  };
  return html`<h1>Purchase Orders</h1>
    <p>Open a purchase order by its number to see what was ordered, received and invoiced, and to receive goods.</p>
    <form onSubmit=${open} aria-label="Open a purchase order">
      <div class="field"><label for="order-number">Order number</label>
        <input id="order-number" value=${number} onInput=${(e) => setNumber(e.target.value)} /></div>
      <button type="submit">Open order</button>
    </form>`;
}

const today = () => new Date().toISOString().slice(0, 10);

export function PurchaseOrderPage({ id }) {
  const order = useLoad(() => get(`/purchase-orders/${encodeURIComponent(id)}`), [id]);
  const [quantities, setQuantities] = useState({});
  const [date, setDate] = useState(today());
  const [reference, setReference] = useState("");
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  if (order.loading && !order.data) return html`<h1>Purchase order ${id}</h1><${Loading} what="the order" />`;
  if (order.error) return html`<h1>Purchase order ${id}</h1><p><a href="#/setup/purchase-orders">Purchase Orders</a></p><${ErrorMessage} error=${order.error} />`;
  const o = order.data;
  const entered = o.lines.filter((l) => (quantities[l.line] || "").trim());
  const receive = async (event) => {
    event.preventDefault();
    setBusy(true); setError(null); setMessage(null);
    const lines = entered.map((l) => ({ line: l.line, quantity: quantities[l.line].trim() }));
    try {
      await post("/goods-receipts", { company: o.company, purchase_order: o.id, date, reference: reference.trim(), lines });
      setMessage(`Goods received on ${date}: ${lines.map((l) => `line ${l.line} × ${l.quantity}`).join(", ")}.`);
      setQuantities({});
      order.reload();
    } catch (failure) {
      setError(failure);
      focusFirstInvalid(formRef.current);
    } finally {
      setBusy(false);
    }
  };
  // a refusal about lines[i] of the receipt stands at that order line's quantity
  const lineError = (l) => {
    const index = entered.indexOf(l);
    return index >= 0 ? error?.forField?.(`lines[${index}]`) : null;
  };
  return html`<h1>Purchase order ${o.id}</h1>
    <p><a href="#/setup/purchase-orders">Purchase Orders</a></p>
    <dl class="counts">
      <div><dt>Company</dt><dd>${o.company}</dd></div>
      <div><dt>Vendor</dt><dd>${o.vendor}</dd></div>
      <div><dt>Currency</dt><dd>${o.currency}</dd></div>
      ${o.order_date && html`<div><dt>Order date</dt><dd>${o.order_date}</dd></div>`}
    </dl>
    <form ref=${formRef} onSubmit=${receive} aria-label="Receive goods" noValidate>
      <div class="table"><table>
        <caption>Lines of ${o.id}</caption>
        <thead><tr><th scope="col">Line</th><th scope="col">Description</th><th scope="col" class="number">Unit price</th><th scope="col" class="number">Ordered</th><th scope="col" class="number">Received</th><th scope="col" class="number">Invoiced</th><th scope="col">Receive now</th></tr></thead>
        <tbody>
          ${o.lines.map((l) => html`<tr>
            <td>${l.line}</td><td>${l.description}</td><td class="number">${l.unit_price}</td>
            <td class="number">${l.quantity}</td><td class="number">${l.received_quantity}</td><td class="number">${l.invoiced_quantity}</td>
            <td>
              <input aria-label=${`Receive quantity of line ${l.line}`} inputmode="decimal" value=${quantities[l.line] || ""}
                aria-invalid=${lineError(l) ? "true" : undefined} aria-describedby=${lineError(l) ? `receive-${l.line}-error` : undefined}
                onInput=${(e) => setQuantities({ ...quantities, [l.line]: e.target.value })} />
              ${lineError(l) && html`<span class="field-error" id=${`receive-${l.line}-error`} role="alert">${lineError(l)}</span>`}
            </td>
          </tr>`)}
        </tbody>
      </table></div>
      <div class="form-grid">
        <${Field} label="Received on" name="date" error=${error} idPrefix="receipt-">${(a) => html`<input ...${a} type="date" value=${date} onInput=${(e) => setDate(e.target.value)} />`}</${Field}>
        <${Field} label="Delivery note" name="reference" error=${error} idPrefix="receipt-">${(a) => html`<input ...${a} value=${reference} onInput=${(e) => setReference(e.target.value)} />`}</${Field}>
      </div>
      <${ErrorMessage} error=${error} />
      <${Notice} text=${message} />
      <button type="submit" disabled=${busy || entered.length === 0}>Receive goods</button>
      ${entered.length === 0 && html`<p class="hint">Enter a quantity under Receive now, then Receive goods.</p>`}
    </form>`;
}
