//! A team's knowledge base over REST: listed for the team's staff, kept by admins. Its
//! articles are what customers waiting for an agent are suggested.

use super::audit::{self, Actor};
use super::auth::Caller;
use super::error::ApiError;
use super::inbox::watched_team_id;
use super::Data;
use crate::domain::article::ArticleDraft;
use crate::domain::ArticleId;
use crate::store::articles;
use crate::store::now_millis;
use actix_web::{web, HttpRequest, HttpResponse};

/// `GET /api/teams/{team}/articles`: the team's articles, by title.
pub async fn list(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let team = watched_team_id(&data, &caller, path.into_inner()).await?;
    let all = data
        .store()
        .run(move |conn| articles::of_team(conn, &team))
        .await?;
    Ok(HttpResponse::Ok().json(all))
}

/// `POST /api/teams/{team}/articles` (admins) `{title, body, url}`: adds an article.
pub async fn create(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    draft: web::Json<ArticleDraft>,
) -> Result<HttpResponse, ApiError> {
    caller.admin("only admins keep the knowledge base")?;
    let team = watched_team_id(&data, &caller, path.into_inner()).await?;
    let draft = draft.into_inner();
    draft.check()?;
    let article = data
        .store()
        .run(move |conn| articles::create(conn, &team, ArticleId::generate(), &draft, now_millis()))
        .await?;
    Ok(HttpResponse::Created().json(article))
}

/// `PUT /api/teams/{team}/articles/{id}` (admins) `{title, body, url}`: rewrites one.
pub async fn update(
    data: Data,
    caller: Caller,
    path: web::Path<(String, String)>,
    draft: web::Json<ArticleDraft>,
) -> Result<HttpResponse, ApiError> {
    let (team, id) = path.into_inner();
    caller.admin("only admins keep the knowledge base")?;
    let team = watched_team_id(&data, &caller, team).await?;
    let draft = draft.into_inner();
    draft.check()?;
    let article = data
        .store()
        .run(move |conn| articles::update(conn, &team, &id, &draft, now_millis()))
        .await?
        .ok_or(ApiError::NotFound("article"))?;
    Ok(HttpResponse::Ok().json(article))
}

/// `DELETE /api/teams/{team}/articles/{id}` (admins).
pub async fn remove(
    data: Data,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team, id) = path.into_inner();
    let admin = caller.admin("only admins keep the knowledge base")?;
    let team = watched_team_id(&data, &caller, team).await?;
    let removed = data
        .store()
        .run(move |conn| Ok(articles::remove(conn, &team, &id)?.map(|title| (id, title))))
        .await?;
    if let Some((id, title)) = removed {
        let entry = Actor::staff(&data, &req, &admin).entry(
            "article_deleted",
            Some((id, Some(title))),
            serde_json::json!({}),
        );
        audit::record(&data, entry).await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("article"))
    }
}
