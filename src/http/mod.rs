//! The HTTP side: JSON REST routes and the WebSocket upgrade.

pub mod accounts;
pub mod articles;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod canned;
pub mod channels;
pub mod console;
pub mod contacts;
pub mod conversations;
pub mod error;
pub mod inbox;
pub mod login;
pub mod operations;
pub mod reads;
pub mod search;
pub mod sessions;
pub mod ws;

use crate::actors::Registry;
use actix_cors::Cors;
use actix_web::web;
use std::sync::Arc;

/// Shared state every handler receives.
pub type Data = web::Data<Arc<Registry>>;

/// Every route of the server. `cors` guards everything but the WebSocket, which checks a
/// page's origin itself and would otherwise hold the middleware's state for as long as the
/// connection lives.
pub fn routes(cfg: &mut web::ServiceConfig, cors: Cors) {
    cfg.route("/ws", web::get().to(ws::connect)).service(
        web::scope("")
            .wrap(cors)
            .route("/health", web::get().to(operations::health))
            .route("/ready", web::get().to(operations::ready))
            .route("/metrics", web::get().to(operations::metrics_with_token))
            .route("/", web::get().to(console::page))
            .route("/messages", web::get().to(console::page))
            .route("/assets/{path:.*}", web::get().to(console::asset))
            .route("/widget.js", web::get().to(console::widget_script))
            .route("/widget/", web::get().to(console::widget))
            .service(
                web::scope("/api")
                    .route("/login", web::post().to(login::login))
                    .route("/logout", web::post().to(accounts::logout))
                    .route("/me", web::get().to(accounts::me))
                    .route("/me/unread", web::get().to(reads::unread))
                    .route("/me/sessions", web::get().to(sessions::list))
                    .route("/me/sessions/{id}", web::delete().to(sessions::revoke))
                    .route("/me/password", web::put().to(sessions::change_password))
                    .route("/audit", web::get().to(audit::list))
                    .route("/users", web::get().to(accounts::list_users))
                    .route("/users", web::post().to(accounts::create_user))
                    .route("/users/{id}", web::get().to(accounts::get_user))
                    .route("/users/{id}", web::patch().to(accounts::update_user))
                    .route(
                        "/users/{id}/password",
                        web::post().to(accounts::reset_password),
                    )
                    .route("/teams", web::get().to(accounts::list_teams))
                    .route("/teams", web::post().to(accounts::create_team))
                    .route(
                        "/teams/{team}/members",
                        web::post().to(accounts::add_member),
                    )
                    .route("/teams/{team}/queue", web::get().to(inbox::queue))
                    .route("/teams/{team}/monitoring", web::get().to(inbox::monitoring))
                    .route("/teams/{team}/routing", web::get().to(inbox::routing))
                    .route("/teams/{team}/routing", web::put().to(inbox::set_routing))
                    .route("/teams/{team}/articles", web::get().to(articles::list))
                    .route("/teams/{team}/articles", web::post().to(articles::create))
                    .route(
                        "/teams/{team}/articles/{id}",
                        web::put().to(articles::update),
                    )
                    .route(
                        "/teams/{team}/articles/{id}",
                        web::delete().to(articles::remove),
                    )
                    .route("/teams/{team}/canned", web::get().to(canned::list))
                    .route(
                        "/teams/{team}/canned/{shortcut}",
                        web::put().to(canned::put),
                    )
                    .route(
                        "/teams/{team}/canned/{shortcut}",
                        web::delete().to(canned::remove),
                    )
                    .route(
                        "/teams/{team}/identity-secret",
                        web::post().to(accounts::new_identity_secret),
                    )
                    .route(
                        "/teams/{team}/members/{user}",
                        web::delete().to(accounts::remove_member),
                    )
                    .route("/chats", web::post().to(conversations::start_chat))
                    .route("/channels", web::get().to(channels::list))
                    .route("/channels", web::post().to(channels::create))
                    .route("/channels/directory", web::get().to(channels::directory))
                    .route("/channels/{id}", web::get().to(channels::get))
                    .route("/channels/{id}", web::delete().to(channels::delete))
                    .route("/channels/{id}/events", web::get().to(channels::events))
                    .route("/channels/{id}/mute", web::put().to(channels::mute))
                    .route(
                        "/channels/{id}/attachments",
                        web::post().to(attachments::upload_to_channel),
                    )
                    .route("/dms", web::post().to(channels::open_direct))
                    .route("/contacts/{id}", web::get().to(contacts::get))
                    .route(
                        "/contacts/{id}/defaults",
                        web::put().to(contacts::set_defaults),
                    )
                    .route("/contacts/{id}", web::delete().to(contacts::erase))
                    .route("/conversations", web::get().to(conversations::list))
                    .route("/inbox", web::get().to(inbox::inbox))
                    .route("/search", web::get().to(search::search))
                    .route("/conversations/{id}", web::get().to(conversations::get))
                    .route(
                        "/conversations/{id}",
                        web::delete().to(conversations::delete),
                    )
                    .route(
                        "/conversations/{id}/events",
                        web::get().to(conversations::events),
                    )
                    .route(
                        "/conversations/{id}/messages/{seq}/versions",
                        web::get().to(conversations::versions),
                    )
                    .route(
                        "/conversations/{id}/attachments",
                        web::post().to(attachments::upload),
                    )
                    .route("/attachments/{id}", web::get().to(attachments::download))
                    .route("/invitations", web::get().to(conversations::my_invitations))
                    .route("/presence", web::get().to(conversations::presence)),
            ),
    );
}
