//! The inboxes: a staff member's working lists of conversations (the team inbox, my inbox,
//! the unassigned), filtered, sorted, paged by cursor, and counted per tab.

use super::accounts::parse_id;
use super::conversations::{Contact, ConversationRow};
use super::schema::{assignees, conversation_viewers, conversations, customers, users};
use super::{DbConnection, StoreError};
use crate::domain::{Status, TeamId, UserId};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// Which list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// Every conversation of the teams I may view.
    #[default]
    All,
    /// Assigned to me.
    Mine,
    /// Assigned to nobody.
    Unassigned,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most recently active first.
    #[default]
    Activity,
    /// Longest waiting first (oldest first).
    Waiting,
    /// Newest first.
    Created,
}

/// What narrows every tab of an inbox.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The staff member whose inbox it is.
    pub me: Option<UserId>,
    /// Only unrestricted conversations and those of these teams (what a non-admin may
    /// view); `None` for admins, who view every team.
    pub viewable_teams: Option<Vec<TeamId>>,
    pub status: Option<Status>,
    pub team: Option<String>,
    pub assignee: Option<UserId>,
    pub contact: Option<String>,
    /// Only conversations without a list of viewers, or whose list names this staff
    /// member (`None` for admins, who view every list).
    pub listed_for: Option<UserId>,
    /// Only snoozed conversations (`true`), or, by default, only those not snoozed.
    pub snoozed: bool,
}

/// Where a page starts: after the item with this sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl Cursor {
    /// The cursor as clients pass it back (`AT.ID`).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }

    /// A cursor from its encoding, if it is one.
    pub fn decode(text: &str) -> Option<Cursor> {
        let (at, id) = text.split_once('.')?;
        Some(Cursor {
            at: at.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

/// The backend of the connection (either database).
type Db = <DbConnection as diesel::Connection>::Backend;
type Query<'a> = conversations::BoxedQuery<'a, Db>;

/// The conversations of `tab` that `filter` lets through.
fn matching<'a>(filter: &'a Filter, tab: Tab) -> Query<'a> {
    let mut query = conversations::table.into_boxed();
    if let Some(teams) = &filter.viewable_teams {
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
    if let Some(status) = filter.status {
        query = query.filter(conversations::status.eq(status.as_str()));
    }
    query = if filter.snoozed {
        query.filter(conversations::snoozed_until.is_not_null())
    } else {
        query.filter(conversations::snoozed_until.is_null())
    };
    if let Some(team) = &filter.team {
        query = query.filter(conversations::team_id.eq(team));
    }
    if let Some(contact) = &filter.contact {
        query = query.filter(conversations::customer_id.eq(contact));
    }
    if let Some(assignee) = filter.assignee {
        let theirs = assignees::table
            .filter(assignees::user_id.eq(assignee.to_string()))
            .select(assignees::conversation_id);
        query = query.filter(conversations::id.eq_any(theirs));
    }
    match (tab, filter.me) {
        (Tab::Mine, Some(me)) => {
            let mine = assignees::table
                .filter(assignees::user_id.eq(me.to_string()))
                .select(assignees::conversation_id);
            query.filter(conversations::id.eq_any(mine))
        }
        (Tab::Mine, None) => query.filter(conversations::id.eq("")),
        (Tab::Unassigned, _) => query
            .filter(conversations::id.ne_all(assignees::table.select(assignees::conversation_id))),
        (Tab::All, _) => query,
    }
}

/// How many conversations each tab holds under `filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub all: i64,
    pub mine: i64,
    pub unassigned: i64,
}

/// The counts of every tab.
pub fn counts(conn: &mut DbConnection, filter: &Filter) -> Result<Counts, StoreError> {
    let count = |conn: &mut DbConnection, tab| -> Result<i64, StoreError> {
        Ok(matching(filter, tab).count().get_result(conn)?)
    };
    Ok(Counts {
        all: count(conn, Tab::All)?,
        mine: count(conn, Tab::Mine)?,
        unassigned: count(conn, Tab::Unassigned)?,
    })
}

/// A page of an inbox: its conversations with their contacts, and where the next starts.
pub type Page = (Vec<(ConversationRow, Contact)>, Option<Cursor>);

/// One page of `tab` in `sort` order after `cursor`, at most `limit` long, each with its
/// contact; and the cursor of the next page, if there is one.
pub fn page(
    conn: &mut DbConnection,
    filter: &Filter,
    tab: Tab,
    sort: Sort,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Page, StoreError> {
    let key = |row: &ConversationRow| match sort {
        Sort::Activity => row.updated_at,
        Sort::Waiting | Sort::Created => row.created_at,
    };
    let mut query = matching(filter, tab);
    query = match (sort, cursor) {
        (_, None) => query,
        (Sort::Activity, Some(c)) => query.filter(
            conversations::updated_at
                .lt(c.at)
                .or(conversations::updated_at
                    .eq(c.at)
                    .and(conversations::id.lt(c.id.clone()))),
        ),
        (Sort::Created, Some(c)) => query.filter(
            conversations::created_at
                .lt(c.at)
                .or(conversations::created_at
                    .eq(c.at)
                    .and(conversations::id.lt(c.id.clone()))),
        ),
        (Sort::Waiting, Some(c)) => query.filter(
            conversations::created_at
                .gt(c.at)
                .or(conversations::created_at
                    .eq(c.at)
                    .and(conversations::id.gt(c.id.clone()))),
        ),
    };
    query = match sort {
        Sort::Activity => query.order((conversations::updated_at.desc(), conversations::id.desc())),
        Sort::Created => query.order((conversations::created_at.desc(), conversations::id.desc())),
        Sort::Waiting => query.order((conversations::created_at.asc(), conversations::id.asc())),
    };
    let mut rows: Vec<ConversationRow> = query
        .select(ConversationRow::as_select())
        .limit(i64::from(limit) + 1)
        .load(conn)?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        let last = rows.last().expect("a full page has a last row");
        Cursor {
            at: key(last),
            id: last.id.clone(),
        }
    });
    let ids: Vec<String> = rows.iter().map(|r| r.customer_id.clone()).collect();
    let contacts: std::collections::HashMap<String, Contact> = customers::table
        .filter(customers::id.eq_any(&ids))
        .select((customers::id, (customers::display_name, customers::email)))
        .load::<(String, Contact)>(conn)?
        .into_iter()
        .collect();
    let rows = rows
        .into_iter()
        .map(|row| {
            let contact = contacts
                .get(&row.customer_id)
                .cloned()
                .unwrap_or_else(|| (String::new(), None));
            (row, contact)
        })
        .collect();
    Ok((rows, next))
}

/// Someone responsible for a conversation, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssigneeView {
    pub user: UserId,
    pub name: String,
}

/// A conversation's assignees, in the order they were assigned.
pub fn assignees_of(
    conn: &mut DbConnection,
    conversation: &str,
) -> Result<Vec<AssigneeView>, StoreError> {
    let rows: Vec<(String, String)> = assignees::table
        .inner_join(users::table.on(users::id.eq(assignees::user_id)))
        .filter(assignees::conversation_id.eq(conversation))
        .order(assignees::since_seq)
        .select((assignees::user_id, users::display_name))
        .load(conn)?;
    rows.into_iter()
        .map(|(user, name)| {
            Ok(AssigneeView {
                user: parse_id(&user)?,
                name,
            })
        })
        .collect()
}
