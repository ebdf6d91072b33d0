// The REST side: the signed-in token, and JSON requests that fail with the server's own
// error code and message.

const TOKEN_KEY = "conclave.token";

/** The token of the signed-in staff member, kept for this tab only. */
export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A refused request: `code` is the server's stable code, `message` says what to do. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Sends a JSON request; resolves with the JSON answer (or null), rejects with ApiError. */
export async function api(method, path, body) {
  const headers = {};
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unreachable", "The server cannot be reached: check your connection.");
  }
  const text = await response.text();
  const answer = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = answer?.error ?? {};
    throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText);
  }
  return answer;
}

/** Signs in; resolves with the user. */
export async function login(email, password) {
  const answer = await api("POST", "/api/login", { email, password });
  auth.token = answer.token;
  return answer.user;
}

/** Uploads `file` to the stream at `path` (`/api/conversations/ID` or `/api/channels/ID`);
 *  resolves with the attachment to put on a post. */
export async function upload(path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch(`${path}/attachments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${auth.token}` },
    body: form,
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const error = answer?.error ?? {};
    throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText);
  }
  return answer;
}

/** A file's bytes as a local address the page may show (downloads need the token). */
export async function fileUrl(id) {
  const response = await fetch(`/api/attachments/${id}`, {
    headers: { Authorization: `Bearer ${auth.token}` },
  });
  if (!response.ok) throw new ApiError(response.status, "not_found", "That file is gone.");
  return URL.createObjectURL(await response.blob());
}
