//! What a run needs on the server before it connects, made through the public API (or
//! reused from an earlier run): the `load` team, pools of staff users, logged in once
//! each, and one customer chat per room.

use crate::api::{Api, ApiError, Chat, Login};
use crate::checker::Role;
use crate::layout::Layout;
use crate::options::Options;
use crate::run::RunError;
use futures_util::{StreamExt, TryStreamExt};
use hyper::StatusCode;

/// The team every load-test agent belongs to and every chat is started with.
pub const TEAM: &str = "load";
/// The password of every load-test user.
pub const PASSWORD: &str = "load-password";
/// Users created or logged in at once. Each costs the server an argon2 hash of 19 MiB, and
/// hashes in parallel leave it holding far more memory, which would blur the memory figures.
const USERS_AT_ONCE: usize = 1;

/// The fixtures of a run.
pub struct Fixtures {
    /// The logged-in users of each staff role, in the order of [`Layout::staff`].
    pub staff: Vec<Vec<Login>>,
    /// One chat per room.
    pub chats: Vec<Chat>,
}

/// The email of user `n` of the pool for `role`.
fn email(role: Role, n: usize) -> String {
    let pool = match role {
        Role::Lead => "lead",
        Role::Participant => "agent",
        Role::Monitor | Role::Customer => "supervisor",
    };
    format!("load-{pool}-{n}@example.com")
}

/// Makes (or finds) the team and users, logs the users in, then starts the chats: all of
/// them before any agent connects, as the server tells online agents of each new chat.
pub async fn prepare(api: &Api, options: &Options, layout: &Layout) -> Result<Fixtures, RunError> {
    let admin = api
        .login(&options.admin_email, &options.admin_password)
        .await
        .map_err(|e| match e.status() {
            Some(StatusCode::UNAUTHORIZED) => RunError::Admin(e),
            _ => e.into(),
        })?
        .token;
    let team_id = api.ensure_team(&admin, TEAM).await?;
    let mut staff = Vec::new();
    for &role in layout.staff() {
        let (server_role, team) = match role {
            Role::Monitor => ("supervisor", None),
            _ => ("agent", Some(team_id.as_str())),
        };
        let admin = admin.as_str();
        let logins = futures_util::stream::iter(0..layout.users())
            .map(|n| async move {
                let email = email(role, n);
                let created = api
                    .ensure_user(admin, &email, PASSWORD, server_role, team)
                    .await?;
                let login = api.login(&email, PASSWORD).await?;
                if let (false, Some(team)) = (created, team) {
                    api.add_member(admin, team, &login.user).await?;
                }
                Ok::<_, ApiError>(login)
            })
            .buffered(USERS_AT_ONCE)
            .try_collect::<Vec<_>>()
            .await?;
        staff.push(logins);
    }
    let chats = futures_util::stream::iter(0..layout.rooms())
        .map(|room| async move {
            let name = format!("Load customer {room}");
            api.start_chat(TEAM, &name).await.map_err(|e| {
                if e.status() == Some(StatusCode::TOO_MANY_REQUESTS) {
                    RunError::ChatStartsLimited(e)
                } else {
                    e.into()
                }
            })
        })
        .buffered(options.connect_concurrency as usize)
        .try_collect()
        .await?;
    Ok(Fixtures { staff, chats })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_its_own_pool_of_users() {
        assert_eq!(email(Role::Lead, 0), "load-lead-0@example.com");
        assert_eq!(email(Role::Participant, 3), "load-agent-3@example.com");
        assert_eq!(email(Role::Monitor, 1), "load-supervisor-1@example.com");
    }
}
