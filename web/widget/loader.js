// The embed snippet's script: <script src="https://HOST/widget.js" data-team="support" async>.
// On the host page it draws a launcher bubble and keeps the chat in an iframe of HOST
// (loaded at once, hidden until opened), which tells it how many agent messages arrived
// while it was closed, for the bubble's badge.
(() => {
  const script = document.currentScript;
  if (!script) return;
  const base = new URL(script.src).origin;
  const team = script.dataset.team || "support";
  const frame = document.createElement("iframe");
  frame.src = `${base}/widget/?team=${encodeURIComponent(team)}`;
  frame.title = "Chat with us";
  frame.className = "conclave-chat";
  Object.assign(frame.style, {
    position: "fixed", right: "20px", bottom: "90px", width: "360px", height: "520px",
    maxWidth: "calc(100vw - 40px)", maxHeight: "calc(100vh - 120px)",
    border: "1px solid #d9dde5", borderRadius: "12px", boxShadow: "0 8px 30px rgba(0,0,0,.18)",
    background: "#fff", display: "none", zIndex: "2147483646",
  });
  const bubble = document.createElement("button");
  bubble.type = "button";
  bubble.className = "conclave-launcher";
  bubble.setAttribute("aria-label", "Open the chat");
  bubble.setAttribute("aria-expanded", "false");
  // A speech bubble drawn, not an emoji: the same on every system's fonts.
  const svg = "http://www.w3.org/2000/svg";
  const icon = document.createElementNS(svg, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "28");
  icon.setAttribute("height", "28");
  icon.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(svg, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  icon.appendChild(path);
  bubble.appendChild(icon);
  Object.assign(bubble.style, {
    position: "fixed", right: "20px", bottom: "20px", width: "56px", height: "56px",
    borderRadius: "50%", border: "none", background: "#2356c7", color: "#fff",
    cursor: "pointer", zIndex: "2147483647", display: "grid", placeItems: "center",
  });
  const badge = document.createElement("span");
  badge.className = "conclave-unread";
  Object.assign(badge.style, {
    position: "absolute", top: "-4px", right: "-4px", minWidth: "20px", height: "20px",
    borderRadius: "10px", background: "#b3261e", color: "#fff", font: "bold 12px/20px sans-serif",
    display: "none",
  });
  bubble.appendChild(badge);
  let open = false;
  const tell = () => frame.contentWindow?.postMessage({ conclave: open ? "open" : "closed" }, base);
  bubble.addEventListener("click", () => {
    open = !open;
    frame.style.display = open ? "block" : "none";
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? "Close the chat" : "Open the chat");
    tell();
  });
  frame.addEventListener("load", tell);
  window.addEventListener("message", (e) => {
    if (e.origin !== base || e.source !== frame.contentWindow) return;
    if (e.data?.conclave === "ready") return tell();
    if (e.data?.conclave !== "unread") return;
    const count = Number(e.data.count) || 0;
    badge.textContent = String(count);
    badge.style.display = count > 0 ? "block" : "none";
    bubble.setAttribute("aria-label", count > 0 ? `Open the chat (${count} new)` : "Open the chat");
  });
  const attach = () => document.body.append(frame, bubble);
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);
})();
