//! Contacts: the customer across conversations.

use super::audit::{self, Actor};
use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::auth::Principal;
use crate::domain::{ContactDefaults, CustomerId, Staff, UserId};
use crate::store::accounts::{self, UserView};
use crate::store::contacts::{self, StoredDefaults};
use crate::store::{conversations, now_millis};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// `GET /api/contacts/{id}`: the contact (name, email, phone, external id) and their
/// conversations, newest first. Staff get those they may view, and how many more exist
/// that they may not ("not viewable due to permissions"); a customer may read their own.
/// Supervisors and admins also get the contact's `defaults` (or `null`).
pub async fn get(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound("contact");
    let id: CustomerId = path.parse().map_err(|_| not_found())?;
    let staff = match &caller.0 {
        Principal::Customer { customer, .. } if *customer == id => None,
        Principal::Customer { .. } => return Err(not_found()),
        Principal::Staff(user) => Some(user.staff()),
    };
    let (contact, rows, defaults) = data
        .store()
        .run(move |conn| {
            let Some(contact) = accounts::customer_by_id(conn, id)? else {
                return Ok(None);
            };
            let mut rows = Vec::new();
            for (row, name) in conversations::of_contact(conn, id)? {
                let room = conversations::gate(conn, &row)?;
                rows.push((row, name, room));
            }
            let defaults = contacts::defaults_of(conn, id)?;
            Ok(Some((contact, rows, defaults)))
        })
        .await?
        .ok_or_else(not_found)?;
    let mut shown = Vec::new();
    let mut hidden = 0usize;
    for (row, name, room) in rows {
        let view = row.view(name)?;
        match &staff {
            Some(staff) if !room.may_view(staff) => hidden += 1,
            _ => shown.push(view),
        }
    }
    let mut body = json!({
        "id": contact.id,
        "name": contact.display_name,
        "email": contact.email,
        "phone": contact.phone,
        "external_id": contact.external_id,
        "created_at": contact.created_at,
        "conversations": shown,
        "hidden_conversations": hidden,
    });
    if staff.as_ref().is_some_and(ContactDefaults::may_set) {
        body["defaults"] = defaults.as_ref().map_or(Value::Null, defaults_json);
    }
    Ok(HttpResponse::Ok().json(body))
}

/// What `PUT /api/contacts/{id}/defaults` takes: staff ids.
#[derive(Deserialize)]
pub struct SetDefaults {
    #[serde(default)]
    assignees: Vec<UserId>,
    /// Absent or `null`: the contact's conversations are visible to their team as usual.
    #[serde(default)]
    viewers: Option<Vec<UserId>>,
}

/// `PUT /api/contacts/{id}/defaults` (supervisors and admins) `{assignees, viewers}`: what
/// each new conversation of the contact starts with. Its assignees are assigned as it
/// opens (each who may view it then: the team's restriction still holds), and with a
/// list of `viewers` only they (with the setter and admins) may view it. Existing
/// conversations stay as they are. `{}` clears the defaults.
pub async fn set_defaults(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<SetDefaults>,
) -> Result<HttpResponse, ApiError> {
    let by = caller.staff()?;
    let id: CustomerId = path.parse().map_err(|_| ApiError::NotFound("contact"))?;
    let SetDefaults { assignees, viewers } = body.into_inner();
    let mut wanted = assignees.clone();
    wanted.extend(viewers.iter().flatten().copied());
    let found = data
        .store()
        .run(move |conn| {
            let Some(contact) = accounts::customer_by_id(conn, id)? else {
                return Ok(None);
            };
            let mut found = Vec::new();
            for user in wanted {
                found.push((user, accounts::user_by_id(conn, &user.to_string())?));
            }
            Ok(Some((contact.display_name, found)))
        })
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    let (name, found) = found;
    let staff_of = |users: &[UserId]| -> Result<Vec<Staff>, ApiError> {
        users
            .iter()
            .map(|user| {
                found
                    .iter()
                    .find(|(id, _)| id == user)
                    .and_then(|(_, view)| view.as_ref())
                    .map(UserView::staff)
                    .ok_or_else(|| ApiError::BadRequest(format!("no staff user {user}")))
            })
            .collect()
    };
    let assignees = staff_of(&assignees)?;
    let viewers = viewers.as_deref().map(staff_of).transpose()?;
    let defaults = ContactDefaults::decide(&by, &assignees, viewers.as_deref())?;
    let actor = Actor::staff(&data, &req, &by);
    let stored = data
        .store()
        .run(move |conn| {
            contacts::set_defaults(conn, id, by.id, now_millis(), &defaults)?;
            contacts::defaults_of(conn, id)
        })
        .await?;
    let shown = stored.as_ref().map_or(Value::Null, defaults_json);
    let detail = json!({ "assignees": shown["assignees"], "viewers": shown["viewers"] });
    audit::record(
        &data,
        actor.entry(
            "contact_defaults_changed",
            Some((id.to_string(), Some(name))),
            detail,
        ),
    )
    .await;
    Ok(HttpResponse::Ok().json(shown))
}

/// `DELETE /api/contacts/{id}` (admins): erases the contact and everything of theirs
/// (conversations with their messages and files, tokens, defaults), for the right to
/// erasure. Their open chats close; the audit log keeps an entry with the contact's id only.
pub async fn erase(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.admin("only admins erase contacts")?;
    let id: CustomerId = path.parse().map_err(|_| ApiError::NotFound("contact"))?;
    let erased = data
        .get_ref()
        .erase_contact(id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    tracing::info!(contact = %id, by = %admin.id, conversations = erased.conversations.len(), "contact erased");
    let detail = json!({
        "conversations": erased.conversations.len(),
        "files": erased.files.len(),
    });
    let entry = Actor::staff(&data, &req, &admin).entry(
        "contact_erased",
        Some((id.to_string(), None)),
        detail.clone(),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::Ok().json(detail))
}

/// A contact's defaults as the API shows them: staff by id and name.
fn defaults_json(defaults: &StoredDefaults) -> Value {
    let person = |user: &UserView| json!({"id": user.id, "name": user.display_name});
    json!({
        "assignees": defaults.assignees.iter().map(person).collect::<Vec<_>>(),
        "viewers": defaults
            .viewers
            .as_ref()
            .map(|list| list.iter().map(person).collect::<Vec<_>>()),
        "set_by": person(&defaults.set_by),
        "set_at": defaults.set_at,
    })
}
