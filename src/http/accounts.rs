//! Logging in and out, staff users and teams.

use super::auth::{bearer_token, Caller};
use super::error::ApiError;
use super::Data;
use crate::actors::session::Disconnect;
use crate::auth::{hash_password, token_hash, Principal};
use crate::domain::{Role, Staff, UserId};
use crate::store::accounts::{self, NewUser, TeamRow};
use crate::store::now_millis;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

fn require_admin(staff: &Staff) -> Result<(), ApiError> {
    if staff.role.manages_accounts() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins manage users and teams"))
    }
}

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
    if input.password.chars().count() < 8 {
        return Err(ApiError::BadRequest(
            "password: use at least 8 characters".into(),
        ));
    }
    let display_name = input.display_name.trim().to_owned();
    if display_name.is_empty() || display_name.len() > 100 {
        return Err(ApiError::BadRequest(
            "display_name: 1 to 100 characters".into(),
        ));
    }
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

/// `POST /api/users` (admins).
pub async fn create_user(
    data: Data,
    caller: Caller,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&caller.staff()?)?;
    let input = body.into_inner();
    let user = data
        .store()
        .run(move |conn| Ok(create_user_now(conn, input)))
        .await??;
    tracing::info!(user = %user.id, role = %user.role, "user created");
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
    require_admin(&caller.staff()?)?;
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
    path: web::Path<String>,
    body: web::Json<AddMember>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&caller.staff()?)?;
    let team = path.into_inner();
    let user = body.into_inner().user;
    data.store()
        .run(move |conn| {
            let Some(team) = accounts::find_team(conn, &team)? else {
                return Ok(Err(ApiError::NotFound("team")));
            };
            if accounts::user_by_id(conn, &user)?.is_none() {
                return Ok(Err(ApiError::NotFound("user")));
            }
            accounts::add_team_member(conn, &team.id, &user)?;
            Ok(Ok(team.id))
        })
        .await??
        .parse()
        .map(|team| data.reroute(&[team]))
        .ok();
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/teams/{team}/identity-secret` (admins): makes a new secret for the team's
/// site to sign its visitors' external ids with, replacing the old one (whose signatures
/// stop counting). The secret is shown this once.
pub async fn new_identity_secret(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.staff()?;
    require_admin(&admin)?;
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
    Ok(HttpResponse::Created().json(serde_json::json!({
        "team": team.id,
        "identity_secret": secret,
    })))
}

/// `DELETE /api/teams/{team}/members/{user}` (admins).
pub async fn remove_member(
    data: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&caller.staff()?)?;
    let (team, user) = path.into_inner();
    let removed = data
        .store()
        .run(move |conn| match accounts::find_team(conn, &team)? {
            Some(team) => accounts::remove_team_member(conn, &team.id, &user),
            None => Ok(false),
        })
        .await?;
    if removed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("team membership"))
    }
}
