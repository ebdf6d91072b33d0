//! A team's knowledge base, and the full-text match that finds articles for what a
//! customer wrote: SQLite FTS5 or PostgreSQL text search behind one function, words
//! stemmed, any of them enough, the best matches first.

use super::accounts::parse_id;
use super::schema::articles;
use super::{transaction, DbConnection, StoreError};
use crate::domain::article::{ArticleDraft, Suggestion};
use crate::domain::ArticleId;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

/// One article as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize)]
#[diesel(table_name = articles)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub body: String,
    pub url: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A team's articles, by title.
pub fn of_team(conn: &mut DbConnection, team: &str) -> Result<Vec<Article>, StoreError> {
    Ok(articles::table
        .filter(articles::team_id.eq(team))
        .order((articles::title, articles::id))
        .select(Article::as_select())
        .load(conn)?)
}

/// Adds an article to a team's knowledge base.
pub fn create(
    conn: &mut DbConnection,
    team: &str,
    id: ArticleId,
    draft: &ArticleDraft,
    at: i64,
) -> Result<Article, StoreError> {
    let article = Article {
        id: id.to_string(),
        title: draft.title.clone(),
        body: draft.body.clone(),
        url: draft.url.clone(),
        created_at: at,
        updated_at: at,
    };
    transaction(conn, |conn| {
        diesel::insert_into(articles::table)
            .values((
                articles::id.eq(&article.id),
                articles::team_id.eq(team),
                articles::title.eq(&article.title),
                articles::body.eq(&article.body),
                articles::url.eq(&article.url),
                articles::created_at.eq(at),
                articles::updated_at.eq(at),
            ))
            .execute(conn)?;
        index(conn, team, &article)
    })?;
    Ok(article)
}

/// Rewrites an article of `team`; `None` if it has no such article.
pub fn update(
    conn: &mut DbConnection,
    team: &str,
    id: &str,
    draft: &ArticleDraft,
    at: i64,
) -> Result<Option<Article>, StoreError> {
    transaction(conn, |conn| {
        let n = diesel::update(
            articles::table
                .filter(articles::team_id.eq(team))
                .filter(articles::id.eq(id)),
        )
        .set((
            articles::title.eq(&draft.title),
            articles::body.eq(&draft.body),
            articles::url.eq(&draft.url),
            articles::updated_at.eq(at),
        ))
        .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        let article = articles::table
            .find(id)
            .select(Article::as_select())
            .first(conn)?;
        unindex(conn, id)?;
        index(conn, team, &article)?;
        Ok(Some(article))
    })
}

/// Removes an article of `team`; the title it had, if there was one. Suggestions already
/// made keep their title and address.
pub fn remove(conn: &mut DbConnection, team: &str, id: &str) -> Result<Option<String>, StoreError> {
    transaction(conn, |conn| {
        let of_team = articles::table
            .filter(articles::team_id.eq(team))
            .filter(articles::id.eq(id));
        let title = of_team.select(articles::title).first(conn).optional()?;
        diesel::delete(of_team).execute(conn)?;
        unindex(conn, id)?;
        Ok(title)
    })
}

/// SQLite keeps an article's words in its FTS5 table; PostgreSQL in a generated column.
fn index(conn: &mut DbConnection, team: &str, article: &Article) -> Result<(), StoreError> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query(
            "INSERT INTO article_search (title, body, article_id, team_id) VALUES (?, ?, ?, ?)",
        )
        .bind::<Text, _>(&article.title)
        .bind::<Text, _>(&article.body)
        .bind::<Text, _>(&article.id)
        .bind::<Text, _>(team)
        .execute(c)?;
    }
    Ok(())
}

fn unindex(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("DELETE FROM article_search WHERE article_id = ?")
            .bind::<Text, _>(id)
            .execute(c)?;
    }
    Ok(())
}

/// Words too common to say what a message is about.
const STOP_WORDS: &[&str] = &[
    "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "get", "got", "had", "has", "have", "hello",
    "help", "hey", "hi", "how", "if", "in", "is", "it", "its", "just", "me", "my", "no", "not",
    "of", "ok", "on", "or", "our", "please", "so", "thank", "thanks", "that", "the", "their",
    "them", "then", "there", "they", "this", "to", "too", "us", "was", "we", "were", "what",
    "when", "where", "which", "who", "why", "will", "with", "would", "yes", "you", "your",
];

/// The words of `text` worth looking up: letters and digits only (so nothing typed is
/// query syntax), lowercased, common words left out, each once, at most 24.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 2
            && !STOP_WORDS.contains(&word.as_str())
            && !words.contains(&word)
        {
            words.push(word);
        }
    }
    words.truncate(24);
    words
}

#[derive(QueryableByName)]
struct Match {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    url: String,
}

/// The best `limit` articles of `team` for `text`: any of its words may match, a match in
/// the title counts more.
pub fn matching(
    conn: &mut DbConnection,
    team: &str,
    text: &str,
    limit: i64,
) -> Result<Vec<Suggestion>, StoreError> {
    let words = words(text);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let found = match conn {
        DbConnection::Sqlite(c) => {
            let query: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
            diesel::sql_query(
                "SELECT a.id AS id, a.title AS title, a.url AS url \
                 FROM article_search JOIN articles a ON a.id = article_search.article_id \
                 WHERE article_search MATCH ? AND article_search.team_id = ? \
                 ORDER BY bm25(article_search, 4.0, 1.0), a.id LIMIT ?",
            )
            .bind::<Text, _>(query.join(" OR "))
            .bind::<Text, _>(team)
            .bind::<BigInt, _>(limit)
            .load::<Match>(c)?
        }
        DbConnection::Pg(c) => diesel::sql_query(
            "SELECT id, title, url FROM articles, to_tsquery('english', $1) q \
             WHERE team_id = $2 AND document @@ q \
             ORDER BY ts_rank(document, q) DESC, id LIMIT $3",
        )
        .bind::<Text, _>(words.join(" | "))
        .bind::<Text, _>(team)
        .bind::<BigInt, _>(limit)
        .load::<Match>(c)?,
    };
    found
        .into_iter()
        .map(|m| {
            Ok(Suggestion {
                article: parse_id(&m.id)?,
                title: m.title,
                url: m.url,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_telling_words_are_looked_up_and_never_as_query_syntax() {
        assert_eq!(
            words("Hi! How do I reset my password?? \"NOT\" OR c++ order-123 reset"),
            ["reset", "password", "order", "123"]
        );
        assert!(words("hi, can you help me?").is_empty());
        assert_eq!(
            words("Überweisung fehlgeschlagen"),
            ["überweisung", "fehlgeschlagen"]
        );
    }
}
