//! Conversations, their events and invitations: creation, replay and the read side of the API.

use super::accounts::parse_id;
use super::events;
use super::schema::{
    assignees, conversation_links, conversation_viewers, conversations, customers,
    invitation_candidates, invitations, participants,
};
use super::streams::{Batch, Stored};
use super::writer::Durable;
use super::{messages, reads};
use super::{transaction, DbConnection, StoreError};
use crate::domain::{
    ConversationId, CustomerId, Event, EventKind, InvitationId, Kind, Link, Mode, Room, Status,
    TeamId, UserId,
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
    /// Visible only to a list of staff (`conversation_viewers`) and admins.
    pub listed: bool,
    /// Put aside until then.
    pub snoozed_until: Option<i64>,
}

/// A conversation's contact as lists show them: name and email.
pub type Contact = (String, Option<String>);

/// A conversation as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub id: ConversationId,
    pub team: TeamId,
    pub customer: CustomerId,
    /// The customer's display name.
    pub customer_name: String,
    /// The customer's email, when they gave one.
    pub customer_email: Option<String>,
    pub status: Status,
    pub lead: Option<UserId>,
    pub restricted: bool,
    pub resolution: Option<String>,
    pub previous: Option<ConversationId>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    /// Put aside until then.
    pub snoozed_until: Option<i64>,
}

impl ConversationRow {
    /// The API's view of this row, with its customer's name and email.
    pub fn view(
        &self,
        (customer_name, customer_email): Contact,
    ) -> Result<ConversationView, StoreError> {
        Ok(ConversationView {
            id: parse_id(&self.id)?,
            team: parse_id(&self.team_id)?,
            customer: parse_id(&self.customer_id)?,
            customer_name,
            customer_email,
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
            snoozed_until: self.snoozed_until,
        })
    }
}

/// Creates a conversation with its first events: `opened` (sequence 1), then what its
/// contact's defaults start it with.
pub fn create_conversation(
    conn: &mut DbConnection,
    row: &ConversationRow,
    opening: &[Event],
) -> Result<(), StoreError> {
    transaction(conn, |conn| {
        diesel::insert_into(conversations::table)
            .values(row)
            .execute(conn)?;
        events::lock_log(conn)?;
        Batch::<Room>::new(opening.to_vec(), None, None).write(conn)
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

/// The rules' view of a stored conversation, for deciding who may see it outside its
/// timeline: its team, customer, the team's restriction and its list of viewers.
pub fn gate(conn: &mut DbConnection, row: &ConversationRow) -> Result<Room, StoreError> {
    let mut room = Room::new(
        parse_id(&row.id)?,
        parse_id(&row.team_id)?,
        parse_id(&row.customer_id)?,
        row.restricted,
    );
    if row.listed {
        let users: Vec<String> = conversation_viewers::table
            .filter(conversation_viewers::conversation_id.eq(&row.id))
            .select(conversation_viewers::user_id)
            .load(conn)?;
        room.viewers = Some(
            users
                .iter()
                .map(|u| parse_id(u))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(room)
}

/// The records a conversation is linked to, oldest first.
pub fn links_of(conn: &mut DbConnection, id: ConversationId) -> Result<Vec<Link>, StoreError> {
    let rows: Vec<(String, String, String, String)> = conversation_links::table
        .filter(conversation_links::conversation_id.eq(id.to_string()))
        .order(conversation_links::since_seq)
        .select((
            conversation_links::system,
            conversation_links::record_id,
            conversation_links::url,
            conversation_links::title,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(system, id, url, title)| Link {
            system,
            id,
            url,
            title,
        })
        .collect())
}

/// Conversations with something due at `now`: snoozed ones whose time has come, and, when
/// `idle_before` is given, open ones with no activity since then (to be closed).
pub fn due(
    conn: &mut DbConnection,
    now: i64,
    idle_before: Option<i64>,
) -> Result<Vec<ConversationId>, StoreError> {
    let mut ids: Vec<String> = conversations::table
        .filter(conversations::snoozed_until.le(now))
        .select(conversations::id)
        .load(conn)?;
    if let Some(before) = idle_before {
        ids.extend(
            conversations::table
                .filter(conversations::status.ne(Status::Closed.as_str()))
                .filter(conversations::updated_at.lt(before))
                .select(conversations::id)
                .load::<String>(conn)?,
        );
    }
    ids.sort();
    ids.dedup();
    ids.iter().map(|id| parse_id(id)).collect()
}

/// The conversations a team's queue counts: those not closed, and those closed since
/// `since`.
pub fn of_queue(
    conn: &mut DbConnection,
    team: TeamId,
    since: i64,
) -> Result<Vec<ConversationId>, StoreError> {
    let ids: Vec<String> = conversations::table
        .filter(conversations::team_id.eq(team.to_string()))
        .filter(
            conversations::status
                .ne(Status::Closed.as_str())
                .or(conversations::closed_at.ge(since)),
        )
        .select(conversations::id)
        .load(conn)?;
    ids.iter().map(|id| parse_id(id)).collect()
}

/// The newest conversation a customer started with a team.
pub fn latest_in_team(
    conn: &mut DbConnection,
    customer: CustomerId,
    team: &str,
) -> Result<Option<ConversationRow>, StoreError> {
    Ok(conversations::table
        .filter(conversations::customer_id.eq(customer.to_string()))
        .filter(conversations::team_id.eq(team))
        .order((conversations::created_at.desc(), conversations::id.desc()))
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

/// Every conversation a customer started, newest first, with their name and email.
pub fn of_contact(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> Result<Vec<(ConversationRow, Contact)>, StoreError> {
    Ok(conversations::table
        .inner_join(customers::table.on(customers::id.eq(conversations::customer_id)))
        .filter(conversations::customer_id.eq(customer.to_string()))
        .order((conversations::created_at.desc(), conversations::id.desc()))
        .select((
            ConversationRow::as_select(),
            (customers::display_name, customers::email),
        ))
        .load(conn)?)
}

/// Every conversation a customer started, oldest first.
pub fn of_customer(
    conn: &mut DbConnection,
    customer: CustomerId,
) -> Result<Vec<ConversationRow>, StoreError> {
    Ok(conversations::table
        .filter(conversations::customer_id.eq(customer.to_string()))
        .order((conversations::created_at.asc(), conversations::id.asc()))
        .select(ConversationRow::as_select())
        .load(conn)?)
}

/// Conversations by id (those that exist).
pub fn by_ids(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<ConversationRow>, StoreError> {
    Ok(conversations::table
        .filter(conversations::id.eq_any(ids))
        .order(conversations::updated_at.desc())
        .select(ConversationRow::as_select())
        .load(conn)?)
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
    /// Only conversations without a list of viewers, or whose list names this staff
    /// member (`None` for admins, who view every list).
    pub listed_for: Option<UserId>,
    pub limit: u32,
}

/// A conversation by id, with its customer's display name.
pub fn named_conversation(
    conn: &mut DbConnection,
    id: ConversationId,
) -> Result<Option<(ConversationRow, Contact)>, StoreError> {
    Ok(conversations::table
        .inner_join(customers::table.on(customers::id.eq(conversations::customer_id)))
        .filter(conversations::id.eq(id.to_string()))
        .select((
            ConversationRow::as_select(),
            (customers::display_name, customers::email),
        ))
        .first(conn)
        .optional()?)
}

/// Conversations matching `filter`, most recently active first, each with its customer's
/// display name.
pub fn list_conversations(
    conn: &mut DbConnection,
    filter: &ListFilter,
) -> Result<Vec<(ConversationRow, Contact)>, StoreError> {
    let mut query = conversations::table
        .inner_join(customers::table.on(customers::id.eq(conversations::customer_id)))
        .select((
            ConversationRow::as_select(),
            (customers::display_name, customers::email),
        ))
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
    if let Some(user) = filter.listed_for {
        let listing = conversation_viewers::table
            .filter(conversation_viewers::user_id.eq(user.to_string()))
            .select(conversation_viewers::conversation_id);
        query = query.filter(
            conversations::listed
                .eq(false)
                .or(conversations::id.eq_any(listing)),
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
    conversation: ConversationId,
) -> Result<bool, StoreError> {
    let id = conversation.to_string();
    transaction(conn, |conn| {
        super::leases::forget(conn, &id)?;
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
        diesel::delete(assignees::table.filter(assignees::conversation_id.eq(&id)))
            .execute(conn)?;
        diesel::delete(
            conversation_viewers::table.filter(conversation_viewers::conversation_id.eq(&id)),
        )
        .execute(conn)?;
        diesel::delete(
            conversation_links::table.filter(conversation_links::conversation_id.eq(&id)),
        )
        .execute(conn)?;
        events::delete_stream(conn, conversation)?;
        messages::delete_stream(conn, conversation)?;
        reads::delete_stream(conn, &id)?;
        let n = diesel::delete(conversations::table.find(&id)).execute(conn)?;
        Ok(n > 0)
    })
}

/// A conversation in storage: its row, and the tables kept in step with its events (status
/// and lead, participants, invitations).
impl Stored for Room {
    fn open(conn: &mut DbConnection, id: ConversationId) -> Result<Option<Room>, StoreError> {
        let Some(row) = conversation(conn, id)? else {
            return Ok(None);
        };
        Ok(Some(Room::new(
            parse_id(&row.id)?,
            parse_id(&row.team_id)?,
            parse_id(&row.customer_id)?,
            row.restricted,
        )))
    }

    fn touch(conn: &mut DbConnection, id: ConversationId, at: i64) -> Result<(), StoreError> {
        diesel::update(conversations::table.find(id.to_string()))
            .set(conversations::updated_at.eq(at))
            .execute(conn)?;
        Ok(())
    }

    fn project(conn: &mut DbConnection, event: &Event) -> Result<(), StoreError> {
        if event.kind.message_event().is_some() {
            return Ok(());
        }
        let conversation = event.stream.to_string();
        let in_conversation = participants::conversation_id.eq(conversation.clone());
        match &event.kind {
            EventKind::Opened { .. }
            | EventKind::Reply(_)
            | EventKind::Note(_)
            | EventKind::Edited(_)
            | EventKind::Deleted(_)
            | EventKind::Reacted(_)
            | EventKind::Suggested { .. } => {}
            EventKind::Assigned { user, .. } => {
                diesel::insert_into(assignees::table)
                    .values((
                        assignees::conversation_id.eq(&conversation),
                        assignees::user_id.eq(user.to_string()),
                        assignees::since_seq.eq(event.seq as i64),
                    ))
                    .execute(conn)?;
            }
            EventKind::Unassigned { user, .. } => {
                diesel::delete(
                    assignees::table
                        .filter(assignees::conversation_id.eq(&conversation))
                        .filter(assignees::user_id.eq(user.to_string())),
                )
                .execute(conn)?;
            }
            EventKind::ViewersSet { users, .. } => {
                let listed = conversation_viewers::conversation_id.eq(&conversation);
                diesel::delete(conversation_viewers::table.filter(listed)).execute(conn)?;
                for user in users {
                    diesel::insert_into(conversation_viewers::table)
                        .values((
                            conversation_viewers::conversation_id.eq(&conversation),
                            conversation_viewers::user_id.eq(user.to_string()),
                        ))
                        .execute(conn)?;
                }
                diesel::update(conversations::table.find(&conversation))
                    .set(conversations::listed.eq(true))
                    .execute(conn)?;
            }
            EventKind::Snoozed { until, .. } => {
                diesel::update(conversations::table.find(&conversation))
                    .set(conversations::snoozed_until.eq(Some(*until)))
                    .execute(conn)?;
            }
            EventKind::Woke => {
                diesel::update(conversations::table.find(&conversation))
                    .set(conversations::snoozed_until.eq(None::<i64>))
                    .execute(conn)?;
            }
            EventKind::Linked { link } => {
                diesel::insert_into(conversation_links::table)
                    .values((
                        conversation_links::conversation_id.eq(&conversation),
                        conversation_links::system.eq(&link.system),
                        conversation_links::record_id.eq(&link.id),
                        conversation_links::url.eq(&link.url),
                        conversation_links::title.eq(&link.title),
                        conversation_links::since_seq.eq(event.seq as i64),
                    ))
                    .execute(conn)?;
            }
            EventKind::Unlinked { system, id } => {
                diesel::delete(
                    conversation_links::table
                        .filter(conversation_links::conversation_id.eq(&conversation))
                        .filter(conversation_links::system.eq(system))
                        .filter(conversation_links::record_id.eq(id)),
                )
                .execute(conn)?;
            }
            EventKind::ViewersCleared { .. } => {
                let listed = conversation_viewers::conversation_id.eq(&conversation);
                diesel::delete(conversation_viewers::table.filter(listed)).execute(conn)?;
                diesel::update(conversations::table.find(&conversation))
                    .set(conversations::listed.eq(false))
                    .execute(conn)?;
            }
            EventKind::Joined {
                user,
                mode,
                invitation,
                ..
            } => {
                let user = user.to_string();
                let updated = diesel::update(
                    participants::table
                        .filter(in_conversation.clone())
                        .filter(participants::user_id.eq(&user)),
                )
                .set(participants::mode.eq(mode.as_str()))
                .execute(conn)?;
                if updated == 0 {
                    diesel::insert_into(participants::table)
                        .values((
                            participants::conversation_id.eq(&conversation),
                            participants::user_id.eq(&user),
                            participants::mode.eq(mode.as_str()),
                            participants::since_seq.eq(event.seq as i64),
                        ))
                        .execute(conn)?;
                }
                if let Some(invitation) = invitation {
                    resolve_invitation(
                        conn,
                        &invitation.to_string(),
                        "accepted",
                        Some(&user),
                        event.at,
                    )?;
                }
                if *mode == Mode::Lead {
                    diesel::update(conversations::table.find(&conversation))
                        .set((
                            conversations::status.eq("active"),
                            conversations::lead_id.eq(&user),
                        ))
                        .execute(conn)?;
                }
            }
            EventKind::Left { user, .. } => {
                diesel::delete(
                    participants::table
                        .filter(in_conversation)
                        .filter(participants::user_id.eq(user.to_string())),
                )
                .execute(conn)?;
            }
            EventKind::Invited {
                invitation,
                inviter,
                target,
                mode,
                candidates,
                expires_at,
            } => {
                let id = invitation.to_string();
                diesel::insert_into(invitations::table)
                    .values((
                        invitations::id.eq(&id),
                        invitations::conversation_id.eq(&conversation),
                        invitations::inviter_id.eq(inviter.to_string()),
                        invitations::target
                            .eq(serde_json::to_string(target).expect("targets serialize")),
                        invitations::mode.eq(mode.as_str()),
                        invitations::status.eq("pending"),
                        invitations::created_at.eq(event.at),
                        invitations::expires_at.eq(expires_at),
                    ))
                    .execute(conn)?;
                for candidate in candidates {
                    diesel::insert_into(invitation_candidates::table)
                        .values((
                            invitation_candidates::invitation_id.eq(&id),
                            invitation_candidates::user_id.eq(candidate.to_string()),
                        ))
                        .execute(conn)?;
                }
            }
            EventKind::InvitationDeclined {
                invitation,
                by,
                remaining,
            } => {
                let id = invitation.to_string();
                let by = by.to_string();
                diesel::delete(
                    invitation_candidates::table
                        .filter(invitation_candidates::invitation_id.eq(&id))
                        .filter(invitation_candidates::user_id.eq(&by)),
                )
                .execute(conn)?;
                if *remaining == 0 {
                    resolve_invitation(conn, &id, "declined", Some(&by), event.at)?;
                }
            }
            EventKind::InvitationCancelled { invitation } => {
                resolve_invitation(conn, &invitation.to_string(), "cancelled", None, event.at)?;
            }
            EventKind::InvitationExpired { invitation } => {
                resolve_invitation(conn, &invitation.to_string(), "expired", None, event.at)?;
            }
            EventKind::LeadTransferred { from, to } => {
                for (user, mode) in [(from, "participant"), (to, "lead")] {
                    diesel::update(
                        participants::table
                            .filter(in_conversation.clone())
                            .filter(participants::user_id.eq(user.to_string())),
                    )
                    .set(participants::mode.eq(mode))
                    .execute(conn)?;
                }
                diesel::update(conversations::table.find(&conversation))
                    .set(conversations::lead_id.eq(to.to_string()))
                    .execute(conn)?;
            }
            EventKind::Closed { resolution, .. } => {
                diesel::update(conversations::table.find(&conversation))
                    .set((
                        conversations::status.eq("closed"),
                        conversations::resolution.eq(resolution),
                        conversations::closed_at.eq(event.at),
                        conversations::lead_id.eq(None::<String>),
                        conversations::snoozed_until.eq(None::<i64>),
                    ))
                    .execute(conn)?;
                diesel::delete(participants::table.filter(in_conversation)).execute(conn)?;
            }
            EventKind::Reopened => {
                diesel::update(conversations::table.find(&conversation))
                    .set((
                        conversations::status.eq("active"),
                        conversations::resolution.eq(None::<String>),
                        conversations::closed_at.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    }
}

fn resolve_invitation(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    by: Option<&str>,
    at: i64,
) -> Result<(), StoreError> {
    diesel::update(invitations::table.find(id))
        .set((
            invitations::status.eq(status),
            invitations::resolved_at.eq(at),
            invitations::resolved_by.eq(by),
        ))
        .execute(conn)?;
    diesel::delete(
        invitation_candidates::table.filter(invitation_candidates::invitation_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}
