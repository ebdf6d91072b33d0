//! Conversations, their events and invitations: creation, replay and the read side of the API.

use super::accounts::parse_id;
use super::schema::{conversations, events, invitation_candidates, invitations, participants};
use super::{transaction, DbConnection, StoreError};
use crate::domain::{
    Author, ConversationId, CustomerId, Event, EventKind, InvitationId, Room, Status, TeamId,
    UserId,
};
use diesel::prelude::*;
use serde::Serialize;

/// A conversation as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    pub id: String,
    pub team_id: String,
    pub customer_id: String,
    pub status: String,
    pub lead_id: Option<String>,
    pub restricted: bool,
    pub resolution: Option<String>,
    pub previous_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

/// A conversation as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub id: ConversationId,
    pub team: TeamId,
    pub customer: CustomerId,
    pub status: Status,
    pub lead: Option<UserId>,
    pub restricted: bool,
    pub resolution: Option<String>,
    pub previous: Option<ConversationId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

impl ConversationRow {
    /// The API's view of this row.
    pub fn view(&self) -> Result<ConversationView, StoreError> {
        Ok(ConversationView {
            id: parse_id(&self.id)?,
            team: parse_id(&self.team_id)?,
            customer: parse_id(&self.customer_id)?,
            status: self
                .status
                .parse()
                .map_err(|e: crate::domain::room::UnknownStatus| {
                    StoreError::Corrupt(e.to_string())
                })?,
            lead: self.lead_id.as_deref().map(parse_id).transpose()?,
            restricted: self.restricted,
            resolution: self.resolution.clone(),
            previous: self.previous_id.as_deref().map(parse_id).transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
        })
    }
}

/// An event as stored: the indexed facts in columns, the whole event kind as JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub conversation_id: String,
    pub seq: i64,
    pub kind: String,
    pub author_kind: String,
    pub author_id: Option<String>,
    pub client_id: Option<String>,
    pub customer_visible: bool,
    pub payload: String,
    pub created_at: i64,
}

impl EventRow {
    /// The row that stores `event`.
    pub fn from_event(event: &Event) -> EventRow {
        let (author_kind, author_id) = match event.author {
            Author::Customer(id) => ("customer", Some(id.to_string())),
            Author::Staff(id) => ("staff", Some(id.to_string())),
            Author::System => ("system", None),
        };
        EventRow {
            conversation_id: event.conversation.to_string(),
            seq: event.seq as i64,
            kind: event.kind.name().to_owned(),
            author_kind: author_kind.to_owned(),
            author_id,
            client_id: event.client_id.clone(),
            customer_visible: event.kind.customer_view().is_some(),
            payload: serde_json::to_string(&event.kind).expect("events always serialize"),
            created_at: event.at,
        }
    }

    /// The event this row stores.
    pub fn to_event(&self) -> Result<Event, StoreError> {
        let author = match (self.author_kind.as_str(), self.author_id.as_deref()) {
            ("customer", Some(id)) => Author::Customer(parse_id(id)?),
            ("staff", Some(id)) => Author::Staff(parse_id(id)?),
            ("system", _) => Author::System,
            (kind, _) => return Err(StoreError::Corrupt(format!("bad author kind {kind:?}"))),
        };
        let kind: EventKind = serde_json::from_str(&self.payload)
            .map_err(|e| StoreError::Corrupt(format!("event payload: {e}")))?;
        Ok(Event {
            conversation: parse_id(&self.conversation_id)?,
            seq: self.seq as u64,
            at: self.created_at,
            author,
            client_id: self.client_id.clone(),
            kind,
        })
    }
}

/// Creates a conversation with its first event (`opened`, sequence 1).
pub fn create_conversation(
    conn: &mut DbConnection,
    row: &ConversationRow,
    opened: &Event,
) -> Result<(), StoreError> {
    transaction(conn, |conn| {
        diesel::insert_into(conversations::table)
            .values(row)
            .execute(conn)?;
        diesel::insert_into(events::table)
            .values(EventRow::from_event(opened))
            .execute(conn)?;
        Ok(())
    })
}

/// A conversation by id.
pub fn conversation(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<Option<ConversationRow>, StoreError> {
    Ok(conversations::table
        .find(id.to_string())
        .select(ConversationRow::as_select())
        .first(conn)
        .optional()?)
}

/// The newest conversation a customer started (the one their token is bound to).
pub fn latest_of_customer(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> Result<Option<ConversationId>, StoreError> {
    let id: Option<String> = conversations::table
        .filter(conversations::customer_id.eq(customer.to_string()))
        .order((conversations::created_at.desc(), conversations::id.desc()))
        .select(conversations::id)
        .first(conn)
        .optional()?;
    id.as_deref().map(parse_id).transpose()
}

/// A conversation's state rebuilt by replaying its events, with the client message ids seen
/// so far (author, client id) → sequence number, for recognising retried sends.
pub struct LoadedRoom {
    pub room: Room,
    pub client_ids: Vec<(Author, String, u64)>,
}

/// Rebuilds a conversation from storage, or `None` if it does not exist.
pub fn load_room(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<Option<LoadedRoom>, StoreError> {
    let Some(row) = conversation(conn, id)? else {
        return Ok(None);
    };
    let view = row.view()?;
    let mut room = Room::new(view.id, view.team, view.customer, view.restricted);
    let mut client_ids = Vec::new();
    let rows: Vec<EventRow> = events::table
        .filter(events::conversation_id.eq(&row.id))
        .order(events::seq)
        .select(EventRow::as_select())
        .load(conn)?;
    for row in rows {
        let event = row.to_event()?;
        if event.seq != room.last_seq + 1 {
            return Err(StoreError::Corrupt(format!(
                "conversation {id} jumps from event {} to {}",
                room.last_seq, event.seq
            )));
        }
        room.apply(event.seq, &event.kind);
        if let Some(client_id) = event.client_id {
            client_ids.push((event.author, client_id, event.seq));
        }
    }
    Ok(Some(LoadedRoom { room, client_ids }))
}

/// Which page of a transcript to read.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Only events after this sequence number (oldest first).
    pub after_seq: Option<u64>,
    /// Only events before this sequence number; without `after_seq`, the newest such page.
    pub before_seq: Option<u64>,
    pub limit: u32,
    /// Only what the customer may see.
    pub customer_only: bool,
}

/// A page of a conversation's events in sequence order.
pub fn events_page(
    conn: &mut DbConnection,
    id: ConversationId,
    page: Page,
) -> Result<Vec<Event>, StoreError> {
    let mut query = events::table
        .filter(events::conversation_id.eq(id.to_string()))
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(after) = page.after_seq {
        query = query.filter(events::seq.gt(after as i64));
    }
    if let Some(before) = page.before_seq {
        query = query.filter(events::seq.lt(before as i64));
    }
    if page.customer_only {
        query = query.filter(events::customer_visible.eq(true));
    }
    let newest_first = page.after_seq.is_none() && page.before_seq.is_some();
    query = if newest_first {
        query.order(events::seq.desc())
    } else {
        query.order(events::seq.asc())
    };
    let rows: Vec<EventRow> = query.limit(i64::from(page.limit)).load(conn)?;
    let mut events = rows
        .iter()
        .map(|row| {
            let event = row.to_event()?;
            Ok(if page.customer_only {
                event.customer_view().unwrap_or(event)
            } else {
                event
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if newest_first {
        events.reverse();
    }
    Ok(events)
}

/// Filters for listing conversations.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub team: Option<String>,
    /// Only conversations this staff member is in.
    pub member: Option<UserId>,
    /// Only unrestricted conversations and those of these teams (what a non-admin may view),
    /// so that `limit` counts only conversations the caller may see.
    pub unrestricted_or_teams: Option<Vec<TeamId>>,
    pub limit: u32,
}

/// Conversations matching `filter`, most recently active first.
pub fn list_conversations(
    conn: &mut DbConnection,
    filter: &ListFilter,
) -> Result<Vec<ConversationRow>, StoreError> {
    let mut query = conversations::table
        .select(ConversationRow::as_select())
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(conversations::status.eq(status.as_str()));
    }
    if let Some(team) = &filter.team {
        query = query.filter(conversations::team_id.eq(team.clone()));
    }
    if let Some(teams) = &filter.unrestricted_or_teams {
        let teams: Vec<String> = teams.iter().map(ToString::to_string).collect();
        query = query.filter(
            conversations::restricted
                .eq(false)
                .or(conversations::team_id.eq_any(teams)),
        );
    }
    if let Some(user) = filter.member {
        let mine = participants::table
            .filter(participants::user_id.eq(user.to_string()))
            .select(participants::conversation_id);
        query = query.filter(conversations::id.eq_any(mine));
    }
    Ok(query
        .order((conversations::updated_at.desc(), conversations::id.desc()))
        .limit(i64::from(filter.limit))
        .load(conn)?)
}

/// A staff member in a conversation, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ParticipantView {
    pub user: UserId,
    pub mode: String,
    pub since_seq: i64,
}

/// The staff in a conversation, longest-attending first.
pub fn participants_of(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<Vec<ParticipantView>, StoreError> {
    let rows: Vec<(String, String, i64)> = participants::table
        .filter(participants::conversation_id.eq(id.to_string()))
        .order(participants::since_seq)
        .select((
            participants::user_id,
            participants::mode,
            participants::since_seq,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(user, mode, since_seq)| {
            Ok(ParticipantView {
                user: parse_id(&user)?,
                mode,
                since_seq,
            })
        })
        .collect()
}

/// An invitation offered to someone, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationView {
    pub id: InvitationId,
    pub conversation: ConversationId,
    pub inviter: UserId,
    pub target: serde_json::Value,
    pub mode: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The pending invitations offered to `user`.
pub fn pending_invitations_for(
    conn: &mut DbConnection,
    user: UserId,
) -> Result<Vec<InvitationView>, StoreError> {
    type Row = (String, String, String, String, String, String, i64, i64);
    let rows: Vec<Row> = invitations::table
        .inner_join(invitation_candidates::table)
        .filter(invitation_candidates::user_id.eq(user.to_string()))
        .filter(invitations::status.eq("pending"))
        .order(invitations::created_at)
        .select((
            invitations::id,
            invitations::conversation_id,
            invitations::inviter_id,
            invitations::target,
            invitations::mode,
            invitations::status,
            invitations::created_at,
            invitations::expires_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, conversation, inviter, target, mode, status, created_at, expires_at)| {
                Ok(InvitationView {
                    id: parse_id(&id)?,
                    conversation: parse_id(&conversation)?,
                    inviter: parse_id(&inviter)?,
                    target: serde_json::from_str(&target)
                        .map_err(|e| StoreError::Corrupt(format!("invitation target: {e}")))?,
                    mode,
                    status,
                    created_at,
                    expires_at,
                })
            },
        )
        .collect()
}

/// Deletes a conversation with everything in it; whether it existed.
pub fn delete_conversation(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<bool, StoreError> {
    let id = id.to_string();
    transaction(conn, |conn| {
        let invitation_ids = invitations::table
            .filter(invitations::conversation_id.eq(&id))
            .select(invitations::id);
        diesel::delete(
            invitation_candidates::table
                .filter(invitation_candidates::invitation_id.eq_any(invitation_ids)),
        )
        .execute(conn)?;
        diesel::delete(invitations::table.filter(invitations::conversation_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(participants::table.filter(participants::conversation_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(events::table.filter(events::conversation_id.eq(&id))).execute(conn)?;
        let n = diesel::delete(conversations::table.find(&id)).execute(conn)?;
        Ok(n > 0)
    })
}
