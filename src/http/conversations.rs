//! Starting chats, listing conversations, transcripts, invitations and presence.

use super::audit::{self, Actor};
use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::auth::{contact_signature_valid, new_token, Principal};
use crate::domain::{
    Author, ConversationId, CustomerId, EventKind, Party, Permission, Room, Staff, Status,
};
use crate::store::accounts::{self, CustomerRow, TokenRow};
use crate::store::conversations::{self, ConversationView, ListFilter};
use crate::store::events::{self, Page};
use crate::store::now_millis;
use crate::store::reads;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// What `POST /api/chats` takes: a customer starting a chat with a team. A returning
/// visitor the customer's site knows passes its `external_id` for them and the site's
/// `signature` of it (HMAC-SHA256 with the team's identity secret), and is recognised.
#[derive(Deserialize)]
pub struct StartChat {
    /// Team id or name.
    team: String,
    display_name: String,
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    signature: Option<String>,
}

/// `POST /api/chats` (public): starts a chat and returns a token for the customer's
/// WebSocket. A new visitor is a new contact. A recognised one keeps their history: their
/// open conversation with the team carries on, or a new one follows their last.
pub async fn start_chat(
    data: Data,
    req: HttpRequest,
    body: web::Json<StartChat>,
) -> Result<HttpResponse, ApiError> {
    if let Some(client) = data.config().client_addr(&req) {
        if !data.allow_chat_start(client) {
            return Err(ApiError::TooManyRequests(
                "too many chats started from this address: try again in a minute",
            ));
        }
    }
    let StartChat {
        team,
        display_name,
        email,
        phone,
        external_id,
        signature,
    } = body.into_inner();
    let display_name = display_name.trim().to_owned();
    if display_name.is_empty() || display_name.len() > 100 {
        return Err(ApiError::BadRequest(
            "display_name: 1 to 100 characters".into(),
        ));
    }
    if email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.len() > 254)
    {
        return Err(ApiError::BadRequest(
            "email: expected an address like name@example.com".into(),
        ));
    }
    if phone
        .as_deref()
        .is_some_and(|p| p.is_empty() || p.len() > 40)
    {
        return Err(ApiError::BadRequest("phone: 1 to 40 characters".into()));
    }
    if external_id
        .as_deref()
        .is_some_and(|x| x.is_empty() || x.len() > 200)
    {
        return Err(ApiError::BadRequest(
            "external_id: 1 to 200 characters".into(),
        ));
    }
    let claimed = external_id.clone();
    let (team, secret, known) = data
        .store()
        .run(move |conn| {
            let Some(team) = accounts::find_team(conn, &team)? else {
                return Ok(None);
            };
            let secret = accounts::identity_secret(conn, &team.id)?;
            let known = match &claimed {
                Some(external_id) => accounts::customer_by_external_id(conn, external_id)?,
                None => None,
            };
            Ok(Some((team, secret, known)))
        })
        .await?
        .ok_or(ApiError::NotFound("team"))?;
    // A claimed identity counts only with the site's signature: guessing an id gets nothing.
    if let Some(external_id) = &external_id {
        let Some(secret) = secret else {
            return Err(ApiError::BadRequest(format!(
                "team {} has no identity secret to check external_id against: an admin sets one with POST /api/teams/{}/identity-secret",
                team.name, team.id
            )));
        };
        let signed = signature
            .as_deref()
            .is_some_and(|s| contact_signature_valid(&secret, external_id, s));
        if !signed {
            return Err(ApiError::BadSignature);
        }
    }
    let returning = known.is_some();
    let customer: CustomerId = match &known {
        Some(row) => accounts::parse_id(&row.id)?,
        None => CustomerId::generate(),
    };
    let (token, hash) = new_token();
    let expires_at = now_millis() + data.config().customer_token_ttl_secs as i64 * 1000;
    let team_key = team.id.clone();
    let latest = data
        .store()
        .run(move |conn| {
            if returning {
                accounts::update_contact(
                    conn,
                    &customer.to_string(),
                    &display_name,
                    email.as_deref(),
                    phone.as_deref(),
                )?;
            } else {
                accounts::create_customer(
                    conn,
                    &CustomerRow {
                        id: customer.to_string(),
                        display_name,
                        email,
                        created_at: now_millis(),
                        phone,
                        external_id,
                    },
                )?;
            }
            accounts::insert_token(
                conn,
                &TokenRow {
                    hash,
                    user_id: None,
                    customer_id: Some(customer.to_string()),
                    created_at: now_millis(),
                    expires_at,
                    revoked: false,
                    client_addr: None,
                    user_agent: None,
                },
            )?;
            conversations::latest_in_team(conn, customer, &team_key)
        })
        .await?;
    let team_id = accounts::parse_id(&team.id)?;
    let conversation = match latest {
        Some(row) if row.status != Status::Closed.as_str() => accounts::parse_id(&row.id)?,
        latest => {
            let previous = latest.map(|row| accounts::parse_id(&row.id)).transpose()?;
            data.open_conversation(customer, team_id, team.restricted, previous)
                .await?
        }
    };
    Ok(HttpResponse::Created().json(serde_json::json!({
        "conversation": conversation,
        "customer": customer,
        "token": token,
        "expires_at": expires_at,
        "returning": returning,
    })))
}

/// How the caller may read a conversation (`room`, the rules' view of it): `true` when
/// they see it as its customer. Another customer's conversation is "not found" to a
/// customer.
fn may_read(caller: &Principal, room: &Room) -> Result<bool, ApiError> {
    match caller {
        Principal::Customer { customer, .. } => room
            .transcript_view(Party::Customer(*customer))
            .map_err(|_| ApiError::NotFound("conversation"))?,
        Principal::Staff(user) => room
            .transcript_view(Party::Staff(&user.staff()))
            .map_err(|_| ApiError::Forbidden("you may not view this conversation"))?,
    };
    Ok(matches!(caller, Principal::Customer { .. }))
}

/// A conversation as the API shows it, and as the rules judge who may see it.
async fn load(data: &Data, id: ConversationId) -> Result<(ConversationView, Room), ApiError> {
    let (row, contact, room) = data
        .store()
        .run(move |conn| {
            let Some((row, contact)) = conversations::named_conversation(conn, id)? else {
                return Ok(None);
            };
            let room = conversations::gate(conn, &row)?;
            Ok(Some((row, contact, room)))
        })
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    Ok((row.view(contact)?, room))
}

fn parse_conversation(raw: &str) -> Result<ConversationId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("conversation"))
}

/// Query of `GET /api/conversations`.
#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<Status>,
    team: Option<String>,
    #[serde(default)]
    mine: bool,
    limit: Option<u32>,
}

/// `GET /api/conversations?status=&team=&mine=true&limit=` (staff): most recent first; only
/// those the caller may view.
pub async fn list(
    data: Data,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let query = query.into_inner();
    let mut filter = ListFilter {
        status: query.status,
        team: None,
        member: query.mine.then_some(staff.id),
        unrestricted_or_teams: (!staff.views_every_team()).then(|| staff.teams.clone()),
        listed_for: (!staff.views_every_team()).then_some(staff.id),
        limit: query.limit.unwrap_or(50).clamp(1, 500),
    };
    let team = query.team;
    let reader = staff.id.to_string();
    let rows = data
        .store()
        .run(move |conn| {
            if let Some(team) = team {
                // A team may be named by id or by name; an unknown one matches nothing.
                let found = accounts::find_team(conn, &team)?;
                filter.team = Some(found.map_or(team, |t| t.id));
            }
            let mut rows = Vec::new();
            for (row, contact) in conversations::list_conversations(conn, &filter)? {
                let view = row.view(contact)?;
                if conversations::gate(conn, &row)?.may_view(&staff) {
                    let unread = reads::unread(conn, &row.id, &reader, false)?;
                    rows.push((view, unread));
                }
            }
            Ok(rows)
        })
        .await?;
    let views: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(view, unread)| {
            let mut body = serde_json::to_value(view).expect("views serialize");
            let unread = serde_json::to_value(unread).expect("counts serialize");
            body.as_object_mut()
                .unwrap()
                .extend(unread.as_object().unwrap().clone());
            body
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// `GET /api/conversations/{id}`: the conversation and who is in it.
pub async fn get(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_conversation(&path)?;
    let (view, room) = load(&data, id).await?;
    let as_customer = may_read(&caller.0, &room)?;
    let reader = match &caller.0 {
        Principal::Staff(user) => user.id.to_string(),
        Principal::Customer { customer, .. } => customer.to_string(),
    };
    let customer = view.customer.to_string();
    let (participants, unread, customer_read_seq, links) = data
        .store()
        .run(move |conn| {
            let participants = conversations::participants_of(conn, id)?;
            let unread = reads::unread(conn, &id.to_string(), &reader, as_customer)?;
            let seen = reads::marker(conn, &id.to_string(), &customer)?;
            let links = conversations::links_of(conn, id)?;
            Ok((participants, unread, seen.unwrap_or(0), links))
        })
        .await?;
    let participants: Vec<_> = participants
        .into_iter()
        .filter(|p| !as_customer || p.mode != "monitor")
        .collect();
    let mut body = serde_json::to_value(&view).expect("views serialize");
    if as_customer {
        body["resolution"] = serde_json::Value::Null;
    }
    body["participants"] = serde_json::to_value(participants).expect("views serialize");
    let unread = serde_json::to_value(unread).expect("counts serialize");
    body.as_object_mut()
        .unwrap()
        .extend(unread.as_object().unwrap().clone());
    if !as_customer {
        // "Seen by the customer up to seq N".
        body["customer_read_seq"] = customer_read_seq.into();
        body["links"] = serde_json::to_value(links).expect("links serialize");
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Query of the REST history pages (`?after_seq=&limit=` or `?before_seq=&limit=`).
#[derive(Deserialize)]
pub struct EventsQuery {
    after_seq: Option<u64>,
    before_seq: Option<u64>,
    limit: Option<u32>,
}

/// A page of history read back: its events (oldest first) and whether more lie beyond
/// it, in the direction it was read.
pub struct Paged<E> {
    pub events: Vec<E>,
    pub has_more: bool,
}

impl EventsQuery {
    /// The page to read: one event more than the limit, to tell whether more follow. With
    /// `before_seq`, the newest events before it (a `before_seq` past the end reads the
    /// newest page); otherwise the oldest after `after_seq` (0 when not given).
    pub fn page(&self, customer_only: bool) -> Result<Page, ApiError> {
        if self.after_seq.is_some() && self.before_seq.is_some() {
            return Err(ApiError::BadRequest(
                "pass after_seq (to read forwards) or before_seq (to read back), not both".into(),
            ));
        }
        let limit = self.limit.unwrap_or(100).clamp(1, 1000);
        Ok(Page {
            after_seq: self
                .before_seq
                .is_none()
                .then(|| self.after_seq.unwrap_or(0)),
            before_seq: self.before_seq,
            limit: limit + 1,
            customer_only,
        })
    }

    /// `events` as read for `page`, cut to the limit: the extra event read is the oldest
    /// when reading back, the newest when reading forwards.
    pub fn cut<E>(page: Page, mut events: Vec<E>) -> Paged<E> {
        let limit = page.limit as usize - 1;
        let has_more = events.len() > limit;
        if has_more {
            if page.after_seq.is_none() {
                events.remove(0);
            } else {
                events.truncate(limit);
            }
        }
        Paged { events, has_more }
    }
}

/// `GET /api/conversations/{id}/events?after_seq=|before_seq=&limit=`: a transcript page, oldest first,
/// as the caller may see it (customers never see notes, invitations or monitors).
pub async fn events(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_conversation(&path)?;
    let (view, room) = load(&data, id).await?;
    let customer_only = may_read(&caller.0, &room)?;
    let page = query.page(customer_only)?;
    let customer = view.customer;
    let (events, has_more, people) = data
        .store()
        .run(move |conn| {
            let Paged { events, has_more } =
                EventsQuery::cut(page, events::page::<_, EventKind>(conn, id, page)?);
            // Everyone the page is by, and everyone who may speak in the room now.
            let cast = conversations::participants_of(conn, id)?
                .into_iter()
                .filter(|p| !customer_only || p.mode != "monitor")
                .map(|p| Author::Staff(p.user));
            let authors: Vec<Author> = events
                .iter()
                .map(|e| e.author)
                .chain(std::iter::once(Author::Customer(customer)))
                .chain(cast)
                .collect();
            let people = accounts::people(conn, &authors)?;
            Ok((events, has_more, people))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "conversation": id,
        "events": events,
        "has_more": has_more,
        "people": people,
    })))
}

/// `GET /api/conversations/{id}/messages/{seq}/versions` (staff who may view it): every
/// version of a message's text, oldest first. Customers see only the current text.
pub async fn versions(
    data: Data,
    caller: Caller,
    path: web::Path<(String, u64)>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let (id, seq) = path.into_inner();
    let id = parse_conversation(&id)?;
    let (_, room) = load(&data, id).await?;
    room.transcript_view(Party::Staff(&staff))
        .map_err(|_| ApiError::Forbidden("you may not view this conversation"))?;
    let (versions, people) = data
        .store()
        .run(move |conn| {
            let Some(versions) = events::versions::<_, EventKind>(conn, id, seq)? else {
                return Ok(None);
            };
            let authors: Vec<Author> = versions.iter().map(|v| v.author).collect();
            let people = accounts::people(conn, &authors)?;
            Ok(Some((versions, people)))
        })
        .await?
        .ok_or(ApiError::NotFound("message"))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "conversation": id,
        "seq": seq,
        "versions": versions,
        "people": people,
    })))
}

/// `DELETE /api/conversations/{id}` (admins).
pub async fn delete(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff: Staff = caller.staff()?;
    if !staff.can(Permission::ConversationsDelete) {
        return Err(ApiError::Forbidden("only admins delete conversations"));
    }
    let id = parse_conversation(&path)?;
    let _withheld = data.get_ref().withhold(&[id]).await?;
    let (named, purged) = data
        .store()
        .run(move |conn| {
            let named = conversations::named_conversation(conn, id)?;
            Ok((named, crate::store::erasure::purge_conversation(conn, id)?))
        })
        .await?;
    if let Some(files) = purged {
        // Its files' rows went with it; their bytes go now.
        let contact = named.as_ref().map(|(row, _)| row.customer_id.clone());
        // The contact is recorded so that erasing them unnames this entry too.
        let detail = serde_json::json!({ "files": files.len(), "contact": contact });
        data.delete_files(files);
        tracing::info!(conversation = %id, by = %staff.id, "conversation deleted");
        let name = named.map(|(_, (customer, _))| format!("conversation with {customer}"));
        let entry = Actor::staff(&data, &req, &staff).entry(
            "conversation_deleted",
            Some((id.to_string(), name)),
            detail,
        );
        audit::record(&data, entry).await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("conversation"))
    }
}

/// `GET /api/invitations` (staff): invitations offered to me and still open.
pub async fn my_invitations(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let invitations = data
        .store()
        .run(move |conn| conversations::pending_invitations_for(conn, staff.id))
        .await?;
    Ok(HttpResponse::Ok().json(invitations))
}

/// `GET /api/presence` (staff): who is online, with how many open sessions.
pub async fn presence(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.staff()?;
    let online: Vec<_> = data
        .online_staff()
        .into_iter()
        .map(|(user, sessions, availability)| {
            serde_json::json!({ "user": user, "sessions": sessions, "availability": availability })
        })
        .collect();
    Ok(HttpResponse::Ok().json(online))
}
