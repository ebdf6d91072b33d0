// The live chat queue: the team's figures as tiles, and its conversations by tab (visitor,
// status, agent, messages, unreplied, waiting time), kept up
// to date by what the server pushes (a new chat, any change the team's figures show),
// never by polling.

import { html, useEffect, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";
import { nameOf, since } from "/assets/console/format.js";

const TABS = [
  { id: "open", label: "Open", query: "tab=all", keep: (c) => c.status !== "closed" },
  { id: "waiting", label: "Waiting", query: "tab=all&status=waiting" },
  { id: "active", label: "Active", query: "tab=all&status=active" },
  { id: "closed", label: "Closed", query: "tab=all&status=closed" },
  { id: "mine", label: "Mine", query: "tab=mine", keep: (c) => c.status !== "closed" },
];

/** A team's figures as tiles. */
export function Tiles({ figures }) {
  const tiles = [
    ["Waiting", figures?.waiting],
    ["Active", figures?.active],
    ["Unassigned", figures?.unassigned],
    ["Closed today", figures?.closed_today],
    ["My unreplied", figures?.mine?.unreplied],
  ];
  return html`
    <ul class="tiles" aria-label="Queue figures">
      ${tiles.map(
        ([label, value]) => html`
          <li class="tile"><span class="value">${value ?? "–"}</span><span class="label">${label}</span></li>`,
      )}
    </ul>`;
}

export function Queue({ me, live, people }) {
  const [tab, setTab] = useState(TABS[0]);
  const [rows, setRows] = useState(null);
  const [figures, setFigures] = useState(null);
  const [error, setError] = useState(null);
  const [changes, setChanges] = useState(0);
  const team = me.teams[0];

  // The figures of my first team, now and as they change; any change may move the list.
  useEffect(() => {
    const stops = [
      live.on("queue", (frame) => {
        if (frame.team !== team) return;
        setFigures(frame.figures);
        setChanges((n) => n + 1);
      }),
      live.on("conversation_waiting", () => setChanges((n) => n + 1)),
      live.on("hello", () => watch()),
    ];
    const watch = () => team && live.send({ type: "watch_queue", team }).catch(() => {});
    if (live.state === "open") watch();
    return () => {
      stops.forEach((stop) => stop());
      if (team) live.send({ type: "unwatch_queue", team }).catch(() => {});
    };
  }, [team]);

  useEffect(() => {
    let current = true;
    api("GET", `/api/inbox?${tab.query}&limit=200`)
      .then((answer) => {
        if (!current) return;
        setRows(answer.conversations.filter(tab.keep ?? (() => true)));
        setError(null);
      })
      .catch((err) => current && setError(err.message));
    return () => (current = false);
  }, [tab, changes]);

  return html`
    <section class="queue" aria-labelledby="queue-title">
      <h1 id="queue-title">Live chat queue</h1>
      ${team ? html`<${Tiles} figures=${figures} />` : html`<p>You are in no team yet: an admin adds you to one.</p>`}
      <div role="tablist" aria-label="Conversations" class="tabs">
        ${TABS.map(
          (t) => html`
            <button role="tab" aria-selected=${t.id === tab.id} onClick=${() => setTab(t)}>${t.label}</button>`,
        )}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="table-wrap"><table class="conversations">
        <thead>
          <tr><th scope="col">Visitor</th><th scope="col">Status</th><th scope="col">Agent</th><th scope="col">Messages</th><th scope="col">Unreplied</th><th scope="col">Waiting</th></tr>
        </thead>
        <tbody>
          ${rows === null
            ? html`<tr><td colspan="6" class="placeholder">Loading…</td></tr>`
            : rows.length === 0
              ? html`<tr><td colspan="6" class="placeholder">Nothing here.</td></tr>`
              : rows.map(
                  (c) => html`
                    <tr data-conversation=${c.id}>
                      <td><a href=${`#/c/${c.id}`}>${c.customer_name || "Visitor"}</a></td>
                      <td><span class="status ${c.status}">${c.status}</span></td>
                      <td>${c.lead ? nameOf(people, c.lead) : c.assignees?.map((a) => a.name).join(", ") || "—"}</td>
                      <td>${c.messages}</td>
                      <td>${c.unreplied ?? 0}</td>
                      <td>${c.status === "waiting" ? since(c.created_at) : ""}</td>
                    </tr>`,
                )}
        </tbody>
      </table></div>
    </section>`;
}
