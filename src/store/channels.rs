//! Team channels and direct messages in storage: their rows, their members and mutes, kept
//! in step with their events (which live in the shared event log like a conversation's).

use super::accounts::parse_id;
use super::schema::{channel_members, channel_mutes, channels, users};
use super::streams::{Batch, Stored};
use super::writer::Durable;
use super::{events, messages, reads, transaction, DbConnection, StoreError};
use crate::domain::channel::{ChannelMember, Visibility};
use crate::domain::{Channel, ChannelEvent, ChannelEventKind, ChannelId, ChannelRole, UserId};
use diesel::prelude::*;
use serde::Serialize;

/// A channel as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = channels)]
pub struct ChannelRow {
    pub id: String,
    pub visibility: String,
    pub name: Option<String>,
    pub description: String,
    pub direct_key: Option<String>,
    pub archived: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ChannelRow {
    /// Who may see it.
    pub fn visibility(&self) -> Result<Visibility, StoreError> {
        match self.visibility.as_str() {
            "public" => Ok(Visibility::Public),
            "private" => Ok(Visibility::Private),
            "direct" => Ok(Visibility::Direct),
            other => Err(StoreError::Corrupt(format!("channel visibility {other:?}"))),
        }
    }
}

/// A member of a channel, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct MemberView {
    pub user: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    pub role: String,
}

/// Stores a new channel with its first events, in one transaction. A name another channel
/// has is `Conflict`.
pub fn create_channel(
    conn: &mut DbConnection,
    row: &ChannelRow,
    opening: &[ChannelEvent],
) -> Result<(), StoreError> {
    transaction(conn, |conn| {
        diesel::insert_into(channels::table)
            .values(row)
            .execute(conn)
            .map_err(StoreError::conflict_as("a channel with that name"))?;
        events::lock_log(conn)?;
        Batch::<Channel>::new(opening.to_vec(), None, None).write(conn)
    })
}

/// A channel by id.
pub fn channel(conn: &mut DbConnection, id: ChannelId) -> Result<Option<ChannelRow>, StoreError> {
    Ok(channels::table
        .find(id.to_string())
        .select(ChannelRow::as_select())
        .first(conn)
        .optional()?)
}

/// The rules' view of a stored channel, for deciding who may see and run it outside its
/// actor: what it is and who is in it (not its messages).
pub fn gate(conn: &mut DbConnection, row: &ChannelRow) -> Result<Channel, StoreError> {
    let mut channel = Channel::new(parse_id(&row.id)?, row.visibility()?);
    channel.name = row.name.clone().unwrap_or_default();
    channel.description = row.description.clone();
    channel.archived = row.archived;
    let members: Vec<(String, String, i64)> = channel_members::table
        .filter(channel_members::channel_id.eq(&row.id))
        .order(channel_members::since_seq)
        .select((
            channel_members::user_id,
            channel_members::role,
            channel_members::since_seq,
        ))
        .load(conn)?;
    channel.members = members
        .into_iter()
        .map(|(user, role, since)| {
            Ok(ChannelMember {
                user: parse_id(&user)?,
                role: if role == "admin" {
                    ChannelRole::Admin
                } else {
                    ChannelRole::Member
                },
                since: since as u64,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(channel)
}

/// The direct message of exactly these members (by [`crate::domain::channel::direct_key`]).
pub fn direct(conn: &mut DbConnection, key: &str) -> Result<Option<ChannelRow>, StoreError> {
    Ok(channels::table
        .filter(channels::direct_key.eq(key))
        .select(ChannelRow::as_select())
        .first(conn)
        .optional()?)
}

/// How many channels and direct messages `user` belongs to.
pub fn memberships(conn: &mut DbConnection, user: UserId) -> Result<usize, StoreError> {
    let count: i64 = channel_members::table
        .filter(channel_members::user_id.eq(user.to_string()))
        .count()
        .get_result(conn)?;
    Ok(count as usize)
}

/// The channels and direct messages `user` belongs to, with their role and whether they
/// muted each, most recently active first.
pub fn of_member(
    conn: &mut DbConnection,
    user: UserId,
) -> Result<Vec<(ChannelRow, String, bool)>, StoreError> {
    let id = user.to_string();
    let rows: Vec<(ChannelRow, String)> = channels::table
        .inner_join(channel_members::table)
        .filter(channel_members::user_id.eq(&id))
        .order(channels::updated_at.desc())
        .select((ChannelRow::as_select(), channel_members::role))
        .load(conn)?;
    let muted: Vec<String> = channel_mutes::table
        .filter(channel_mutes::user_id.eq(&id))
        .select(channel_mutes::channel_id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, role)| {
            let is_muted = muted.contains(&row.id);
            (row, role, is_muted)
        })
        .collect())
}

/// Every public channel (for the directory), by name; and, for an organisation admin
/// (`private_too`), the private ones, which they may run but not read.
pub fn directory(
    conn: &mut DbConnection,
    private_too: bool,
) -> Result<Vec<(ChannelRow, i64)>, StoreError> {
    let kinds: &[&str] = if private_too {
        &["public", "private"]
    } else {
        &["public"]
    };
    let rows: Vec<ChannelRow> = channels::table
        .filter(channels::visibility.eq_any(kinds))
        .order(channels::name)
        .select(ChannelRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let count = member_count(conn, &row.id)?;
            Ok((row, count))
        })
        .collect()
}

/// How many members a channel has.
pub fn member_count(conn: &mut DbConnection, channel: &str) -> Result<i64, StoreError> {
    Ok(channel_members::table
        .filter(channel_members::channel_id.eq(channel))
        .count()
        .get_result(conn)?)
}

/// A channel's members, in the order they joined, with their names.
pub fn members(conn: &mut DbConnection, channel: ChannelId) -> Result<Vec<MemberView>, StoreError> {
    let rows: Vec<(String, String, Option<String>, String)> = channel_members::table
        .inner_join(users::table.on(users::id.eq(channel_members::user_id)))
        .filter(channel_members::channel_id.eq(channel.to_string()))
        .order(channel_members::since_seq)
        .select((
            channel_members::user_id,
            users::display_name,
            users::avatar_url,
            channel_members::role,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user, name, avatar_url, role)| MemberView {
            user,
            name,
            avatar_url,
            role,
        })
        .collect())
}

/// Takes `name` for channel `id`, before the rename is recorded: `Conflict` when another
/// channel has it. (Claimed here rather than when the rename is written, so that a taken
/// name is refused to the one asking instead of failing the writer's batch.)
pub fn claim_name(conn: &mut DbConnection, id: ChannelId, name: &str) -> Result<(), StoreError> {
    diesel::update(channels::table.find(id.to_string()))
        .set(channels::name.eq(name))
        .execute(conn)
        .map_err(StoreError::conflict_as("a channel with that name"))?;
    Ok(())
}

/// Mutes or unmutes a channel for `user`.
pub fn set_muted(
    conn: &mut DbConnection,
    channel: ChannelId,
    user: UserId,
    muted: bool,
) -> Result<(), StoreError> {
    let (channel, user) = (channel.to_string(), user.to_string());
    transaction(conn, |conn| {
        diesel::delete(channel_mutes::table.find((&channel, &user))).execute(conn)?;
        if muted {
            diesel::insert_into(channel_mutes::table)
                .values((
                    channel_mutes::channel_id.eq(&channel),
                    channel_mutes::user_id.eq(&user),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Deletes a channel with everything in it; its files' ids are returned, to delete their
/// bytes. `false` when there was no such channel.
pub fn delete_channel(conn: &mut DbConnection, id: ChannelId) -> Result<bool, StoreError> {
    let key = id.to_string();
    transaction(conn, |conn| {
        super::leases::forget(conn, &key)?;
        events::delete_stream(conn, id)?;
        messages::delete_stream(conn, id)?;
        reads::delete_stream(conn, &key)?;
        diesel::delete(channel_mutes::table.filter(channel_mutes::channel_id.eq(&key)))
            .execute(conn)?;
        diesel::delete(channel_members::table.filter(channel_members::channel_id.eq(&key)))
            .execute(conn)?;
        let n = diesel::delete(channels::table.find(&key)).execute(conn)?;
        Ok(n > 0)
    })
}

/// A channel in storage: its row, and its members kept in step with its events.
impl Stored for Channel {
    fn open(conn: &mut DbConnection, id: ChannelId) -> Result<Option<Channel>, StoreError> {
        let Some(row) = channel(conn, id)? else {
            return Ok(None);
        };
        Ok(Some(Channel::new(parse_id(&row.id)?, row.visibility()?)))
    }

    fn project(conn: &mut DbConnection, event: &ChannelEvent) -> Result<(), StoreError> {
        let id = event.stream.to_string();
        let row = channels::table.find(&id);
        match &event.kind {
            ChannelEventKind::Joined { user, role, .. } => {
                diesel::insert_into(channel_members::table)
                    .values((
                        channel_members::channel_id.eq(&id),
                        channel_members::user_id.eq(user.to_string()),
                        channel_members::role.eq(role.as_str()),
                        channel_members::since_seq.eq(event.seq as i64),
                    ))
                    .execute(conn)?;
            }
            ChannelEventKind::Left { user } | ChannelEventKind::Removed { user, .. } => {
                let user = user.to_string();
                diesel::delete(channel_members::table.find((&id, &user))).execute(conn)?;
                diesel::delete(channel_mutes::table.find((&id, &user))).execute(conn)?;
            }
            ChannelEventKind::Renamed { name, .. } => {
                diesel::update(row)
                    .set(channels::name.eq(name))
                    .execute(conn)?;
            }
            ChannelEventKind::Described { description, .. } => {
                diesel::update(row)
                    .set(channels::description.eq(description))
                    .execute(conn)?;
            }
            ChannelEventKind::Archived { .. } | ChannelEventKind::Unarchived { .. } => {
                let archived = matches!(event.kind, ChannelEventKind::Archived { .. });
                diesel::update(row)
                    .set(channels::archived.eq(archived))
                    .execute(conn)?;
            }
            ChannelEventKind::Created { .. }
            | ChannelEventKind::Message(_)
            | ChannelEventKind::Edited(_)
            | ChannelEventKind::Deleted(_)
            | ChannelEventKind::Reacted(_) => {}
        }
        Ok(())
    }

    fn touch(conn: &mut DbConnection, id: ChannelId, at: i64) -> Result<(), StoreError> {
        diesel::update(channels::table.find(id.to_string()))
            .set(channels::updated_at.eq(at))
            .execute(conn)?;
        Ok(())
    }
}
