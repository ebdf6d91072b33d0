//! Full-text search over message text: SQLite's FTS5 or PostgreSQL's text search, behind
//! one function. What a person types is never taken as query syntax: every word is matched
//! as plain text, all of them, so `c++ help`, quotes or `order-123` cannot break a query.

use super::schema::customers;
use super::{DbConnection, StoreError};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

/// Marks the start and the end of a matched word in a snippet (private-use characters,
/// which typed text does not carry).
pub const MATCH_START: char = '\u{E000}';
pub const MATCH_END: char = '\u{E001}';

/// One message that matches, best first.
#[derive(Debug, Clone, QueryableByName)]
pub struct Hit {
    #[diesel(sql_type = Text)]
    pub stream_id: String,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// The text around the match, the matched words between [`MATCH_START`] and
    /// [`MATCH_END`].
    #[diesel(sql_type = Text)]
    pub snippet: String,
    #[diesel(sql_type = Double)]
    pub rank: f64,
}

/// The words of `text` as an FTS5 query: each a quoted phrase (its own quotes doubled),
/// all required. `None` when there is nothing to look for.
fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The best `limit` messages matching `text`, best first.
pub fn messages(conn: &mut DbConnection, text: &str, limit: i64) -> Result<Vec<Hit>, StoreError> {
    let hits = match conn {
        DbConnection::Sqlite(c) => {
            let Some(query) = fts5_query(text) else {
                return Ok(Vec::new());
            };
            diesel::sql_query(
                "SELECT stream_id, CAST(seq AS BIGINT) AS seq, kind, \
                 snippet(message_search, 0, char(57344), char(57345), '…', 16) AS snippet, \
                 -bm25(message_search) AS rank \
                 FROM message_search WHERE message_search MATCH ? \
                 ORDER BY bm25(message_search) LIMIT ?",
            )
            .bind::<Text, _>(query)
            .bind::<BigInt, _>(limit)
            .load::<Hit>(c)?
        }
        DbConnection::Pg(c) => {
            if text
                .split_whitespace()
                .all(|w| !w.chars().any(char::is_alphanumeric))
            {
                return Ok(Vec::new());
            }
            diesel::sql_query(
                "SELECT stream_id, seq, kind, \
                 ts_headline('simple', body, q, \
                   'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || \
                   ', MaxWords=20, MinWords=6, ShortWord=1') AS snippet, \
                 CAST(ts_rank(document, q) AS DOUBLE PRECISION) AS rank \
                 FROM message_search, plainto_tsquery('simple', $1) q \
                 WHERE document @@ q ORDER BY rank DESC, stream_id, seq LIMIT $2",
            )
            .bind::<Text, _>(text)
            .bind::<BigInt, _>(limit)
            .load::<Hit>(c)?
        }
    };
    Ok(hits)
}

/// Contacts whose name or email contains `text` (case-insensitive): at most `limit`, as
/// `(id, name, email)`.
pub fn contacts(
    conn: &mut DbConnection,
    text: &str,
    limit: i64,
) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    // `%` and `_` typed are taken as themselves, not as LIKE's wildcards.
    let escaped: String = needle
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    Ok(customers::table
        .filter(
            lower(customers::display_name)
                .like(&pattern)
                .escape('\\')
                .or(lower_or_null(customers::email).like(&pattern).escape('\\')),
        )
        .order(customers::display_name)
        .select((customers::id, customers::display_name, customers::email))
        .limit(limit)
        .load(conn)?)
}

diesel::define_sql_function! {
    /// SQL's `lower`.
    fn lower(text: Text) -> Text;
}

diesel::define_sql_function! {
    /// SQL's `lower`, of a column that may be null.
    #[sql_name = "lower"]
    fn lower_or_null(text: diesel::sql_types::Nullable<Text>) -> diesel::sql_types::Nullable<Text>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_plain_phrases_never_query_syntax() {
        assert_eq!(fts5_query("c++ help").unwrap(), r#""c++" "help""#);
        assert_eq!(
            fts5_query(r#"say "hi" NOT"#).unwrap(),
            r#""say" """hi""" "NOT""#
        );
        assert_eq!(fts5_query("order-123").unwrap(), r#""order-123""#);
        assert_eq!(fts5_query("  +++  *  "), None);
    }
}
