// One place that binds htm to Preact: every component writes html`<...>` (no build step).
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
