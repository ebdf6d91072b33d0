// How the console writes names, times and durations for people to read.

/** A colleague's name by id, from the staff directory; "a colleague" until it is loaded. */
export function nameOf(people, id) {
  return people.get(id)?.display_name ?? "a colleague";
}

/** "under a minute", "3 min", "2 h 5 min": a span of `ms` milliseconds. */
export function duration(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** "just now", "3 min": how long since `at` (milliseconds since the epoch). */
export function since(at, now = Date.now()) {
  return now - at < 60000 ? "just now" : duration(now - at);
}

/** The time of day of `at`, as the reader's locale writes it. */
export function clock(at) {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** The day of `at`, for the separators between days of a transcript. */
export function day(at) {
  return new Date(at).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
}

/** How long until `at`. */
export function until(at, now = Date.now()) {
  return duration(at - now);
}
