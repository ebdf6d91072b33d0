// The Invite dialog: a colleague found by name or email, a team, or a skill, invited as a
// participant (may reply and write notes) or a monitor (sees everything, says nothing).

import { html, useEffect, useRef, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";

export function InviteDialog({ conversation, people, live, onClose }) {
  const dialog = useRef(null);
  const [search, setSearch] = useState("");
  const [teams, setTeams] = useState([]);
  const [target, setTarget] = useState(null);
  const [mode, setMode] = useState("participant");
  const [error, setError] = useState(null);
  useEffect(() => {
    dialog.current.showModal();
    api("GET", "/api/teams").then(setTeams).catch(() => {});
  }, []);
  const needle = search.trim().toLowerCase();
  const colleagues = needle
    ? [...people.values()].filter(
        (p) => p.display_name.toLowerCase().includes(needle) || p.email.toLowerCase().includes(needle),
      )
    : [];
  const choices = [
    ...colleagues.map((p) => ({ kind: "agent", id: p.id, label: `${p.display_name} (${p.email})` })),
    ...teams
      .filter((t) => needle && t.name.toLowerCase().includes(needle))
      .map((t) => ({ kind: "team", id: t.id, label: `Team ${t.name}: first to accept` })),
    ...(needle ? [{ kind: "skill", id: needle, label: `Anyone with the skill "${needle}"` }] : []),
  ];
  const invite = async (e) => {
    e.preventDefault();
    if (!target) return setError("Choose whom to invite.");
    try {
      await live.send({ type: "invite", conversation, target: { kind: target.kind, id: target.id }, mode });
      onClose();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`
    <dialog ref=${dialog} class="invite" aria-labelledby="invite-title" onClose=${onClose}>
      <form onSubmit=${invite}>
        <h2 id="invite-title">Invite</h2>
        <label>Colleague, team or skill
          <input type="search" value=${search} autofocus
            onInput=${(e) => (setSearch(e.target.value), setTarget(null))} placeholder="Name or email" />
        </label>
        <ul class="choices" role="listbox" aria-label="Whom to invite">
          ${choices.map(
            (c) => html`
              <li role="option" aria-selected=${target?.kind === c.kind && target?.id === c.id}
                tabindex="0" onClick=${() => setTarget(c)}
                onKeyDown=${(e) => e.key === "Enter" && (e.preventDefault(), setTarget(c))}>${c.label}</li>`,
          )}
        </ul>
        <fieldset>
          <legend>As</legend>
          <label><input type="radio" name="mode" checked=${mode === "participant"}
            onChange=${() => setMode("participant")} /> Participant: may reply and write notes</label>
          <label><input type="radio" name="mode" checked=${mode === "monitor"}
            onChange=${() => setMode("monitor")} /> Monitor: sees everything, says nothing</label>
        </fieldset>
        <p class="error" role="alert">${error ?? ""}</p>
        <div class="actions">
          <button type="button" class="secondary" onClick=${() => dialog.current.close()}>Cancel</button>
          <button type="submit">Invite</button>
        </div>
      </form>
    </dialog>`;
}
