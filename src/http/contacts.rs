//! Contacts: the customer across conversations.

use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::auth::Principal;
use crate::domain::CustomerId;
use crate::store::{accounts, conversations};
use actix_web::{web, HttpResponse};

/// `GET /api/contacts/{id}`: the contact (name, email, phone, external id) and their
/// conversations, newest first. Staff get those they may view, and how many more exist
/// that they may not ("not viewable due to permissions"); a customer may read their own.
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
    let (contact, rows) = data
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
            Ok(Some((contact, rows)))
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
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": contact.id,
        "name": contact.display_name,
        "email": contact.email,
        "phone": contact.phone,
        "external_id": contact.external_id,
        "created_at": contact.created_at,
        "conversations": shown,
        "hidden_conversations": hidden,
    })))
}
