//! The server's REST API, as far as the tool needs it: logging in, teams, users and
//! starting chats.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::{json, Value};

/// Why a REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0:?} is not a usable URL: use http://HOST[:PORT][/PREFIX] (TLS is not supported)")]
    Url(String),
    #[error("{method} {path}: {detail}")]
    Transport {
        method: Method,
        path: String,
        /// The error and its causes.
        detail: String,
    },
    #[error("{method} {path}: HTTP {status} {code}: {message}")]
    Status {
        method: Method,
        path: String,
        status: StatusCode,
        code: String,
        message: String,
    },
    #[error("{method} {path}: unexpected answer {body}")]
    Answer {
        method: Method,
        path: String,
        body: String,
    },
}

impl ApiError {
    /// The HTTP status the server answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A staff member logged in.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub token: String,
}

/// A chat a customer started.
#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub conversation: String,
    pub token: String,
}

/// A client for one server, or for the nodes of one deployment.
#[derive(Clone)]
pub struct Api {
    /// REST requests go to the first; WebSockets may go to any.
    bases: Vec<String>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    /// A client for the server at `url` (`http://host[:port][/prefix]`), or for the nodes
    /// at several such URLs, comma-separated.
    pub fn new(url: &str) -> Result<Api, ApiError> {
        let mut bases = Vec::new();
        for one in url.split(',') {
            let base = one.trim().trim_end_matches('/');
            let host = base.strip_prefix("http://").unwrap_or_default();
            if host.is_empty() || base.parse::<hyper::Uri>().is_err() {
                return Err(ApiError::Url(one.to_owned()));
            }
            bases.push(base.to_owned());
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Api { bases, client })
    }

    /// The WebSocket URL for `token`, on the first node.
    pub fn ws_url(&self, token: &str) -> String {
        self.ws_url_on(0, token)
    }

    /// The WebSocket URL for `token` on node `node` (counted round the nodes).
    pub fn ws_url_on(&self, node: usize, token: &str) -> String {
        let base = &self.bases[node % self.bases.len()];
        format!("ws://{}/ws?token={token}", &base["http://".len()..])
    }

    /// Sends a request and returns the status and JSON body (`null` when empty). Statuses
    /// of 400 and above are errors.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), ApiError> {
        let transport = |error: &dyn std::error::Error| ApiError::Transport {
            method: method.clone(),
            path: path.to_owned(),
            detail: std::iter::successors(Some(error), |e| e.source())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": "),
        };
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.bases[0]));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let payload = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|e| transport(&e))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(&e))?
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        if status.as_u16() >= 400 {
            let text = |field: &str| {
                value["error"][field]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            };
            return Err(ApiError::Status {
                method,
                path: path.to_owned(),
                status,
                code: text("code"),
                message: text("message"),
            });
        }
        Ok((status, value))
    }

    fn answer(method: Method, path: &str, body: &Value) -> ApiError {
        ApiError::Answer {
            method,
            path: path.to_owned(),
            body: body.to_string(),
        }
    }

    /// `POST /api/login`.
    pub async fn login(&self, email: &str, password: &str) -> Result<Login, ApiError> {
        let body = json!({ "email": email, "password": password });
        let (_, answer) = self
            .call(Method::POST, "/api/login", None, Some(body))
            .await?;
        match (answer["token"].as_str(), answer["user"]["id"].as_str()) {
            (Some(token), Some(user)) => Ok(Login {
                user: user.to_owned(),
                token: token.to_owned(),
            }),
            _ => Err(Self::answer(Method::POST, "/api/login", &answer)),
        }
    }

    /// The id of the team called `name`, created if it does not exist.
    pub async fn ensure_team(&self, admin: &str, name: &str) -> Result<String, ApiError> {
        let body = json!({ "name": name });
        match self
            .call(Method::POST, "/api/teams", Some(admin), Some(body))
            .await
        {
            Ok((_, team)) => team["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Self::answer(Method::POST, "/api/teams", &team)),
            Err(e) if e.status() == Some(StatusCode::CONFLICT) => {
                let (_, teams) = self
                    .call(Method::GET, "/api/teams", Some(admin), None)
                    .await?;
                teams
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| t["name"] == name)
                    .and_then(|t| t["id"].as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| Self::answer(Method::GET, "/api/teams", &teams))
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a staff user, in `team` if given. Returns whether it was created: `false`
    /// when a user with that email exists already (it is then added to `team`).
    pub async fn ensure_user(
        &self,
        admin: &str,
        email: &str,
        password: &str,
        role: &str,
        team: Option<&str>,
    ) -> Result<bool, ApiError> {
        let body = json!({
            "email": email,
            "password": password,
            "display_name": email.split('@').next().unwrap_or(email),
            "role": role,
            "teams": team.into_iter().collect::<Vec<_>>(),
        });
        match self
            .call(Method::POST, "/api/users", Some(admin), Some(body))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(StatusCode::CONFLICT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every staff user's id, by email (`GET /api/users`).
    pub async fn user_ids(
        &self,
        admin: &str,
    ) -> Result<std::collections::HashMap<String, String>, ApiError> {
        let (_, users) = self
            .call(Method::GET, "/api/users", Some(admin), None)
            .await?;
        let users = users
            .as_array()
            .ok_or_else(|| Self::answer(Method::GET, "/api/users", &users))?;
        Ok(users
            .iter()
            .filter_map(|u| {
                Some((
                    u["email"].as_str()?.to_owned(),
                    u["id"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    /// The id of the public team channel called `name`, made by `token`'s user if it does
    /// not exist.
    pub async fn ensure_channel(&self, token: &str, name: &str) -> Result<String, ApiError> {
        let body = json!({ "name": name });
        match self
            .call(Method::POST, "/api/channels", Some(token), Some(body))
            .await
        {
            Ok((_, channel)) => channel["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Self::answer(Method::POST, "/api/channels", &channel)),
            Err(e) if e.status() == Some(StatusCode::CONFLICT) => {
                let (_, listing) = self
                    .call(Method::GET, "/api/channels/directory", Some(token), None)
                    .await?;
                listing
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["name"] == name)
                    .and_then(|c| c["id"].as_str().map(str::to_owned))
                    .ok_or_else(|| Self::answer(Method::GET, "/api/channels/directory", &listing))
            }
            Err(e) => Err(e),
        }
    }

    /// `POST /api/teams/{team}/members`; being a member already is fine.
    pub async fn add_member(&self, admin: &str, team: &str, user: &str) -> Result<(), ApiError> {
        let path = format!("/api/teams/{team}/members");
        let body = json!({ "user": user });
        match self
            .call(Method::POST, &path, Some(admin), Some(body))
            .await
        {
            Err(e) if e.status() != Some(StatusCode::CONFLICT) => Err(e),
            _ => Ok(()),
        }
    }

    /// `PUT /api/teams/{team}/routing`: the team routes its chats automatically, up to
    /// `capacity` open ones per agent.
    pub async fn route_automatically(
        &self,
        admin: &str,
        team: &str,
        capacity: u32,
    ) -> Result<(), ApiError> {
        let path = format!("/api/teams/{team}/routing");
        let body = json!({ "mode": "auto", "capacity": capacity });
        self.call(Method::PUT, &path, Some(admin), Some(body))
            .await?;
        Ok(())
    }

    /// `POST /api/chats`: a customer starts a chat with `team`.
    pub async fn start_chat(&self, team: &str, name: &str) -> Result<Chat, ApiError> {
        let body = json!({ "team": team, "display_name": name });
        let (_, answer) = self
            .call(Method::POST, "/api/chats", None, Some(body))
            .await?;
        serde_json::from_value(answer.clone())
            .map_err(|_| Self::answer(Method::POST, "/api/chats", &answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_turned_into_websocket_urls() {
        let api = Api::new("http://127.0.0.1:8080/").unwrap();
        assert_eq!(api.ws_url("T"), "ws://127.0.0.1:8080/ws?token=T");
        let api = Api::new("http://example.test/chat").unwrap();
        assert_eq!(api.ws_url("T"), "ws://example.test/chat/ws?token=T");
        let api = Api::new("http://127.0.0.1:8080,http://127.0.0.1:8081/").unwrap();
        assert_eq!(api.ws_url_on(3, "T"), "ws://127.0.0.1:8081/ws?token=T");
        assert_eq!(api.ws_url_on(4, "T"), "ws://127.0.0.1:8080/ws?token=T");
        for bad in [
            "https://example.test",
            "127.0.0.1:8080",
            "http://",
            "http://a b",
        ] {
            assert!(matches!(Api::new(bad), Err(ApiError::Url(_))), "{bad}");
        }
    }
}
