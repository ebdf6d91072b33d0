//! Staff users, teams, skills, customers and access tokens.

use super::schema::{
    customers, team_members, team_routing, team_secrets, teams, tokens, user_skills, users,
};
use super::{transaction, DbConnection, StoreError};
use crate::domain::routing::RoutingMode;
use crate::domain::{Author, CustomerId, Person, Role, Staff, TeamId, UserId};
use diesel::prelude::*;
use serde::Serialize;

/// A staff user as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
    pub disabled: bool,
}

/// A staff user as shown by the API: profile, teams and skills, never the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub role: Role,
    pub teams: Vec<TeamId>,
    pub skills: Vec<String>,
    pub created_at: i64,
    /// A disabled user can neither log in nor use a token they still hold.
    pub disabled: bool,
}

impl UserView {
    /// The facts about this user that the conversation rules need.
    pub fn staff(&self) -> Staff {
        Staff {
            id: self.id,
            role: self.role,
            teams: self.teams.clone(),
            skills: self.skills.clone(),
            display_name: self.display_name.clone(),
            avatar_url: self.avatar_url.clone(),
        }
    }
}

/// A new staff user; the password is already hashed.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
}

/// A team (support queue) as stored and shown.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = teams)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub restricted: bool,
    pub created_at: i64,
}

/// A customer as stored and shown.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = customers)]
pub struct CustomerRow {
    pub id: String,
    pub display_name: String,
    pub email: Option<String>,
    pub created_at: i64,
    pub phone: Option<String>,
    /// The id the customer's own site knows them by, once they proved it.
    pub external_id: Option<String>,
}

/// An access token as stored: only its hash, and whom it belongs to.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    pub hash: String,
    pub user_id: Option<String>,
    pub customer_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    /// Where the login came from, and with what, for the owner's list of their sessions.
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

pub(crate) fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad id {raw:?}")))
}

fn view(conn: &mut DbConnection, row: UserRow) -> Result<UserView, StoreError> {
    let teams: Vec<String> = team_members::table
        .filter(team_members::user_id.eq(&row.id))
        .select(team_members::team_id)
        .order(team_members::team_id)
        .load(conn)?;
    let skills: Vec<String> = user_skills::table
        .filter(user_skills::user_id.eq(&row.id))
        .select(user_skills::skill)
        .order(user_skills::skill)
        .load(conn)?;
    Ok(UserView {
        id: parse_id(&row.id)?,
        role: row
            .role
            .parse()
            .map_err(|e: crate::domain::staff::UnknownRole| StoreError::Corrupt(e.to_string()))?,
        teams: teams
            .iter()
            .map(|t| parse_id(t))
            .collect::<Result<_, _>>()?,
        skills,
        email: row.email,
        display_name: row.display_name,
        avatar_url: row.avatar_url,
        created_at: row.created_at,
        disabled: row.disabled,
    })
}

/// Creates a staff user with their skills.
pub fn create_user(
    conn: &mut DbConnection,
    user: NewUser,
    skills: &[String],
) -> Result<UserView, StoreError> {
    transaction(conn, |conn| {
        diesel::insert_into(users::table)
            .values(&user)
            .execute(conn)
            .map_err(StoreError::conflict_as("a user with this email"))?;
        set_skills(conn, &user.id, skills)?;
        Ok(())
    })?;
    user_by_id(conn, &user.id)?.ok_or(StoreError::Corrupt("user vanished".into()))
}

/// Replaces a user's skills.
pub fn set_skills(
    conn: &mut DbConnection,
    user: &str,
    skills: &[String],
) -> Result<(), StoreError> {
    diesel::delete(user_skills::table.filter(user_skills::user_id.eq(user))).execute(conn)?;
    for skill in skills {
        diesel::insert_into(user_skills::table)
            .values((user_skills::user_id.eq(user), user_skills::skill.eq(skill)))
            .execute(conn)
            .map_err(StoreError::conflict_as("that skill"))?;
    }
    Ok(())
}

/// A staff user by id.
pub fn user_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<UserView>, StoreError> {
    let row = users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| view(conn, r)).transpose()
}

/// The staff an `@name` in a message fits: `name` is a whole email, or the part of one
/// before the `@` (emails are stored lowercased, as `name` comes).
pub fn staff_by_mention(conn: &mut DbConnection, name: &str) -> Result<Vec<UserView>, StoreError> {
    let rows: Vec<UserRow> = if name.contains('@') {
        users::table
            .filter(users::email.eq(name))
            .select(UserRow::as_select())
            .load(conn)?
    } else {
        // LIKE narrows it down (its `_` and `%` would match too much); the test is exact.
        users::table
            .filter(users::email.like(format!("{name}@%")))
            .select(UserRow::as_select())
            .load(conn)?
            .into_iter()
            .filter(|r| {
                r.email
                    .split_once('@')
                    .is_some_and(|(local, _)| local == name)
            })
            .collect()
    };
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// The names (and avatars) of `authors`, staff and customers, in the order given; the
/// server (`System`) and anyone no longer stored are left out.
pub fn people(conn: &mut DbConnection, authors: &[Author]) -> Result<Vec<Person>, StoreError> {
    let mut staff_ids: Vec<String> = Vec::new();
    let mut customer_ids: Vec<String> = Vec::new();
    for author in authors {
        match author {
            Author::Staff(id) => staff_ids.push(id.to_string()),
            Author::Customer(id) => customer_ids.push(id.to_string()),
            Author::System => {}
        }
    }
    let mut found: std::collections::HashMap<String, (String, Option<String>)> = users::table
        .filter(users::id.eq_any(&staff_ids))
        .select((users::id, users::display_name, users::avatar_url))
        .load::<(String, String, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, name, avatar)| (id, (name, avatar)))
        .collect();
    found.extend(
        customers::table
            .filter(customers::id.eq_any(&customer_ids))
            .select((customers::id, customers::display_name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .map(|(id, name)| (id, (name, None))),
    );
    let mut people: Vec<Person> = Vec::new();
    for author in authors {
        let id = match author {
            Author::Staff(id) => id.to_string(),
            Author::Customer(id) => id.to_string(),
            Author::System => continue,
        };
        if people.iter().any(|p| p.author == *author) {
            continue;
        }
        if let Some((name, avatar_url)) = found.get(&id) {
            people.push(Person {
                author: *author,
                name: name.clone(),
                avatar_url: avatar_url.clone(),
            });
        }
    }
    Ok(people)
}

/// A staff user and their password hash, by email (for logging in).
pub fn user_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Option<(UserView, String)>, StoreError> {
    let row = users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) => {
            let hash = r.password_hash.clone();
            Ok(Some((view(conn, r)?, hash)))
        }
        None => Ok(None),
    }
}

/// Every staff user, ordered by creation.
pub fn list_users(conn: &mut DbConnection) -> Result<Vec<UserView>, StoreError> {
    let rows = users::table
        .select(UserRow::as_select())
        .order(users::id)
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// Staff users belonging to `team`.
pub fn team_staff(conn: &mut DbConnection, team: &str) -> Result<Vec<UserView>, StoreError> {
    let rows = users::table
        .inner_join(team_members::table)
        .filter(team_members::team_id.eq(team))
        .select(UserRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// Staff users with `skill`.
pub fn skilled_staff(conn: &mut DbConnection, skill: &str) -> Result<Vec<UserView>, StoreError> {
    let rows = users::table
        .inner_join(user_skills::table)
        .filter(user_skills::skill.eq(skill))
        .select(UserRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| view(conn, r)).collect()
}

/// Whether any staff user exists (the first admin is made from the command line).
pub fn any_user(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let count: i64 = users::table.count().get_result(conn)?;
    Ok(count > 0)
}

/// Creates a team.
pub fn create_team(conn: &mut DbConnection, team: &TeamRow) -> Result<(), StoreError> {
    diesel::insert_into(teams::table)
        .values(team)
        .execute(conn)
        .map_err(StoreError::conflict_as("a team with this name"))?;
    Ok(())
}

/// Every team, by name.
pub fn list_teams(conn: &mut DbConnection) -> Result<Vec<TeamRow>, StoreError> {
    Ok(teams::table
        .select(TeamRow::as_select())
        .order(teams::name)
        .load(conn)?)
}

/// A team by id or by name.
pub fn find_team(conn: &mut DbConnection, id_or_name: &str) -> Result<Option<TeamRow>, StoreError> {
    Ok(teams::table
        .filter(teams::id.eq(id_or_name).or(teams::name.eq(id_or_name)))
        .select(TeamRow::as_select())
        .first(conn)
        .optional()?)
}

/// How a team routes its new conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Routing {
    pub mode: RoutingMode,
    /// Most open conversations routing gives one agent.
    pub capacity: u32,
}

impl Default for Routing {
    fn default() -> Self {
        Routing {
            mode: RoutingMode::Manual,
            capacity: 3,
        }
    }
}

/// A team's routing (manual, by default).
pub fn routing_of(conn: &mut DbConnection, team: &str) -> Result<Routing, StoreError> {
    let row: Option<(String, i32)> = team_routing::table
        .find(team)
        .select((team_routing::mode, team_routing::capacity))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((mode, capacity)) => Routing {
            mode: if mode == "auto" {
                RoutingMode::Auto
            } else {
                RoutingMode::Manual
            },
            capacity: capacity.max(0) as u32,
        },
        None => Routing::default(),
    })
}

/// Sets a team's routing.
pub fn set_routing(
    conn: &mut DbConnection,
    team: &str,
    routing: Routing,
) -> Result<(), StoreError> {
    let mode = match routing.mode {
        RoutingMode::Auto => "auto",
        RoutingMode::Manual => "manual",
    };
    transaction(conn, |conn| {
        diesel::delete(team_routing::table.find(team)).execute(conn)?;
        diesel::insert_into(team_routing::table)
            .values((
                team_routing::team_id.eq(team),
                team_routing::mode.eq(mode),
                team_routing::capacity.eq(routing.capacity.min(1000) as i32),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The teams that route automatically.
pub fn auto_routed_teams(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(team_routing::table
        .filter(team_routing::mode.eq("auto"))
        .select(team_routing::team_id)
        .load(conn)?)
}

/// Sets a team's identity secret (replacing any before it).
pub fn set_identity_secret(
    conn: &mut DbConnection,
    team: &str,
    secret: &str,
) -> Result<(), StoreError> {
    transaction(conn, |conn| {
        diesel::delete(team_secrets::table.find(team)).execute(conn)?;
        diesel::insert_into(team_secrets::table)
            .values((
                team_secrets::team_id.eq(team),
                team_secrets::identity_secret.eq(secret),
                team_secrets::created_at.eq(super::now_millis()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// A team's identity secret, if it has one.
pub fn identity_secret(conn: &mut DbConnection, team: &str) -> Result<Option<String>, StoreError> {
    Ok(team_secrets::table
        .find(team)
        .select(team_secrets::identity_secret)
        .first(conn)
        .optional()?)
}

/// The display names of customers, by id.
pub fn contact_names(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    Ok(customers::table
        .filter(customers::id.eq_any(ids))
        .select((customers::id, customers::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The customer a site's external id belongs to, if one proved it before.
pub fn customer_by_external_id(
    conn: &mut DbConnection,
    external_id: &str,
) -> Result<Option<CustomerRow>, StoreError> {
    Ok(customers::table
        .filter(customers::external_id.eq(external_id))
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()?)
}

/// Updates what a returning contact told about themselves (what they left out stays).
pub fn update_contact(
    conn: &mut DbConnection,
    id: &str,
    display_name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<(), StoreError> {
    diesel::update(customers::table.find(id))
        .set(customers::display_name.eq(display_name))
        .execute(conn)?;
    if let Some(email) = email {
        diesel::update(customers::table.find(id))
            .set(customers::email.eq(email))
            .execute(conn)?;
    }
    if let Some(phone) = phone {
        diesel::update(customers::table.find(id))
            .set(customers::phone.eq(phone))
            .execute(conn)?;
    }
    Ok(())
}

/// Puts a user in a team (doing nothing if they already are).
pub fn add_team_member(conn: &mut DbConnection, team: &str, user: &str) -> Result<(), StoreError> {
    let exists: i64 = team_members::table
        .filter(
            team_members::team_id
                .eq(team)
                .and(team_members::user_id.eq(user)),
        )
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(team_members::table)
            .values((
                team_members::team_id.eq(team),
                team_members::user_id.eq(user),
            ))
            .execute(conn)
            .map_err(StoreError::conflict_as("that membership"))?;
    }
    Ok(())
}

/// Takes a user out of a team; whether they were in it.
pub fn remove_team_member(
    conn: &mut DbConnection,
    team: &str,
    user: &str,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        team_members::table.filter(
            team_members::team_id
                .eq(team)
                .and(team_members::user_id.eq(user)),
        ),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// Creates a customer.
pub fn create_customer(conn: &mut DbConnection, customer: &CustomerRow) -> Result<(), StoreError> {
    diesel::insert_into(customers::table)
        .values(customer)
        .execute(conn)?;
    Ok(())
}

/// A customer by id.
pub fn customer_by_id(
    conn: &mut DbConnection,
    id: CustomerId,
) -> Result<Option<CustomerRow>, StoreError> {
    Ok(customers::table
        .find(id.to_string())
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a token (by its hash).
pub fn insert_token(conn: &mut DbConnection, token: &TokenRow) -> Result<(), StoreError> {
    diesel::insert_into(tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

/// A token by its hash.
pub fn token_by_hash(conn: &mut DbConnection, hash: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(tokens::table
        .find(hash)
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// The sessions (unrevoked, unexpired tokens) of a staff user, newest first.
pub fn live_tokens_of(
    conn: &mut DbConnection,
    user: &str,
    now: i64,
) -> Result<Vec<TokenRow>, StoreError> {
    Ok(tokens::table
        .filter(tokens::user_id.eq(user))
        .filter(tokens::revoked.eq(false))
        .filter(tokens::expires_at.gt(now))
        .order(tokens::created_at.desc())
        .select(TokenRow::as_select())
        .load(conn)?)
}

/// Revokes every live token of a staff user except `keep`; the hashes revoked, so their
/// WebSockets can be closed.
pub fn revoke_tokens_of(
    conn: &mut DbConnection,
    user: &str,
    keep: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let live = tokens::table
        .filter(tokens::user_id.eq(user))
        .filter(tokens::revoked.eq(false))
        // Expired ones can do no harm, and there may be many.
        .filter(tokens::expires_at.gt(super::now_millis()))
        .filter(tokens::hash.ne(keep.unwrap_or("")))
        .select(tokens::hash);
    let hashes: Vec<String> = live.load(conn)?;
    diesel::update(tokens::table.filter(tokens::hash.eq_any(&hashes)))
        .set(tokens::revoked.eq(true))
        .execute(conn)?;
    Ok(hashes)
}

/// A staff user's password hash.
pub fn password_hash_of(conn: &mut DbConnection, user: &str) -> Result<Option<String>, StoreError> {
    Ok(users::table
        .find(user)
        .select(users::password_hash)
        .first(conn)
        .optional()?)
}

/// Replaces a staff user's password hash; whether the user exists.
pub fn set_password_hash(
    conn: &mut DbConnection,
    user: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    let n = diesel::update(users::table.find(user))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(n > 0)
}

/// What an admin may change about a staff user; `None` leaves a field as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub disabled: Option<bool>,
}

/// Applies `change` to a staff user; whether the user exists.
pub fn update_user(
    conn: &mut DbConnection,
    user: &str,
    change: &UserChange,
) -> Result<bool, StoreError> {
    if change.display_name.is_none() && change.role.is_none() && change.disabled.is_none() {
        return Ok(users::table.find(user).count().get_result::<i64>(conn)? > 0);
    }
    let n = diesel::update(users::table.find(user))
        .set(change)
        .execute(conn)?;
    Ok(n > 0)
}

/// Locks the admins' rows until the transaction ends (a write that changes nothing), so
/// that two changes to admins are decided one after the other: without it, two admins
/// disabling each other at once would each still count the other. On SQLite it also takes
/// the write lock first, so the transaction waits its turn rather than failing busy.
pub fn lock_admins(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::update(users::table.filter(users::role.eq(Role::Admin.as_str())))
        .set(users::role.eq(users::role))
        .execute(conn)?;
    Ok(())
}

/// How many enabled admins there are (the last one may not be demoted or disabled).
pub fn enabled_admins(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)?)
}

/// Revokes a token; whether it existed.
pub fn revoke_token(conn: &mut DbConnection, hash: &str) -> Result<bool, StoreError> {
    let n = diesel::update(tokens::table.find(hash))
        .set(tokens::revoked.eq(true))
        .execute(conn)?;
    Ok(n > 0)
}
