/**
 * @module
 * The login page: one field for a bearer key (the same keys the API takes), sent once by a form post.
 */
import { html } from "hono/html";
import { notice, type Html } from "./layout.js";

export function loginBody(next: string, error?: string): Html {
  return html`<div class="login">
  <div class="card login-card">
    <h1>Log in to triage</h1>
    <p class="muted">Paste an API key. A data-plane key (<code>TRIAGE_API_KEYS</code>) shows the dashboard and labels queries; an admin key (<code>TRIAGE_ADMIN_KEYS</code>) can also promote and roll back models.</p>
    ${error ? notice("error", error) : ""}
    <form method="post" action="/dashboard/login">
      <input type="hidden" name="next" value="${next}">
      <label for="key">API key</label>
      <input id="key" name="key" type="password" autocomplete="current-password" required autofocus spellcheck="false">
      <button type="submit" class="primary">Log in</button>
    </form>
    <p class="muted small">The key is checked once and never stored in the browser: you get a session cookie for 12 hours.</p>
  </div>
</div>`;
}
