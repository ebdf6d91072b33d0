// The agent console: signing in, then the live chat queue and the conversations, on one
// page whose views follow the address (`#/` the queue, `#/c/ID` a conversation).

import { html, render, useEffect, useState } from "/assets/vendor/preact-htm.js";
import { api, auth, login } from "/assets/console/api.js";
import { Live, OPEN, RECONNECTING } from "/assets/console/live.js";
import { Queue } from "/assets/console/queue.js";
import { Conversation } from "/assets/console/conversation.js";
import { Invites, useInvitations } from "/assets/console/invites.js";
import { TeamChat } from "/assets/console/teamchat.js";
import { Monitoring } from "/assets/console/monitoring.js";

function Login({ onIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    setBusy(true);
    setError(null);
    try {
      onIn(await login(form.get("email"), form.get("password")));
    } catch (err) {
      setError(err.code === "bad_credentials" ? "That email and password do not match." : err.message);
      setBusy(false);
    }
  };
  return html`
    <section class="login">
      <h1>Conclave</h1>
      <form onSubmit=${submit} aria-describedby="login-error">
        <label>Email <input name="email" type="email" autocomplete="username" required autofocus /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        <button type="submit" disabled=${busy}>Sign in</button>
        <p id="login-error" class="error" role="alert">${error ?? ""}</p>
      </form>
    </section>`;
}

/** The console's route: the part of the address after `#` (`/messages` on its own opens
 *  team chat). */
function currentRoute() {
  return location.hash.slice(1) || (location.pathname === "/messages" ? "/messages" : "/");
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

function Shell({ me, onOut }) {
  const [live] = useState(() => new Live(auth.token));
  const [state, setState] = useState(live.state);
  const [people, setPeople] = useState(new Map());
  const route = useRoute();
  const [invitations, settle] = useInvitations(live, people);
  useEffect(() => {
    const stops = [
      live.on("state", (s) => setState(s.state)),
      live.on("signed_out", () => onOut()),
    ];
    // It may have connected before this listened.
    setState(live.state);
    api("GET", "/api/users")
      .then((users) => setPeople(new Map(users.map((u) => [u.id, u]))))
      .catch(() => {});
    return () => {
      stops.forEach((stop) => stop());
      live.close();
    };
  }, []);
  const signOut = async () => {
    await api("POST", "/api/logout").catch(() => {});
    onOut();
  };
  const conversation = route.startsWith("/c/") ? route.slice(3) : null;
  const view = conversation
    ? "conversation"
    : route === "/invites"
      ? "invites"
      : route.startsWith("/messages")
        ? "messages"
        : route === "/supervisor"
          ? "supervisor"
          : "queue";
  const supervises = me.role === "supervisor" || me.role === "admin";
  const channel = route.startsWith("/messages/") ? route.slice("/messages/".length) : null;
  return html`
    <header class="top">
      <a class="brand" href="#/">Conclave</a>
      <nav aria-label="Main">
        <a href="#/" aria-current=${view === "queue" ? "page" : null}>Live chat queue</a>
        <a href="#/messages" aria-current=${view === "messages" ? "page" : null}>Team chat</a>
        ${supervises && html`<a href="#/supervisor" aria-current=${view === "supervisor" ? "page" : null}>Supervisor</a>`}
        <a href="#/invites" aria-current=${view === "invites" ? "page" : null}>
          Invites${invitations.length > 0 && html` <span class="count" aria-label="${invitations.length} open">${invitations.length}</span>`}
        </a>
      </nav>
      <span class="state ${state}" role="status">
        ${state === OPEN ? "" : state === RECONNECTING ? "Reconnecting…" : "Connecting…"}
      </span>
      <span class="me">${me.display_name}</span>
      <button class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main>
      ${view === "conversation"
        ? html`<${Conversation} key=${conversation} id=${conversation} me=${me} live=${live} people=${people} />`
        : view === "invites"
          ? html`<${Invites} invitations=${invitations} settle=${settle} live=${live} people=${people} />`
          : view === "messages"
            ? html`<${TeamChat} me=${me} live=${live} people=${people} selected=${channel} />`
            : view === "supervisor"
              ? html`<${Monitoring} live=${live} />`
          : html`<${Queue} me=${me} live=${live} people=${people} />`}
    </main>`;
}

function App() {
  const [me, setMe] = useState(undefined);
  useEffect(() => {
    if (!auth.token) return setMe(null);
    api("GET", "/api/me")
      // The console is for staff: any other token signs in again.
      .then((answer) => setMe(answer.staff ?? null))
      .catch(() => {
        auth.token = null;
        setMe(null);
      });
  }, []);
  if (me === undefined) return html`<p class="loading">Loading…</p>`;
  if (me === null) return html`<${Login} onIn=${setMe} />`;
  const out = () => {
    auth.token = null;
    setMe(null);
  };
  return html`<${Shell} me=${me} onOut=${out} />`;
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
