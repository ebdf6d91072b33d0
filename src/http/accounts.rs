//! Logging in and out, staff users and teams.

use super::audit::{self, Actor};
use super::auth::{bearer_token, Caller};
use super::error::ApiError;
use super::sessions::{hash_off_thread, validate_password};
use super::Data;
use crate::actors::session::Disconnect;
use crate::auth::{hash_password, token_hash, Principal};
use crate::domain::account::{check_change, check_password_reset, Account, AccountChange};
use crate::domain::{Role, UserId};
use crate::store::accounts::{self, NewUser, TeamRow, UserChange};
use crate::store::{now_millis, StoreError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The refusal of account and team management to anyone but admins.
const ADMINS_ONLY: &str = "only admins manage users and teams";

/// `POST /api/logout`: revokes the token used and closes its WebSockets.
pub async fn logout(
    data: Data,
    req: HttpRequest,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let hash = token_hash(&bearer_token(&req).unwrap_or_default());
    let revoked = hash.clone();
    data.store()
        .run(move |conn| accounts::revoke_token(conn, &revoked))
        .await?;
    data.disconnect_token(&hash, Disconnect::REVOKED);
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/me`: who the token belongs to.
pub async fn me(caller: Caller) -> HttpResponse {
    match caller.0 {
        Principal::Staff(user) => HttpResponse::Ok().json(serde_json::json!({ "staff": user })),
        Principal::Customer {
            customer,
            conversation,
        } => HttpResponse::Ok().json(serde_json::json!({
            "customer": customer,
            "conversation": conversation,
        })),
    }
}

/// What `POST /api/users` takes.
#[derive(Deserialize)]
pub struct CreateUser {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    pub avatar_url: Option<String>,
    /// Team ids or names.
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
}

/// Creates a staff user (validated) and puts them in their teams: shared by the API and the
/// command line.
pub fn create_user_now(
    conn: &mut crate::store::DbConnection,
    input: CreateUser,
) -> Result<accounts::UserView, ApiError> {
    let email = input.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::BadRequest(
            "email: expected an address like name@example.com".into(),
        ));
    }
    validate_password("password", &input.password)?;
    let display_name = validate_display_name(&input.display_name)?;
    let mut teams = Vec::new();
    for team in &input.teams {
        teams.push(accounts::find_team(conn, team)?.ok_or(ApiError::NotFound("team"))?);
    }
    let user = NewUser {
        id: UserId::generate().to_string(),
        email,
        display_name,
        avatar_url: input.avatar_url,
        role: input.role.as_str().to_owned(),
        password_hash: hash_password(&input.password),
        created_at: now_millis(),
    };
    let id = user.id.clone();
    accounts::create_user(conn, user, &input.skills)?;
    for team in &teams {
        accounts::add_team_member(conn, &team.id, &id)?;
    }
    accounts::user_by_id(conn, &id)?.ok_or(ApiError::NotFound("user"))
}

fn validate_display_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::BadRequest(
            "display_name: 1 to 100 characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// `POST /api/users` (admins).
pub async fn create_user(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.admin(ADMINS_ONLY)?;
    let input = body.into_inner();
    let user = data
        .store()
        .run(move |conn| Ok(create_user_now(conn, input)))
        .await??;
    tracing::info!(user = %user.id, role = %user.role, "user created");
    let entry = Actor::staff(&data, &req, &admin).entry(
        "user_created",
        Some((user.id.to_string(), Some(user.display_name.clone()))),
        serde_json::json!({ "email": user.email, "role": user.role }),
    );
    audit::record(&data, entry).await;
    // The teams' routing has someone more to weigh.
    data.reroute(&user.teams);
    Ok(HttpResponse::Created().json(user))
}

/// `GET /api/users` (staff).
pub async fn list_users(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.staff()?;
    let users = data.store().run(accounts::list_users).await?;
    Ok(HttpResponse::Ok().json(users))
}

/// `GET /api/users/{id}` (staff).
pub async fn get_user(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.staff()?;
    let id = path.into_inner();
    let user = data
        .store()
        .run(move |conn| accounts::user_by_id(conn, &id))
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(HttpResponse::Ok().json(user))
}

/// What `PATCH /api/users/{id}` takes; absent fields stay as they are.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    display_name: Option<String>,
    role: Option<Role>,
    disabled: Option<bool>,
}

/// `PATCH /api/users/{id}` (admins): renames, changes the role of, disables or enables a
/// user. Disabling logs the user out everywhere at once; a new role reaches their open
/// WebSockets by closing them, so they reconnect as who they now are.
pub async fn update_user(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.staff()?;
    let id = path.into_inner();
    let input = body.into_inner();
    let display_name = input
        .display_name
        .as_deref()
        .map(validate_display_name)
        .transpose()?;
    let change = AccountChange {
        role: input.role,
        disabled: input.disabled,
    };
    let stored = UserChange {
        display_name,
        role: input.role.map(|r| r.as_str().to_owned()),
        disabled: input.disabled,
    };
    let actor = admin.clone();
    let (before, after, closed) = data
        .store()
        .run(move |conn| {
            crate::store::transaction(conn, |conn| {
                accounts::lock_admins(conn)?;
                let Some(before) = accounts::user_by_id(conn, &id)? else {
                    return Ok(Err(ApiError::NotFound("user")));
                };
                let account = Account {
                    id: before.id,
                    role: before.role,
                    disabled: before.disabled,
                };
                let admins = accounts::enabled_admins(conn)? as usize;
                if let Err(refusal) = check_change(&actor, &account, change, admins) {
                    return Ok(Err(refusal.into()));
                }
                accounts::update_user(conn, &id, &stored)?;
                let after = accounts::user_by_id(conn, &id)?
                    .ok_or(StoreError::Corrupt("user vanished".into()))?;
                let closed = if after.disabled && !before.disabled {
                    accounts::revoke_tokens_of(conn, &id, None)?
                } else if after.role != before.role {
                    accounts::live_tokens_of(conn, &id, now_millis())?
                        .into_iter()
                        .map(|t| t.hash)
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(Ok((before, after, closed)))
            })
        })
        .await??;
    let why = if after.disabled {
        Disconnect::DISABLED
    } else {
        Disconnect::ACCOUNT_CHANGED
    };
    for hash in &closed {
        data.disconnect_token(hash, why);
    }
    let target = Some((after.id.to_string(), Some(after.display_name.clone())));
    let actor = Actor::staff(&data, &req, &admin);
    if after.role != before.role {
        let detail = serde_json::json!({ "from": before.role, "to": after.role });
        audit::record(&data, actor.entry("role_changed", target.clone(), detail)).await;
    }
    if after.disabled != before.disabled {
        let action = if after.disabled {
            "user_disabled"
        } else {
            "user_enabled"
        };
        let detail = serde_json::json!({ "sessions_closed": closed.len() });
        audit::record(&data, actor.entry(action, target.clone(), detail)).await;
    }
    if after.display_name != before.display_name {
        let detail = serde_json::json!({ "from": before.display_name, "to": after.display_name });
        audit::record(&data, actor.entry("user_renamed", target, detail)).await;
    }
    if after.role != before.role || after.disabled != before.disabled {
        // Routing weighs who is enabled and what they may do.
        data.reroute(&after.teams);
    }
    Ok(HttpResponse::Ok().json(after))
}

#[derive(Deserialize)]
pub struct ResetPassword {
    new_password: String,
}

/// `POST /api/users/{id}/password` (admins): sets another user's password and logs them
/// out everywhere.
pub async fn reset_password(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.staff()?;
    check_password_reset(&admin)?;
    let id = path.into_inner();
    if id == admin.id.to_string() {
        // Otherwise a stolen token could set its owner's password without knowing it.
        return Err(ApiError::Forbidden(
            "change your own password with PUT /api/me/password, which asks for the current one",
        ));
    }
    let new_password = body.into_inner().new_password;
    validate_password("new_password", &new_password)?;
    let hash = hash_off_thread(new_password).await?;
    let (user, revoked) = data
        .store()
        .run(move |conn| {
            crate::store::transaction(conn, |conn| {
                let Some(user) = accounts::user_by_id(conn, &id)? else {
                    return Ok(None);
                };
                accounts::set_password_hash(conn, &id, &hash)?;
                let revoked = accounts::revoke_tokens_of(conn, &id, None)?;
                Ok(Some((user, revoked)))
            })
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    for hash in &revoked {
        data.disconnect_token(hash, Disconnect::REVOKED);
    }
    let entry = Actor::staff(&data, &req, &admin).entry(
        "password_reset",
        Some((user.id.to_string(), Some(user.display_name.clone()))),
        serde_json::json!({ "sessions_revoked": revoked.len() }),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::NoContent().finish())
}

/// What `POST /api/teams` takes.
#[derive(Deserialize)]
pub struct CreateTeam {
    pub name: String,
    /// Conversations of a restricted team admit only its members.
    #[serde(default)]
    pub restricted: bool,
}

/// Creates a team (validated): shared by the API and the command line.
pub fn create_team_now(
    conn: &mut crate::store::DbConnection,
    input: CreateTeam,
) -> Result<TeamRow, ApiError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::BadRequest("name: 1 to 100 characters".into()));
    }
    let team = TeamRow {
        id: crate::domain::TeamId::generate().to_string(),
        name,
        restricted: input.restricted,
        created_at: now_millis(),
    };
    accounts::create_team(conn, &team)?;
    Ok(team)
}

/// `POST /api/teams` (admins).
pub async fn create_team(
    data: Data,
    caller: Caller,
    body: web::Json<CreateTeam>,
) -> Result<HttpResponse, ApiError> {
    caller.admin(ADMINS_ONLY)?;
    let input = body.into_inner();
    let team = data
        .store()
        .run(move |conn| Ok(create_team_now(conn, input)))
        .await??;
    Ok(HttpResponse::Created().json(team))
}

/// `GET /api/teams` (staff).
pub async fn list_teams(data: Data, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.staff()?;
    let teams = data.store().run(accounts::list_teams).await?;
    Ok(HttpResponse::Ok().json(teams))
}

#[derive(Deserialize)]
pub struct AddMember {
    user: String,
}

/// `POST /api/teams/{team}/members` (admins): `{"user": id}`.
pub async fn add_member(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.admin(ADMINS_ONLY)?;
    let team = path.into_inner();
    let user = body.into_inner().user;
    let (team, user) = data
        .store()
        .run(move |conn| {
            let Some(team) = accounts::find_team(conn, &team)? else {
                return Ok(Err(ApiError::NotFound("team")));
            };
            let Some(user) = accounts::user_by_id(conn, &user)? else {
                return Ok(Err(ApiError::NotFound("user")));
            };
            accounts::add_team_member(conn, &team.id, &user.id.to_string())?;
            Ok(Ok((team, user)))
        })
        .await??;
    if let Ok(id) = team.id.parse() {
        data.reroute(&[id]);
    }
    let entry = Actor::staff(&data, &req, &admin).entry(
        "team_member_added",
        Some((user.id.to_string(), Some(user.display_name))),
        serde_json::json!({ "team": team.id, "team_name": team.name }),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/teams/{team}/identity-secret` (admins): makes a new secret for the team's
/// site to sign its visitors' external ids with, replacing the old one (whose signatures
/// stop counting). The secret is shown this once.
pub async fn new_identity_secret(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.admin(ADMINS_ONLY)?;
    let team = path.into_inner();
    let secret = crate::auth::new_identity_secret();
    let stored = secret.clone();
    let team = data
        .store()
        .run(move |conn| {
            let Some(team) = accounts::find_team(conn, &team)? else {
                return Ok(None);
            };
            accounts::set_identity_secret(conn, &team.id, &stored)?;
            Ok(Some(team))
        })
        .await?
        .ok_or(ApiError::NotFound("team"))?;
    tracing::info!(team = %team.id, by = %admin.id, "team identity secret replaced");
    let entry = Actor::staff(&data, &req, &admin).entry(
        "identity_secret_replaced",
        Some((team.id.clone(), Some(team.name.clone()))),
        serde_json::json!({}),
    );
    audit::record(&data, entry).await;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "team": team.id,
        "identity_secret": secret,
    })))
}

/// `DELETE /api/teams/{team}/members/{user}` (admins).
pub async fn remove_member(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.admin(ADMINS_ONLY)?;
    let (team, user) = path.into_inner();
    let removed = data
        .store()
        .run(move |conn| {
            let Some(team) = accounts::find_team(conn, &team)? else {
                return Ok(None);
            };
            let name = accounts::user_by_id(conn, &user)?.map(|u| u.display_name);
            let removed = accounts::remove_team_member(conn, &team.id, &user)?;
            Ok(removed.then_some((team, user, name)))
        })
        .await?;
    if let Some((team, user, name)) = removed {
        let entry = Actor::staff(&data, &req, &admin).entry(
            "team_member_removed",
            Some((user, name)),
            serde_json::json!({ "team": team.id, "team_name": team.name }),
        );
        audit::record(&data, entry).await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("team membership"))
    }
}
