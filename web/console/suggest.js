// What the composer offers as you type: colleagues to mention after an "@", and the
// team's canned responses after a "/" at the start of a line.

/** How many suggestions are shown at once. */
const SHOWN = 6;

/** The handle a colleague is mentioned by: the part of their email before the "@". */
export function handle(person) {
  return person.email.split("@")[0];
}

/** What to offer for `text` with the caret at `caret`: `{start, end, items}`, each item
 *  `{key, label, hint, insert}` (the text to put in place of text[start..end]), or null
 *  when nothing is being typed that could be completed. `people` are colleagues (from the
 *  staff directory), `canned` the team's `[{shortcut, body}]`. */
export function suggestions(text, caret, { people = [], canned = [] }) {
  const before = text.slice(0, caret);
  const mention = /(^|\s)@([\w.+-]*)$/.exec(before);
  if (mention) {
    const typed = mention[2].toLowerCase();
    const items = people
      .filter((p) => handle(p).toLowerCase().startsWith(typed) || p.display_name.toLowerCase().includes(typed))
      .slice(0, SHOWN)
      .map((p) => ({ key: p.id, label: p.display_name, hint: `@${handle(p)}`, insert: `@${handle(p)} ` }));
    return items.length ? { start: caret - typed.length - 1, end: caret, items } : null;
  }
  const shortcut = /(^|\n)\/([\w-]*)$/.exec(before);
  if (shortcut) {
    const typed = shortcut[2].toLowerCase();
    const items = canned
      .filter((c) => c.shortcut.startsWith(typed))
      .slice(0, SHOWN)
      .map((c) => ({ key: c.shortcut, label: `/${c.shortcut}`, hint: c.body, insert: c.body }));
    return items.length ? { start: caret - typed.length - 1, end: caret, items } : null;
  }
  return null;
}
