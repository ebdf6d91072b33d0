//! Full-text search over message text: SQLite's FTS5 or PostgreSQL's text search, behind
//! one function. What a person types is never taken as query syntax: every word is matched
//! as plain text, all of them, so `c++ help`, quotes or `order-123` cannot break a query.
//!
//! The search index is derived from the event log like the event index, and kept beside it
//! (`idx`): the filer fills it in batches, so the writer's commits never pay for it, and a
//! message can be found within about a second of being posted.

use super::schema::{customers, events, search_filing};
use super::{DbConnection, StoreError};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};
use serde::Deserialize;

/// Most log events one filing round looks at for search: a long log (after an upgrade, or
/// a rebuilt index) is filed over several rounds rather than in one long transaction.
const FILING_BATCH: i64 = 10_000;

/// An edit or a deletion as the search index needs it.
#[derive(Deserialize)]
struct Change {
    target: i64,
    #[serde(default)]
    body: String,
}

/// Files what messages say into the search index, from the log's events up to `filed`
/// (all of them in the event index by now): posts added, then edits and deletions in the
/// log's order. Runs inside the filer's transaction; returns how many events it passed.
pub fn file(conn: &mut DbConnection, filed: i64) -> Result<usize, StoreError> {
    let from = search_filed_upto(conn)?;
    if from >= filed {
        return Ok(0);
    }
    let upto = filed.min(from + FILING_BATCH);
    // Posts first: every edit or deletion in the batch comes after its message's post.
    match conn {
        // Each row is the one of the event that posted it, so an edit finds it at once.
        DbConnection::Sqlite(c) => diesel::sql_query(
            "INSERT INTO idx.message_search (rowid, body, stream_id, seq, kind) \
             SELECT id, COALESCE(json_extract(payload, '$.body'), ''), stream_id, seq, kind \
             FROM events WHERE id > ? AND id <= ? AND kind IN ('reply', 'note', 'message')",
        )
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(upto)
        .execute(c)?,
        DbConnection::Pg(c) => diesel::sql_query(
            "INSERT INTO idx.message_search (body, stream_id, seq, kind) \
             SELECT COALESCE(payload::json->>'body', ''), stream_id, seq, kind \
             FROM events WHERE id > $1 AND id <= $2 AND kind IN ('reply', 'note', 'message') \
             ON CONFLICT DO NOTHING",
        )
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(upto)
        .execute(c)?,
    };
    let changes: Vec<(String, String, String)> = events::table
        .filter(events::id.gt(from).and(events::id.le(upto)))
        .filter(events::kind.eq_any(["edited", "deleted"]))
        .order(events::id)
        .select((events::stream_id, events::kind, events::payload))
        .load(conn)?;
    for (stream, kind, payload) in changes {
        let change: Change = serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("{kind} event payload: {e}")))?;
        let edited = kind == "edited";
        match conn {
            DbConnection::Sqlite(c) => {
                let row = "rowid = (SELECT event_id FROM idx.event_index \
                           WHERE stream_id = ? AND seq = ?)";
                if edited {
                    diesel::sql_query(format!(
                        "UPDATE idx.message_search SET body = ? WHERE {row}"
                    ))
                    .bind::<Text, _>(&change.body)
                    .bind::<Text, _>(&stream)
                    .bind::<BigInt, _>(change.target)
                    .execute(c)?;
                } else {
                    diesel::sql_query(format!("DELETE FROM idx.message_search WHERE {row}"))
                        .bind::<Text, _>(&stream)
                        .bind::<BigInt, _>(change.target)
                        .execute(c)?;
                }
            }
            DbConnection::Pg(c) => {
                if edited {
                    diesel::sql_query(
                        "UPDATE idx.message_search SET body = $1 WHERE stream_id = $2 AND seq = $3",
                    )
                    .bind::<Text, _>(&change.body)
                    .bind::<Text, _>(&stream)
                    .bind::<BigInt, _>(change.target)
                    .execute(c)?;
                } else {
                    diesel::sql_query(
                        "DELETE FROM idx.message_search WHERE stream_id = $1 AND seq = $2",
                    )
                    .bind::<Text, _>(&stream)
                    .bind::<BigInt, _>(change.target)
                    .execute(c)?;
                }
            }
        }
    }
    diesel::update(search_filing::table)
        .set(search_filing::last_id.eq(upto))
        .execute(conn)?;
    Ok((upto - from) as usize)
}

/// The log `id` up to which messages are filed for search.
fn search_filed_upto(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(search_filing::table
        .select(search_filing::last_id)
        .first(conn)?)
}

/// Empties the search index, to be filed again from the start of the log (with an event
/// index that did not belong to the log).
pub fn reset(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::sql_query("DELETE FROM idx.message_search").execute(conn)?;
    diesel::update(search_filing::table)
        .set(search_filing::last_id.eq(0))
        .execute(conn)?;
    Ok(())
}

/// Takes a deleted stream's messages out of the search index; call it while the event
/// index still has the stream.
pub fn forget_stream(conn: &mut DbConnection, stream: &str) -> Result<(), StoreError> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "DELETE FROM idx.message_search WHERE rowid IN \
             (SELECT event_id FROM idx.event_index WHERE stream_id = ?)",
        )
        .bind::<Text, _>(stream)
        .execute(c)?,
        DbConnection::Pg(c) => {
            diesel::sql_query("DELETE FROM idx.message_search WHERE stream_id = $1")
                .bind::<Text, _>(stream)
                .execute(c)?
        }
    };
    Ok(())
}

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
                 FROM idx.message_search WHERE message_search MATCH ? \
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
                 FROM idx.message_search, plainto_tsquery('simple', $1) q \
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
    use crate::domain::{
        Author, ConversationId, Deletion, Edit, Event, EventKind, Message, PostKind, UserId,
    };
    use crate::store::connection::Manager;
    use crate::store::events;

    fn found(conn: &mut DbConnection, text: &str) -> Vec<i64> {
        let mut seqs: Vec<i64> = messages(conn, text, 10)
            .unwrap()
            .into_iter()
            .map(|h| h.seq)
            .collect();
        seqs.sort();
        seqs
    }

    #[test]
    fn posts_edits_and_deletions_are_filed_in_the_logs_order_and_a_rebuilt_index_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("search.db").display().to_string();
        // A connection of its own, without the store's filer: this test files by hand.
        let mut conn = Manager::new(&url).establish().unwrap();
        crate::store::migrate(&mut conn).unwrap();
        let stream = ConversationId::generate();
        let author = Author::Staff(UserId::generate());
        let at = |seq: u64, kind: EventKind| Event {
            stream,
            seq,
            at: seq as i64,
            author,
            client_id: None,
            kind,
        };
        let log = [
            at(1, EventKind::Reply(Message::text("apple"))),
            at(2, EventKind::Note(Message::text("banana"))),
            at(
                3,
                EventKind::Edited(Edit {
                    target: 1,
                    on: PostKind::Reply,
                    body: "cherry".into(),
                    mentions: vec![],
                }),
            ),
            at(
                4,
                EventKind::Deleted(Deletion {
                    target: 2,
                    on: PostKind::Note,
                    attachments: vec![],
                }),
            ),
            at(5, EventKind::Reply(Message::text("apple pie"))),
        ];
        for event in &log {
            events::insert(&mut conn, event).unwrap();
        }
        assert_eq!(
            found(&mut conn, "apple"),
            Vec::<i64>::new(),
            "not filed yet"
        );
        events::file(&mut conn).unwrap();
        let state = |conn: &mut DbConnection| {
            (
                found(conn, "apple"),
                found(conn, "banana"),
                found(conn, "cherry"),
            )
        };
        assert_eq!(state(&mut conn), (vec![5], vec![], vec![1]));
        // Filed again from the start (an index that did not belong to the log).
        reset(&mut conn).unwrap();
        assert_eq!(found(&mut conn, "cherry"), Vec::<i64>::new());
        events::file(&mut conn).unwrap();
        assert_eq!(state(&mut conn), (vec![5], vec![], vec![1]));
        // A deleted stream leaves nothing behind.
        events::delete_stream(&mut conn, stream).unwrap();
        assert_eq!(state(&mut conn), (vec![], vec![], vec![]));
    }

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
