// A room's events as the console holds them: the newest page when it opens, older pages
// as the reader scrolls back, and live events as they come, each `seq` kept once.

import { useRef, useState } from "/assets/vendor/preact-htm.js";
import { api } from "/assets/console/api.js";

/** A `before_seq` past any room's last event: reading back from it reads the newest page. */
const END = Number.MAX_SAFE_INTEGER;
/** How many events a page holds. */
const PAGE = 50;

/** The events of the room at `path` (`/api/conversations/ID` or `/api/channels/ID`):
 *  `events` (oldest first), `older` ("more", "loading" or "none"), `add(events)`,
 *  `newest()` (reads the newest page; resolves with it, `people` included) and
 *  `loadOlder()` (reads the page before the oldest event held). */
export function useStream(path) {
  const [events, setEvents] = useState([]);
  const [older, setOlder] = useState("loading");
  const seen = useRef(new Map());
  const reading = useRef(false);
  const add = (list) => {
    for (const event of list) seen.current.set(event.seq, event);
    setEvents([...seen.current.values()].sort((a, b) => a.seq - b.seq));
  };
  const read = async (before) => {
    const page = await api("GET", `${path}/events?before_seq=${before}&limit=${PAGE}`);
    add(page.events);
    setOlder(page.has_more ? "more" : "none");
    return page;
  };
  const newest = () => read(END);
  const loadOlder = async () => {
    // One page at a time: scrolling fires many times while a page is on its way.
    if (reading.current || older !== "more") return null;
    reading.current = true;
    setOlder("loading");
    try {
      return await read(Math.min(...seen.current.keys()));
    } catch {
      setOlder("more");
      return null;
    } finally {
      reading.current = false;
    }
  };
  return { events, older, add, newest, loadOlder };
}
