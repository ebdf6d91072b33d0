//! Search over REST: messages by their words, contacts by name or email, only what the
//! caller may view.

use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::domain::Status;
use crate::domain::{ChannelId, ConversationId};
use crate::store::search::{self, MATCH_END, MATCH_START};
use crate::store::{accounts, channels, conversations};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The most matches weighed for one search (pages are cut from the best of them).
const MAX_MATCHES: i64 = 1000;

/// What a search shows of the stream a message is in.
#[derive(Clone)]
enum Shown {
    Conversation {
        customer: String,
        status: String,
    },
    /// A team channel, or a direct message (which has no name).
    Channel {
        name: String,
        direct: bool,
    },
}

/// Query of `GET /api/search`.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: String,
    /// Team id or name.
    team: Option<String>,
    status: Option<Status>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// A piece of a snippet: matched words, or the text around them.
#[derive(Serialize)]
struct Piece {
    text: String,
    #[serde(rename = "match")]
    matched: bool,
}

/// Cuts a snippet at its match marks, so clients never have to parse markup.
fn pieces(snippet: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut matched = false;
    for c in snippet.chars() {
        if c == MATCH_START || c == MATCH_END {
            if !text.is_empty() {
                pieces.push(Piece {
                    text: std::mem::take(&mut text),
                    matched,
                });
            }
            matched = c == MATCH_START;
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() {
        pieces.push(Piece { text, matched });
    }
    pieces
}

/// `GET /api/search?q=&team=&status=&limit=&offset=` (staff): the messages (replies,
/// notes and team chat messages) whose words match `q`, best first, each with a snippet cut
/// into `pieces` (`{text, match}`), and the contacts whose name or email holds it; only in
/// conversations the caller may view and channels they may see.
pub async fn search(
    data: Data,
    caller: Caller,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let query = query.into_inner();
    if query.q.trim().is_empty() || query.q.len() > 500 {
        return Err(ApiError::BadRequest("q: 1 to 500 characters".into()));
    }
    let limit = query.limit.unwrap_or(20).clamp(1, 100) as usize;
    let offset = query.offset.unwrap_or(0) as usize;
    let text = query.q.clone();
    let (messages, contacts, has_more) = data
        .store()
        .run(move |conn| {
            let team = match &query.team {
                Some(team) => Some(accounts::find_team(conn, team)?.map_or(team.clone(), |t| t.id)),
                None => None,
            };
            // Whether the caller may see each stream, and what to show of it.
            let mut seen: HashMap<String, Option<Shown>> = HashMap::new();
            let mut visible = |conn: &mut crate::store::DbConnection, id: &str| {
                if let Some(known) = seen.get(id) {
                    return Ok::<_, crate::store::StoreError>(known.clone());
                }
                let stream: uuid::Uuid = accounts::parse_id(id)?;
                let shown = match conversations::conversation(conn, ConversationId(stream))? {
                    Some(row)
                        if conversations::gate(conn, &row)?.may_view(&staff)
                            && team.as_ref().is_none_or(|t| *t == row.team_id)
                            && query.status.is_none_or(|s| s.as_str() == row.status) =>
                    {
                        Some(Shown::Conversation {
                            customer: row.customer_id.clone(),
                            status: row.status.clone(),
                        })
                    }
                    Some(_) => None,
                    // Team chat has no team or status: a search narrowed by them leaves it out.
                    None if team.is_some() || query.status.is_some() => None,
                    None => match channels::channel(conn, ChannelId(stream))? {
                        Some(row) if channels::gate(conn, &row)?.may_see(&staff) => {
                            Some(Shown::Channel {
                                name: row.name.clone().unwrap_or_default(),
                                direct: row.direct_key.is_some(),
                            })
                        }
                        _ => None,
                    },
                };
                seen.insert(id.to_owned(), shown.clone());
                Ok(shown)
            };
            let mut messages = Vec::new();
            for hit in search::messages(conn, &text, MAX_MATCHES)? {
                let Some(shown) = visible(conn, &hit.stream_id)? else {
                    continue;
                };
                messages.push((hit, shown));
            }
            let has_more = messages.len() > offset + limit;
            let page: Vec<_> = messages.into_iter().skip(offset).take(limit).collect();
            let names: Vec<String> = page
                .iter()
                .filter_map(|(_, shown)| match shown {
                    Shown::Conversation { customer, .. } => Some(customer.clone()),
                    Shown::Channel { .. } => None,
                })
                .collect();
            let people = crate::store::accounts::contact_names(conn, &names)?;
            let messages: Vec<serde_json::Value> = page
                .into_iter()
                .map(|(hit, shown)| match shown {
                    Shown::Conversation { customer, status } => serde_json::json!({
                        "conversation": hit.stream_id,
                        "seq": hit.seq,
                        "kind": hit.kind,
                        "snippet": pieces(&hit.snippet),
                        "customer_name": people.get(&customer).cloned().unwrap_or_default(),
                        "customer": customer,
                        "status": status,
                    }),
                    Shown::Channel { name, direct } => serde_json::json!({
                        "channel": hit.stream_id,
                        "seq": hit.seq,
                        "kind": hit.kind,
                        "snippet": pieces(&hit.snippet),
                        "channel_name": name,
                        "direct": direct,
                    }),
                })
                .collect();
            // A contact shows only with a conversation the caller may view.
            let mut contacts = Vec::new();
            for (id, name, email) in search::contacts(conn, &text, 20)? {
                let customer: crate::domain::CustomerId = accounts::parse_id(&id)?;
                let mut viewable = 0;
                for (row, _) in conversations::of_contact(conn, customer)? {
                    if conversations::gate(conn, &row)?.may_view(&staff) {
                        viewable += 1;
                    }
                }
                if viewable > 0 {
                    contacts.push(serde_json::json!({
                        "id": id, "name": name, "email": email, "conversations": viewable,
                    }));
                }
            }
            Ok((messages, contacts, has_more))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "messages": messages,
        "contacts": contacts,
        "has_more": has_more,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_cut_at_its_marks() {
        let text = format!("my {MATCH_START}order{MATCH_END} is {MATCH_START}late{MATCH_END}");
        let cut: Vec<(String, bool)> = pieces(&text)
            .into_iter()
            .map(|p| (p.text, p.matched))
            .collect();
        assert_eq!(
            cut,
            [
                ("my ".to_owned(), false),
                ("order".to_owned(), true),
                (" is ".to_owned(), false),
                ("late".to_owned(), true),
            ]
        );
    }
}
