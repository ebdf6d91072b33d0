//! The life of stored data: a backup taken while the server runs and put back, closed
//! conversations purged after the retention period, and a contact erased everywhere.
//! Real server, real HTTP and WebSocket clients, the real `conclave admin` command, and
//! the database itself read table by table.

mod common;

use common::TestApp;
use conclave::store::connection::Manager;
use conclave::store::DbConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::json;
use std::process::Command;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 6, 0, 0, 0,
];

fn on_postgres() -> bool {
    std::env::var("CONCLAVE_TEST_POSTGRES").is_ok_and(|s| !s.is_empty())
}

/// Runs `conclave admin …` on the app's database and files; its status and output.
fn admin(app: &TestApp, args: &[&str]) -> (bool, String) {
    let output = Command::new(common::BIN)
        .args(["admin", "--database-url", &app.database_url, "--files-dir"])
        .arg(app.files_dir())
        .args(args)
        .output()
        .expect("conclave admin runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[actix_rt::test]
async fn a_backup_taken_while_the_server_runs_restores_every_message_and_file() {
    let mut app = TestApp::start().await;
    if on_postgres() {
        let (ok, text) = admin(&app, &["backup", "/tmp/never.db"]);
        assert!(!ok && text.contains("pg_dump"), "{text}");
        return;
    }
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .customer("Carol")
        .lead(&alice)
        .build()
        .await;
    let conv = room.conversation.clone();
    let (_, shot) = app.upload(&alice.token, &conv, "screen.png", PNG).await;
    let shot = shot["id"].as_str().unwrap().to_owned();
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Is this it?", "attachments": [shot]}))
        .await;
    room.customer
        .ok(json!({"type": "post", "body": "Yes, that one"}))
        .await;
    let before = app.transcript(&alice.token, &conv).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let file = file.to_str().unwrap();
    let (ok, text) = admin(&app, &["backup", file]);
    assert!(ok, "{text}");
    assert!(text.contains("1 uploaded file(s)"), "{text}");
    let (ok, text) = admin(&app, &["backup", file]);
    assert!(
        !ok && text.contains("already exists"),
        "a backup is never overwritten: {text}"
    );
    // Said after the backup, so not in it.
    room.customer
        .ok(json!({"type": "post", "body": "After the backup"}))
        .await;

    assert!(app.terminate(), "the server stops cleanly");
    std::fs::remove_dir_all(app.files_dir()).unwrap();
    let (ok, text) = admin(&app, &["restore", file]);
    assert!(!ok && text.contains("--replace"), "{text}");
    let (ok, text) = admin(&app, &["restore", file, "--replace"]);
    assert!(ok, "{text}");
    app.start_again();

    assert_eq!(app.transcript(&alice.token, &conv).await, before);
    let got = app.download(&alice.token, &shot).await;
    assert_eq!((got.status, got.bytes.as_slice()), (200, PNG));
    // The conversation goes on from where the backup left it, with no gap in its seq.
    let mut lead = app.ws(&alice.token).await;
    lead.ok(json!({"type": "subscribe", "conversation": conv}))
        .await;
    lead.ok(json!({"type": "post", "conversation": conv, "body": "Welcome back"}))
        .await;
    let after = app.transcript(&alice.token, &conv).await;
    assert_eq!(after.len(), before.len() + 1);
    common::assert_gapless(&after);
    let (_, audit) = app.call("GET", "/api/audit", Some(&app.admin), None).await;
    // The entry went to the live database after the copy was taken, so it is not here.
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] != "backup_taken"));
}

#[actix_rt::test]
async fn closed_conversations_past_the_retention_period_go_with_their_files() {
    let app = TestApp::start_with(&["--retention", "2s", "--idle-timeout-secs", "1"]).await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let mut done = app
        .room("support")
        .customer("Dora")
        .lead(&alice)
        .build()
        .await;
    let mut open = app
        .room("support")
        .customer("Otto")
        .lead(&alice)
        .build()
        .await;
    let (_, file) = app
        .upload(&alice.token, &done.conversation, "screen.png", PNG)
        .await;
    let file = file["id"].as_str().unwrap().to_owned();
    done.lead
        .ok(json!({"type": "post", "conversation": done.conversation, "body": "Here", "attachments": [file]}))
        .await;
    done.lead
        .ok(json!({"type": "close", "conversation": done.conversation}))
        .await;
    open.lead
        .ok(json!({"type": "post", "conversation": open.conversation, "body": "Still on it"}))
        .await;
    assert!(app.files_dir().join(&file).exists());
    // Nobody keeps the closed one in memory, so the sweep may take it.
    done.customer.close().await;
    done.lead.close().await;

    let path = format!("/api/conversations/{}", done.conversation);
    let status = common::eventually(
        || async { app.call("GET", &path, Some(&app.admin), None).await.0 },
        |status| *status == 404,
    )
    .await;
    assert_eq!(
        status, 404,
        "the closed conversation outlived its retention"
    );
    let open_path = format!("/api/conversations/{}", open.conversation);
    assert_eq!(
        app.call("GET", &open_path, Some(&app.admin), None).await.0,
        200
    );
    let gone = common::eventually(
        || async { !app.files_dir().join(&file).exists() },
        |gone| *gone,
    )
    .await;
    assert!(gone, "the purged conversation's file is still on disk");
    let (_, audit) = app.call("GET", "/api/audit", Some(&app.admin), None).await;
    let purge = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "retention_purge")
        .cloned()
        .expect("the purge is audited");
    assert_eq!(purge["detail"]["conversations"], 1);
    assert_eq!(purge["actor_name"], "retention");
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every (table, column) of the database whose text holds `needle`, each table as
/// `schema.table`.
fn columns_holding(conn: &mut DbConnection, needle: &str) -> Vec<(String, String)> {
    let needle = needle.replace('\'', "''");
    let tables: Vec<(String, String)> = match conn {
        DbConnection::Sqlite(_) => ["main", "idx"]
            .iter()
            .flat_map(|schema| {
                diesel::sql_query(format!(
                    "SELECT name FROM {schema}.sqlite_master WHERE type = 'table'"
                ))
                .load::<Name>(conn)
                .unwrap()
                .into_iter()
                .map(move |t| (schema.to_string(), t.name))
            })
            .collect(),
        DbConnection::Pg(_) => diesel::sql_query(
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        )
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|t| ("public".to_owned(), t.name))
        .collect(),
    };
    let mut found = Vec::new();
    for (schema, table) in tables {
        let columns_sql = match conn {
            DbConnection::Sqlite(_) => {
                format!("SELECT name FROM pragma_table_info('{table}', '{schema}')")
            }
            DbConnection::Pg(_) => format!(
                "SELECT column_name AS name FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = '{table}'"
            ),
        };
        let columns = diesel::sql_query(columns_sql).load::<Name>(conn).unwrap();
        for column in columns {
            let count = diesel::sql_query(format!(
                "SELECT COUNT(*) AS n FROM {schema}.\"{table}\" \
                 WHERE CAST(\"{}\" AS TEXT) LIKE '%{needle}%'",
                column.name
            ))
            .get_result::<Count>(conn)
            .unwrap();
            if count.n > 0 {
                found.push((format!("{schema}.{table}"), column.name));
            }
        }
    }
    found
}

#[actix_rt::test]
async fn erasing_a_contact_leaves_no_row_of_them_in_any_table() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let mut room = app
        .room("support")
        .customer("Zebulon Quartermaine")
        .reachable_at("zebulon@example.org", "+15550104477")
        .lead(&alice)
        .build()
        .await;
    let conv = room.conversation.clone();
    let contact = room.chat.customer.clone();
    let (_, file) = app
        .upload(&room.chat.token, &conv, "receipt.png", PNG)
        .await;
    let file = file["id"].as_str().unwrap().to_owned();
    room.customer
        .ok(json!({"type": "post", "body": "I am Zebulon Quartermaine, call +15550104477", "attachments": [file]}))
        .await;
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "body": "Thanks Zebulon Quartermaine"}))
        .await;
    room.lead
        .ok(json!({"type": "post", "conversation": conv, "kind": "note", "body": "zebulon@example.org is a VIP"}))
        .await;
    room.customer
        .ok(json!({"type": "read", "conversation": conv, "seq": 3}))
        .await;
    // Defaults for their next chats: an audit entry names them too.
    let defaults = format!("/api/contacts/{contact}/defaults");
    let (status, body) = app
        .call(
            "PUT",
            &defaults,
            Some(&sam.token),
            Some(json!({"assignees": [alice.id]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Filed into the search index too, before it is erased.
    let found = common::eventually(
        || async {
            let (_, found) = app
                .call(
                    "GET",
                    "/api/search?q=Quartermaine",
                    Some(&alice.token),
                    None,
                )
                .await;
            found["messages"].as_array().map_or(0, Vec::len)
        },
        |n| *n >= 2,
    )
    .await;
    assert_eq!(found, 2, "the messages were never searchable");
    let mut conn = Manager::new(&app.database_url).establish().unwrap();
    let needles = [
        contact.as_str(),
        "Zebulon Quartermaine",
        "zebulon@example.org",
        "+15550104477",
    ];
    for needle in needles {
        assert!(
            !columns_holding(&mut conn, needle).is_empty(),
            "{needle} was never stored"
        );
    }

    let path = format!("/api/contacts/{contact}");
    let (status, _) = app.call("DELETE", &path, Some(&sam.token), None).await;
    assert_eq!(status, 403, "only admins erase");
    let (status, erased) = app.call("DELETE", &path, Some(&app.admin), None).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased, json!({"conversations": 1, "files": 1}));
    assert_eq!(room.customer.close_code().await, Some(1008));
    // Alice's console, told to resync, finds the conversation gone rather than bringing it
    // back.
    room.lead
        .refused(
            json!({"type": "subscribe", "conversation": conv}),
            "unknown_conversation",
        )
        .await;
    assert_eq!(app.call("GET", &path, Some(&app.admin), None).await.0, 404);
    assert_eq!(
        app.call("GET", "/api/me", Some(&room.chat.token), None)
            .await
            .0,
        401
    );
    let gone = common::eventually(
        || async { !app.files_dir().join(&file).exists() },
        |gone| *gone,
    )
    .await;
    assert!(gone, "the contact's file is still on disk");

    // Nor do the words of their messages stay in the search index.
    for needle in &["Quartermaine", "15550104477"] {
        let left = columns_holding(&mut conn, needle);
        assert!(left.is_empty(), "the word {needle} is still in {left:?}");
    }
    for needle in &needles[1..] {
        let left = columns_holding(&mut conn, needle);
        assert!(left.is_empty(), "{needle} is still in {left:?}");
    }
    // Only the audit log keeps the contact's id, as the target of entries about them.
    let left = columns_holding(&mut conn, &contact);
    let audit_table = if on_postgres() {
        "public.audit_log"
    } else {
        "main.audit_log"
    };
    assert_eq!(left, [(audit_table.to_owned(), "target".to_owned())]);
    let (_, audit) = app.call("GET", "/api/audit", Some(&app.admin), None).await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "contact_erased")
        .cloned()
        .expect("the erasure is audited");
    assert_eq!(entry["target"], contact.as_str());
    assert!(entry["target_name"].is_null());
    // Asking again finds nothing.
    assert_eq!(
        app.call("DELETE", &path, Some(&app.admin), None).await.0,
        404
    );
}

#[actix_rt::test]
async fn the_command_line_erases_a_contact_too() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let room = app
        .room("support")
        .customer("Yolanda Fitzgerald")
        .lead(&alice)
        .build()
        .await;
    let contact = room.chat.customer.clone();
    let conversation = room.conversation.clone();
    drop(room);
    // Its deletion is audited as "conversation with Yolanda Fitzgerald": erasing unnames it.
    let path = format!("/api/conversations/{conversation}");
    assert_eq!(
        app.call("DELETE", &path, Some(&app.admin), None).await.0,
        204
    );

    let (ok, text) = admin(&app, &["erase-contact", "not-an-id"]);
    assert!(!ok && text.contains("is not a contact id"), "{text}");
    let (ok, text) = admin(&app, &["erase-contact", &contact]);
    assert!(ok, "{text}");
    assert!(text.contains("erased contact"), "{text}");
    let (ok, text) = admin(&app, &["erase-contact", &contact]);
    assert!(!ok && text.contains("no contact"), "{text}");

    let path = format!("/api/contacts/{contact}");
    assert_eq!(app.call("GET", &path, Some(&app.admin), None).await.0, 404);
    let mut conn = Manager::new(&app.database_url).establish().unwrap();
    assert!(columns_holding(&mut conn, "Yolanda Fitzgerald").is_empty());
    let (_, audit) = app.call("GET", "/api/audit", Some(&app.admin), None).await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "contact_erased")
        .cloned()
        .expect("the erasure is audited");
    assert_eq!(entry["actor_name"], "command line");
}
