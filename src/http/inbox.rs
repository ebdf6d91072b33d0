//! The inboxes over REST: `GET /api/inbox`.

use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::actors::queue::{Snapshot, UnrepliedOf};
use crate::domain::{ConversationId, Staff, Status, TeamId, UserId};
use crate::store::inbox::{self, Cursor, Filter, Sort, Tab};
use crate::store::{accounts, conversations, events, reads, StoreError};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use std::collections::HashMap;

/// Query of `GET /api/inbox`.
#[derive(Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    tab: Tab,
    status: Option<Status>,
    /// Team id or name.
    team: Option<String>,
    assignee: Option<UserId>,
    contact: Option<String>,
    /// Only snoozed conversations (by default, only those not snoozed).
    #[serde(default)]
    snoozed: bool,
    #[serde(default)]
    sort: Sort,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/inbox?tab=all|mine|unassigned&status=&team=&assignee=&contact=&sort=activity|waiting|created&cursor=&limit=`
/// (staff): a page of the tab's conversations that the caller may view, each with its
/// contact, assignees, message count, unreplied customer messages and the caller's unread and mention
/// counts; how many each tab holds
/// under the same filters; and the cursor of the next page.
pub async fn inbox(
    data: Data,
    caller: Caller,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let query = query.into_inner();
    let cursor = match &query.cursor {
        Some(text) => Some(
            Cursor::decode(text)
                .ok_or_else(|| ApiError::BadRequest("cursor: pass back a next_cursor".into()))?,
        ),
        None => None,
    };
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let tab = query.tab;
    let reader = staff.id.to_string();
    let (counts, mut rows, keys, next) = data
        .store()
        .run(move |conn| {
            let team = match &query.team {
                // An unknown team matches nothing.
                Some(team) => Some(accounts::find_team(conn, team)?.map_or(team.clone(), |t| t.id)),
                None => None,
            };
            let filter = Filter {
                me: Some(staff.id),
                viewable_teams: (!staff.views_every_team()).then(|| staff.teams.clone()),
                status: query.status,
                team,
                assignee: query.assignee,
                contact: query.contact.clone(),
                listed_for: (!staff.views_every_team()).then_some(staff.id),
                snoozed: query.snoozed,
            };
            let counts = inbox::counts(conn, &filter)?;
            let (page, next) =
                inbox::page(conn, &filter, query.tab, query.sort, cursor.as_ref(), limit)?;
            let mut rows = Vec::with_capacity(page.len());
            let mut keys = Vec::with_capacity(page.len());
            for (row, contact) in page {
                // The query only narrows; the rules have the last word on who may view.
                if !conversations::gate(conn, &row)?.may_view(&staff) {
                    continue;
                }
                let view = row.view(contact)?;
                keys.push((view.id, view.team));
                let assignees = inbox::assignees_of(conn, &row.id)?;
                let unread = reads::unread(conn, &row.id, &reader, false)?;
                let messages = events::count_messages(conn, &row.id)?;
                let mut item = serde_json::to_value(view).expect("views serialize");
                item["messages"] = messages.into();
                item["assignees"] = serde_json::to_value(assignees).expect("views serialize");
                let unread = serde_json::to_value(unread).expect("counts serialize");
                item.as_object_mut()
                    .unwrap()
                    .extend(unread.as_object().unwrap().clone());
                rows.push(item);
            }
            Ok((counts, rows, keys, next))
        })
        .await?;
    // Unreplied messages come from the queues, which fold them from the events.
    let unreplied = unreplied(&data, &keys).await?;
    for (row, (id, _)) in rows.iter_mut().zip(&keys) {
        row["unreplied"] = unreplied.get(id).copied().unwrap_or(0).into();
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "tab": tab,
        "counts": counts,
        "conversations": rows,
        "next_cursor": next.map(|c| c.encode()),
    })))
}

/// The team named by id or name, if `staff` may watch it (its queue, monitoring, routing,
/// canned responses and knowledge base): its members, admins, and for an unrestricted team,
/// supervisors.
pub(super) async fn watched_team(
    data: &Data,
    staff: &Staff,
    team: String,
) -> Result<(TeamId, accounts::TeamRow), ApiError> {
    let team = data
        .store()
        .run(move |conn| accounts::find_team(conn, &team))
        .await?
        .ok_or(ApiError::NotFound("team"))?;
    let id: TeamId = accounts::parse_id(&team.id)?;
    if !staff.may_watch_queue(id, team.restricted) {
        return Err(ApiError::Forbidden("you may not watch this team's queue"));
    }
    Ok((id, team))
}

/// The id of the team named by id or name, if the caller may watch it (and so read its
/// canned responses and knowledge base).
pub(super) async fn watched_team_id(
    data: &Data,
    caller: &Caller,
    team: String,
) -> Result<String, ApiError> {
    let (_, team) = watched_team(data, &caller.staff()?, team).await?;
    Ok(team.id)
}

/// `GET /api/teams/{team}/queue` (staff who may watch the team): the queue's figures now,
/// as the live `queue` frames give them.
pub async fn queue(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let (id, _) = watched_team(&data, &staff, path.into_inner()).await?;
    let figures = data
        .queue(id)
        .send(Snapshot { staff })
        .await
        .map_err(|_| ApiError::Storage(StoreError::WriterStopped))??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "team": id, "figures": figures })))
}

/// `GET /api/teams/{team}/monitoring` (supervisors and admins who may watch the team): the
/// team's open conversations they may view, longest waiting for an answer first, each
/// with its customer, agents in the room, assignees and how long the customer has waited
/// for an answer; from here they join one as monitor (`monitor`).
pub async fn monitoring(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let (id, team) = watched_team(&data, &staff, path.into_inner()).await?;
    if !staff.may_monitor_queue(id, team.restricted) {
        return Err(ApiError::Forbidden(
            "the monitoring view is for supervisors and admins",
        ));
    }
    let rows = data
        .queue(id)
        .send(crate::actors::queue::Monitoring { staff })
        .await
        .map_err(|_| ApiError::Storage(StoreError::WriterStopped))??;
    let now = crate::store::now_millis();
    let listed = data
        .store()
        .run(move |conn| {
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let Some((stored, (customer_name, _))) =
                    conversations::named_conversation(conn, row.conversation)?
                else {
                    continue;
                };
                let s = &row.summary;
                let people: Vec<crate::domain::Author> = s
                    .agents
                    .iter()
                    .chain(&s.assignees)
                    .map(|u| crate::domain::Author::Staff(*u))
                    .collect();
                let names = accounts::people(conn, &people)?;
                let name_of = |user: &UserId| {
                    names
                        .iter()
                        .find(|p| p.author == crate::domain::Author::Staff(*user))
                        .map(|p| p.name.clone())
                        .unwrap_or_default()
                };
                let who = |users: &[UserId]| -> Vec<serde_json::Value> {
                    users
                        .iter()
                        .map(|u| serde_json::json!({"user": u, "name": name_of(u)}))
                        .collect()
                };
                out.push(serde_json::json!({
                    "conversation": row.conversation,
                    "status": stored.status,
                    "customer": stored.customer_id,
                    "customer_name": customer_name,
                    "agents": who(&s.agents),
                    "assignees": who(&s.assignees),
                    "unreplied": s.unreplied,
                    "waiting_for_answer_ms": s.unreplied_since.map(|at| now - at),
                    "waiting_for_agent_ms": s.waiting_since.map(|at| now - at),
                    "created_at": s.created_at,
                }));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "team": id, "conversations": listed })))
}

/// The unreplied customer messages of `conversations` (by team), from their queues.
async fn unreplied(
    data: &Data,
    conversations: &[(ConversationId, TeamId)],
) -> Result<HashMap<ConversationId, u32>, ApiError> {
    let mut by_team: HashMap<TeamId, Vec<ConversationId>> = HashMap::new();
    for (conversation, team) in conversations {
        by_team.entry(*team).or_default().push(*conversation);
    }
    let mut counts = HashMap::new();
    for (team, ids) in by_team {
        let found = data
            .queue(team)
            .send(UnrepliedOf(ids))
            .await
            .map_err(|_| ApiError::Storage(StoreError::WriterStopped))??;
        counts.extend(found);
    }
    Ok(counts)
}

/// `GET /api/teams/{team}/routing` (staff who may watch the team): how the team routes.
pub async fn routing(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = caller.staff()?;
    let (_, team) = watched_team(&data, &staff, path.into_inner()).await?;
    let routing = data
        .store()
        .run(move |conn| accounts::routing_of(conn, &team.id))
        .await?;
    Ok(HttpResponse::Ok().json(routing))
}

/// `PUT /api/teams/{team}/routing` (admins) `{mode: "manual"|"auto", capacity}`: how the
/// team's new conversations find an agent. With `auto`, each is offered to an online
/// agent of the team with fewer than `capacity` open conversations, the least busy first.
pub async fn set_routing(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<accounts::Routing>,
) -> Result<HttpResponse, ApiError> {
    caller.admin("only admins set a team's routing")?;
    let routing = body.into_inner();
    if routing.capacity == 0 || routing.capacity > 1000 {
        return Err(ApiError::BadRequest("capacity: 1 to 1000".into()));
    }
    let team = path.into_inner();
    let team = data
        .store()
        .run(move |conn| {
            let Some(team) = accounts::find_team(conn, &team)? else {
                return Ok(None);
            };
            accounts::set_routing(conn, &team.id, routing)?;
            Ok(Some(team))
        })
        .await?
        .ok_or(ApiError::NotFound("team"))?;
    // The team's queue routes from now on (and starts, if it was not running).
    data.queue(accounts::parse_id(&team.id)?)
        .do_send(crate::actors::queue::Reroute);
    Ok(HttpResponse::Ok().json(routing))
}
