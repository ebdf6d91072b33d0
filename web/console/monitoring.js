// The supervisor's view of a team: its figures, its agents with their availability and
// active chats, and its open conversations with their
// agents and how long each has waited, longest first, each to join as a silent monitor.
// It moves with the team's queue frames, as the queue does.

import { html, useEffect, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";
import { duration } from "/assets/console/format.js";
import { Tiles } from "/assets/console/queue.js";

/** "3 min" for a wait of `ms` milliseconds, or a dash. */
function waited(ms) {
  return ms == null ? "—" : duration(ms);
}

export function Monitoring({ live }) {
  const [teams, setTeams] = useState([]);
  const [team, setTeam] = useState(null);
  const [figures, setFigures] = useState(null);
  const [rows, setRows] = useState(null);
  const [changes, setChanges] = useState(0);
  const [error, setError] = useState(null);
  useEffect(() => {
    api("GET", "/api/teams")
      .then((list) => {
        setTeams(list);
        setTeam((t) => t ?? list[0]?.id ?? null);
      })
      .catch((err) => setError(err.message));
  }, []);
  useEffect(() => {
    if (!team) return;
    const watch = () => live.send({ type: "watch_queue", team }).catch(() => {});
    const stops = [
      live.on("queue", (frame) => {
        if (frame.team !== team) return;
        setFigures(frame.figures);
        setChanges((n) => n + 1);
      }),
      live.on("hello", watch),
    ];
    if (live.state === "open") watch();
    return () => {
      stops.forEach((stop) => stop());
      live.send({ type: "unwatch_queue", team }).catch(() => {});
    };
  }, [team]);
  useEffect(() => {
    if (!team) return;
    api("GET", `/api/teams/${team}/monitoring`)
      .then((answer) => (setRows(answer.conversations), setError(null)))
      .catch((err) => setError(err.message));
  }, [team, changes]);
  const monitor = async (conversation) => {
    try {
      await live.send({ type: "monitor", conversation });
      location.hash = `#/c/${conversation}`;
    } catch (err) {
      setError(err.message);
    }
  };
  return html`
    <section class="monitoring-view" aria-labelledby="monitoring-title">
      <h1 id="monitoring-title">Supervisor</h1>
      <label>Team
        <select value=${team ?? ""} onChange=${(e) => (setTeam(e.target.value), setRows(null))}>
          ${teams.map((t) => html`<option value=${t.id}>${t.name}</option>`)}
        </select>
      </label>
      ${team && html`<${Tiles} figures=${figures} />`}
      ${figures && html`
        <p class="figures">Longest wait ${waited(figures.longest_wait_ms)} ·
          median first response ${waited(figures.median_first_response_ms)} ·
          median resolution ${waited(figures.median_resolution_ms)}</p>`}
      ${figures?.agents?.length > 0 &&
      html`<table class="agents">
        <caption>Agents</caption>
        <thead><tr><th scope="col">Agent</th><th scope="col">Availability</th><th scope="col">Active chats</th></tr></thead>
        <tbody>
          ${figures.agents.map(
            (a) => html`<tr><td>${a.name}</td><td><span class="mode ${a.availability}">${a.availability}</span></td><td>${a.active_chats}</td></tr>`,
          )}
        </tbody>
      </table>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="table-wrap"><table class="conversations">
        <thead><tr><th scope="col">Visitor</th><th scope="col">Status</th><th scope="col">Agents</th>
          <th scope="col">Waiting for an answer</th><th scope="col">Waiting for an agent</th><th scope="col"></th></tr></thead>
        <tbody>
          ${rows === null
            ? html`<tr><td colspan="6" class="placeholder">Loading…</td></tr>`
            : rows.length === 0
              ? html`<tr><td colspan="6" class="placeholder">No open conversations.</td></tr>`
              : rows.map(
                  (c) => html`
                    <tr data-conversation=${c.conversation}>
                      <td><a href=${`#/c/${c.conversation}`}>${c.customer_name || "Visitor"}</a></td>
                      <td><span class="status ${c.status}">${c.status}</span></td>
                      <td>${c.agents.map((a) => a.name).join(", ") || "—"}</td>
                      <td>${waited(c.waiting_for_answer_ms)}</td>
                      <td>${waited(c.waiting_for_agent_ms)}</td>
                      <td><button class="secondary" onClick=${() => monitor(c.conversation)}>Monitor</button></td>
                    </tr>`,
                )}
        </tbody>
      </table></div>
    </section>`;
}
