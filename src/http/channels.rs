//! Team chat over REST: the caller's channels and direct messages with their unread counts,
//! the directory of public channels, creating a channel, opening a direct message, a
//! channel's members and history, muting, and deleting. What happens inside a channel
//! (posts, membership, renames) goes over the WebSocket, as in conversations.
//!
//! A private channel or a direct message the caller is not in answers `404`, like a
//! channel that does not exist: its existence is not given away.

use super::audit::{self, Actor};
use super::auth::Caller;
use super::conversations::{EventsQuery, Paged};
use super::error::ApiError;
use super::Data;
use crate::actors::timeline::Evict;
use crate::domain::channel::{self, ChannelDraft, Visibility};
use crate::domain::{
    Author, Channel, ChannelEvent, ChannelEventKind, ChannelId, Recorded, RuleError, Staff, Stream,
    UserId,
};
use crate::protocol::ServerFrame;
use crate::store::channels::{self, ChannelRow, MemberView};
use crate::store::events;
use crate::store::{accounts, now_millis, reads, DbConnection, StoreError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

fn parse_channel(raw: &str) -> Result<ChannelId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("channel"))
}

/// A channel and the rules' view of it, if it exists.
fn find(
    conn: &mut DbConnection,
    id: ChannelId,
) -> Result<Option<(ChannelRow, Channel)>, StoreError> {
    let Some(row) = channels::channel(conn, id)? else {
        return Ok(None);
    };
    let gate = channels::gate(conn, &row)?;
    Ok(Some((row, gate)))
}

/// One channel or direct message as its member lists it.
#[derive(Serialize)]
struct Listed {
    id: String,
    visibility: Visibility,
    /// The channel's name, or for a direct message the other members' names.
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    archived: bool,
    role: String,
    muted: bool,
    /// The other members of a direct message, with their availability.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    with: Vec<Presence>,
    #[serde(flatten)]
    unread: reads::Unread,
    updated_at: i64,
}

/// A colleague with their availability (online, busy or offline), as the helpdesk knows it.
#[derive(Serialize)]
struct Presence {
    user: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar_url: Option<String>,
    availability: crate::domain::routing::Availability,
}

fn presence(data: &Data, member: MemberView) -> Result<Presence, StoreError> {
    let user: UserId = accounts::parse_id(&member.user)?;
    Ok(Presence {
        availability: data.availability_of(user),
        user: member.user,
        name: member.name,
        avatar_url: member.avatar_url,
    })
}

/// The name a direct message is listed under for `me`: the others' names, or mine (you)
/// for one with myself.
fn direct_name(me: UserId, members: &[MemberView]) -> String {
    let others: Vec<&str> = members
        .iter()
        .filter(|m| m.user != me.to_string())
        .map(|m| m.name.as_str())
        .collect();
    match others.is_empty() {
        true => members
            .first()
            .map(|m| format!("{} (you)", m.name))
            .unwrap_or_default(),
        false => others.join(", "),
    }
}

/// `GET /api/channels` (staff): the caller's channels and direct messages, most recently
/// active first, each with their read marker and unread and mention counts; `unread` is
/// the total of the channels not muted, `mentions` of them all (a mention counts even in
/// a muted channel).
pub async fn list(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let me = staff.id;
    let registry = data.clone();
    let listed = data
        .store()
        .run(move |conn| {
            let mut listed = Vec::new();
            for (row, role, muted) in channels::of_member(conn, me)? {
                let visibility = row.visibility()?;
                let unread = reads::unread(conn, &row.id, &me.to_string(), false)?;
                let (name, with) = if visibility == Visibility::Direct {
                    let members = channels::members(conn, accounts::parse_id(&row.id)?)?;
                    let name = direct_name(me, &members);
                    let with = members
                        .into_iter()
                        .filter(|m| m.user != me.to_string())
                        .map(|m| presence(&registry, m))
                        .collect::<Result<_, _>>()?;
                    (name, with)
                } else {
                    (row.name.clone().unwrap_or_default(), Vec::new())
                };
                listed.push(Listed {
                    id: row.id,
                    visibility,
                    name,
                    description: row.description,
                    archived: row.archived,
                    role,
                    muted,
                    with,
                    unread,
                    updated_at: row.updated_at,
                });
            }
            Ok(listed)
        })
        .await?;
    let unread: u64 = listed
        .iter()
        .filter(|c| !c.muted)
        .map(|c| c.unread.unread)
        .sum();
    let mentions: u64 = listed.iter().map(|c| c.unread.mentions).sum();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "channels": listed,
        "unread": unread,
        "mentions": mentions,
    })))
}

/// `GET /api/channels/directory` (staff): every public channel by name, with its number of
/// members and whether the caller is one; for organisation admins the private channels
/// too, which they may rename, archive or delete but not read.
pub async fn directory(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let org_admin = staff.role.manages_accounts();
    let entries = data
        .store()
        .run(move |conn| {
            let mine: Vec<String> = channels::of_member(conn, staff.id)?
                .into_iter()
                .map(|(row, _, _)| row.id)
                .collect();
            let mut entries = Vec::new();
            for (row, members) in channels::directory(conn, org_admin)? {
                let member = mine.contains(&row.id);
                entries.push(serde_json::json!({
                    "id": row.id,
                    "visibility": row.visibility,
                    "name": row.name,
                    "description": row.description,
                    "archived": row.archived,
                    "members": members,
                    "member": member,
                }));
            }
            Ok(entries)
        })
        .await?;
    Ok(HttpResponse::Ok().json(entries))
}

/// Body of `POST /api/channels`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    name: String,
    #[serde(default = "public")]
    visibility: Visibility,
    #[serde(default)]
    description: String,
}

fn public() -> Visibility {
    Visibility::Public
}

/// `POST /api/channels {name, visibility: public|private, description}` (staff): makes a
/// channel with the caller as its admin. `400 invalid_channel_name` for a name that is not
/// lowercase and hyphenated, `409` for one another channel has.
pub async fn create(
    data: Data,
    caller: Caller,
    body: web::Json<NewChannel>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let body = body.into_inner();
    let draft = ChannelDraft {
        visibility: body.visibility,
        name: body.name,
        description: body.description,
    };
    let kinds = Channel::create(&staff, &draft)?;
    let id = ChannelId::generate();
    let row = ChannelRow {
        id: id.to_string(),
        visibility: draft.visibility.as_str().to_owned(),
        name: Some(draft.name.clone()),
        description: draft.description.clone(),
        direct_key: None,
        archived: false,
        created_by: staff.id.to_string(),
        created_at: now_millis(),
        updated_at: now_millis(),
    };
    let creator = staff.id;
    data.store()
        .run(move |conn| {
            if let Err(refused) = channel::may_belong(channels::memberships(conn, creator)?) {
                return Ok(Err(refused));
            }
            channels::create_channel(conn, &row, &opening(id, creator, kinds)).map(Ok)
        })
        .await??;
    tracing::info!(channel = %id, name = %draft.name, by = %staff.id, "channel created");
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": id,
        "visibility": draft.visibility,
        "name": draft.name,
        "description": draft.description,
    })))
}

/// A new channel's first events, numbered from 1, by `author`.
fn opening(id: ChannelId, author: UserId, kinds: Vec<ChannelEventKind>) -> Vec<ChannelEvent> {
    let at = now_millis();
    (1..)
        .zip(kinds)
        .map(|(seq, kind)| Recorded {
            stream: id,
            seq,
            at,
            author: Author::Staff(author),
            client_id: None,
            kind,
        })
        .collect()
}

/// Body of `POST /api/dms`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDirect {
    /// The colleagues (none: a direct message with oneself).
    #[serde(default)]
    users: Vec<UserId>,
}

/// `POST /api/dms {users}` (staff): the direct message between the caller and `users`
/// (one to eight colleagues, or none for notes to oneself): found again if it exists
/// (`200`), made otherwise (`201`), never twice. Its other members hear of a new one.
pub async fn open_direct(
    data: Data,
    caller: Caller,
    body: web::Json<NewDirect>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let users = body.into_inner().users;
    if users.len() > channel::MAX_DIRECT_OTHERS {
        return Err(RuleError::InvalidDirectMessage.into());
    }
    let me = staff.clone();
    let (id, created, others) = data
        .store()
        .run(move |conn| {
            let mut others: Vec<Staff> = Vec::new();
            for user in users.iter().filter(|u| **u != me.id) {
                match accounts::user_by_id(conn, &user.to_string())? {
                    Some(found) => others.push(found.staff()),
                    None => return Ok(Err(RuleError::InvalidDirectMessage)),
                }
            }
            let mut ids: Vec<UserId> = others.iter().map(|o| o.id).collect();
            ids.push(me.id);
            let key = channel::direct_key(&ids);
            if let Some(row) = channels::direct(conn, &key)? {
                return Ok(Ok((
                    accounts::parse_id::<ChannelId>(&row.id)?,
                    false,
                    others,
                )));
            }
            let kinds = match Channel::direct(&me, &others) {
                Ok(kinds) => kinds,
                Err(refused) => return Ok(Err(refused)),
            };
            for member in others.iter().chain(std::iter::once(&me)) {
                if let Err(refused) = channel::may_belong(channels::memberships(conn, member.id)?) {
                    return Ok(Err(refused));
                }
            }
            let id = ChannelId::generate();
            let row = ChannelRow {
                id: id.to_string(),
                visibility: Visibility::Direct.as_str().to_owned(),
                name: None,
                description: String::new(),
                direct_key: Some(key.clone()),
                archived: false,
                created_by: me.id.to_string(),
                created_at: now_millis(),
                updated_at: now_millis(),
            };
            match channels::create_channel(conn, &row, &opening(id, me.id, kinds)) {
                Ok(()) => Ok(Ok((id, true, others))),
                // Opened by another at the same moment: that one it is.
                Err(StoreError::Conflict(_)) => {
                    let row = channels::direct(conn, &key)?
                        .ok_or(StoreError::Corrupt("a direct message vanished".into()))?;
                    Ok(Ok((accounts::parse_id(&row.id)?, false, others)))
                }
                Err(other) => Err(other),
            }
        })
        .await??;
    if created {
        let frame = ServerFrame::ChannelAdded {
            channel: id,
            name: "",
            visibility: Visibility::Direct,
            by: &staff.display_name,
        }
        .encode();
        let users: Vec<UserId> = others.iter().map(|o| o.id).collect();
        data.notify(&users, &frame);
    }
    let with: Vec<serde_json::Value> = others
        .iter()
        .map(|o| serde_json::json!({"user": o.id, "name": o.display_name}))
        .collect();
    let body = serde_json::json!({"id": id, "visibility": "direct", "with": with});
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// `GET /api/channels/{id}` (staff who may see it): the channel with its members and their
/// availability.
pub async fn get(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let id = parse_channel(&path)?;
    let registry = data.clone();
    let me = staff.id;
    let (row, members, last_seq) = data
        .store()
        .run(move |conn| {
            let Some((row, gate)) = find(conn, id)? else {
                return Ok(None);
            };
            if !gate.may_see(&staff) {
                return Ok(None);
            }
            let members = channels::members(conn, id)?
                .into_iter()
                .map(|m| presence(&registry, m))
                .collect::<Result<Vec<_>, _>>()?;
            let last_seq = events::last_seq(conn, id)?;
            Ok(Some((row, members, last_seq)))
        })
        .await?
        .ok_or(ApiError::NotFound("channel"))?;
    let name = match row.visibility()? {
        Visibility::Direct => {
            let views: Vec<MemberView> = members
                .iter()
                .map(|p| MemberView {
                    user: p.user.clone(),
                    name: p.name.clone(),
                    avatar_url: None,
                    role: String::new(),
                })
                .collect();
            direct_name(me, &views)
        }
        _ => row.name.clone().unwrap_or_default(),
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": row.id,
        "visibility": row.visibility,
        "name": name,
        "description": row.description,
        "archived": row.archived,
        "last_seq": last_seq,
        "members": members,
    })))
}

/// `GET /api/channels/{id}/events?after_seq=|before_seq=&limit=` (staff who may read it): a page of
/// its history, oldest first, with the names of its authors.
pub async fn events(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let id = parse_channel(&path)?;
    let page = query.page(false)?;
    let (events, has_more, people) = data
        .store()
        .run(move |conn| {
            let Some((_, gate)) = find(conn, id)? else {
                return Ok(None);
            };
            if gate
                .history_view(crate::domain::Party::Staff(&staff))
                .is_err()
            {
                return Ok(None);
            }
            let Paged { events, has_more } =
                EventsQuery::cut(page, events::page::<_, ChannelEventKind>(conn, id, page)?);
            let authors: Vec<Author> = events.iter().map(|e| e.author).collect();
            let people = accounts::people(conn, &authors)?;
            Ok(Some((events, has_more, people)))
        })
        .await?
        .ok_or(ApiError::NotFound("channel"))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "channel": id,
        "events": events,
        "has_more": has_more,
        "people": people,
    })))
}

/// Body of `PUT /api/channels/{id}/mute`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    muted: bool,
}

/// `PUT /api/channels/{id}/mute {muted}` (members): mutes or unmutes the channel for the
/// caller; their other sessions are told (`channel_muted`).
pub async fn mute(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<Mute>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let id = parse_channel(&path)?;
    let muted = body.muted;
    let user = staff.id;
    data.store()
        .run(move |conn| {
            let Some((_, gate)) = find(conn, id)? else {
                return Ok(Err(RuleError::UnknownChannel));
            };
            if let Err(refused) = gate.may_mute(&staff) {
                return Ok(Err(refused));
            }
            channels::set_muted(conn, id, user, muted).map(Ok)
        })
        .await??;
    let frame = ServerFrame::ChannelMuted { channel: id, muted }.encode();
    data.notify(&[user], &frame);
    Ok(HttpResponse::Ok().json(serde_json::json!({ "channel": id, "muted": muted })))
}

/// `DELETE /api/channels/{id}` (its admins and organisation admins): deletes the channel
/// with its history and files; its members are told (`channel_deleted`).
pub async fn delete(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let id = parse_channel(&path)?;
    let by = staff.clone();
    let gate = data
        .store()
        .run(move |conn| {
            let Some((_, gate)) = find(conn, id)? else {
                return Ok(Err(RuleError::UnknownChannel));
            };
            Ok(gate.may_delete(&by).map(|()| gate))
        })
        .await??;
    if let Some(addr) = data.channels().running(id) {
        addr.do_send(Evict);
    }
    let files = data
        .store()
        .run(move |conn| {
            let files = crate::store::attachments::of_stream(conn, &id.to_string())?;
            channels::delete_channel(conn, id)?;
            Ok(files)
        })
        .await?;
    data.delete_files(files);
    let members: Vec<UserId> = gate.members.iter().map(|m| m.user).collect();
    let frame = ServerFrame::ChannelDeleted {
        channel: id,
        name: &gate.name,
    }
    .encode();
    data.notify(&members, &frame);
    tracing::info!(channel = %id, by = %staff.id, "channel deleted");
    let entry = Actor::staff(&data, &req, &staff).entry(
        "channel_deleted",
        Some((id.to_string(), Some(format!("#{}", gate.name)))),
        serde_json::json!({ "members": members.len() }),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::NoContent().finish())
}
