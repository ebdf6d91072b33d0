//! Team chat: public and private channels and direct messages among staff, live over the
//! same WebSocket as conversations, with real clients against the real server.

mod common;

use common::{assert_gapless, TestApp};
use serde_json::json;

#[actix_rt::test]
async fn a_public_channel_is_read_by_anyone_and_written_after_joining() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let general = app.channel("general").by(&alice).build().await;

    let mut a = app.ws(&alice.token).await;
    a.follow(&general).await;
    let posted = a
        .ok(json!({"type": "post", "channel": general, "body": "welcome, everyone"}))
        .await;
    assert_eq!(posted["channel"], general.as_str());
    let event = a.event("message").await;
    assert_eq!(event["body"], "welcome, everyone");
    assert_eq!(event["author"]["id"], alice.id.as_str());

    // Bob is not a member: he finds it in the directory, reads it and follows it live.
    let directory = app.get_ok("/api/channels/directory", &bob.token).await;
    let entry = directory
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == general.as_str())
        .expect("the public channel is listed");
    assert_eq!(
        (entry["name"].as_str(), entry["member"].as_bool()),
        (Some("general"), Some(false))
    );
    let history = app
        .get_ok(&format!("/api/channels/{general}/events"), &bob.token)
        .await;
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "joined", "message"]);
    assert!(history["people"].to_string().contains("Alice"), "{history}");
    let mut b = app.ws(&bob.token).await;
    b.ok(json!({"type": "subscribe", "channel": general, "after_seq": 2}))
        .await;
    assert_eq!(b.event("message").await["body"], "welcome, everyone");

    // He may not post until he joins.
    b.refused(
        json!({"type": "post", "channel": general, "body": "hi"}),
        "not_a_member",
    )
    .await;
    b.refused(
        json!({"type": "typing", "channel": general}),
        "not_a_member",
    )
    .await;
    b.ok(json!({"type": "join", "channel": general})).await;
    let joined = b.event("joined").await;
    assert_eq!(
        (joined["user"].as_str(), joined["name"].as_str()),
        (Some(bob.id.as_str()), Some("Bob"))
    );
    b.expect("history").await;
    assert_eq!(a.event("joined").await["user"], bob.id.as_str());
    b.refused(
        json!({"type": "join", "channel": general}),
        "already_member",
    )
    .await;
    b.ok(json!({"type": "post", "channel": general, "body": "hi @alice", "client_id": "b-1"}))
        .await;
    assert_eq!(b.event("message").await["body"], "hi @alice");
    let heard = a.event("message").await;
    assert_eq!(heard["mentions"][0]["name"], "Alice");
    let mention = a.expect("mention").await;
    assert_eq!(
        (mention["channel"].as_str(), mention["by"].as_str()),
        (Some(general.as_str()), Some("Bob"))
    );
    // A retried send is stored once.
    let again = b
        .ok(json!({"type": "post", "channel": general, "body": "hi @alice", "client_id": "b-1"}))
        .await;
    assert_eq!(again["duplicate"], true);

    // The conversation commands are not for channels, and a channel's message kind is not
    // for conversations.
    b.refused(
        json!({"type": "close", "conversation": general}),
        "unknown_conversation",
    )
    .await;
    b.refused(
        json!({"type": "post", "channel": general, "kind": "note", "body": "x"}),
        "invalid_kind",
    )
    .await;
    b.refused(
        json!({"type": "post", "channel": general, "conversation": general, "body": "x"}),
        "invalid_frame",
    )
    .await;
    let listing = app.listed_channel(&bob.token, &general).await.unwrap();
    assert_eq!(
        (listing["name"].as_str(), listing["role"].as_str()),
        (Some("general"), Some("member"))
    );
    let events = app
        .get_ok(&format!("/api/channels/{general}/events"), &alice.token)
        .await;
    assert_gapless(events["events"].as_array().unwrap());
}

#[actix_rt::test]
async fn a_private_channel_is_invisible_to_anyone_outside_it() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let carol = app.staff("Carol", "supervisor", &[], &[]).await;
    let mut b = app.ws(&bob.token).await;
    let secret = app
        .channel("proj-014")
        .private()
        .by(&alice)
        .member(&bob)
        .build()
        .await;
    let added = b.expect("channel_added").await;
    assert_eq!(
        (
            added["name"].as_str(),
            added["by"].as_str(),
            added["visibility"].as_str()
        ),
        (Some("proj-014"), Some("Alice"), Some("private"))
    );
    b.follow(&secret).await;
    b.ok(json!({"type": "post", "channel": secret, "body": "the zanzibar launch slips a week"}))
        .await;
    b.event("message").await;
    b.refused(
        json!({"type": "post", "channel": secret, "body": "@carol look"}),
        "mention_not_allowed",
    )
    .await;

    // Carol learns nothing of it: not in her listings, not by id, not in search.
    let mine = app.get_ok("/api/channels", &carol.token).await;
    assert_eq!(mine["channels"], json!([]));
    let directory = app.get_ok("/api/channels/directory", &carol.token).await;
    assert!(!directory.to_string().contains("proj-014"), "{directory}");
    for path in [
        format!("/api/channels/{secret}"),
        format!("/api/channels/{secret}/events"),
    ] {
        let (status, body) = app.call("GET", &path, Some(&carol.token), None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _) = app
        .call(
            "PUT",
            &format!("/api/channels/{secret}/mute"),
            Some(&carol.token),
            Some(json!({"muted": true})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/channels/{secret}"),
            Some(&carol.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let mut c = app.ws(&carol.token).await;
    for command in [
        json!({"type": "subscribe", "channel": secret}),
        json!({"type": "history", "channel": secret}),
        json!({"type": "join", "channel": secret}),
        json!({"type": "post", "channel": secret, "body": "hello?"}),
        json!({"type": "read", "channel": secret, "seq": 1}),
        json!({"type": "add_member", "channel": secret, "user": carol.id}),
        json!({"type": "rename_channel", "channel": secret, "name": "mine"}),
    ] {
        c.refused(command, "unknown_channel").await;
    }
    // Bob finds the message; Carol does not, though she finds the same words in a public
    // channel.
    let search = |token: String| {
        let app = &app;
        async move {
            let found = app.get_ok("/api/search?q=zanzibar", &token).await;
            found["messages"].as_array().unwrap().clone()
        }
    };
    let hits = common::eventually(|| search(bob.token.clone()), |hits| !hits.is_empty()).await;
    assert_eq!(
        (
            hits[0]["channel"].as_str(),
            hits[0]["channel_name"].as_str()
        ),
        (Some(secret.as_str()), Some("proj-014"))
    );
    assert_eq!(
        search(carol.token.clone()).await,
        Vec::<serde_json::Value>::new()
    );

    // A customer never reaches team chat.
    let team = app.team("support", false).await;
    let chat = app.start_chat(&team, "Carla").await;
    let mut customer = app.ws(&chat.token).await;
    customer
        .refused(
            json!({"type": "subscribe", "channel": secret}),
            "unknown_channel",
        )
        .await;
    let (status, _) = app
        .call("GET", "/api/channels", Some(&chat.token), None)
        .await;
    assert_eq!(status, 403);
}

#[actix_rt::test]
async fn a_direct_message_is_found_again_never_duplicated() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let mut b = app.ws(&bob.token).await;

    let (status, opened) = app
        .call(
            "POST",
            "/api/dms",
            Some(&alice.token),
            Some(json!({"users": [bob.id]})),
        )
        .await;
    assert_eq!(status, 201, "{opened}");
    let dm = opened["id"].as_str().unwrap().to_owned();
    let told = b.expect("channel_added").await;
    assert_eq!(
        (told["channel"].as_str(), told["by"].as_str()),
        (Some(dm.as_str()), Some("Alice"))
    );

    let mut a = app.ws(&alice.token).await;
    a.follow(&dm).await;
    b.follow(&dm).await;
    a.ok(json!({"type": "post", "channel": dm, "body": "got a minute?"}))
        .await;
    assert_eq!(b.event("message").await["body"], "got a minute?");

    // The second message finds the same one, whoever opens it.
    for (token, users) in [
        (&alice.token, json!([bob.id])),
        (&bob.token, json!([alice.id, bob.id])),
    ] {
        let (status, again) = app
            .call(
                "POST",
                "/api/dms",
                Some(token),
                Some(json!({"users": users})),
            )
            .await;
        assert_eq!(
            (status, again["id"].as_str()),
            (200, Some(dm.as_str())),
            "{again}"
        );
    }
    b.ok(json!({"type": "post", "channel": dm, "body": "sure"}))
        .await;
    a.event("message").await;
    let listed = app.listed_channel(&bob.token, &dm).await.unwrap();
    assert_eq!(listed["visibility"], "direct");
    assert_eq!(
        listed["name"], "Alice",
        "a direct message is named after the others"
    );
    assert_eq!(listed["with"][0]["availability"], "online");
    assert_eq!(listed["unread"], 1);
    b.refused(
        json!({"type": "leave", "channel": dm}),
        "direct_message_fixed",
    )
    .await;
    // With oneself, for notes.
    let (status, notes) = app
        .call(
            "POST",
            "/api/dms",
            Some(&alice.token),
            Some(json!({"users": []})),
        )
        .await;
    assert_eq!(status, 201);
    let notes = notes["id"].as_str().unwrap();
    assert_eq!(
        app.listed_channel(&alice.token, notes).await.unwrap()["name"],
        "Alice (you)"
    );
    let (status, _) = app
        .call(
            "POST",
            "/api/dms",
            Some(&alice.token),
            Some(json!({"users": ["01a20c01-17d3-73d7-8590-33a4f980bf1f"]})),
        )
        .await;
    assert_eq!(status, 400, "nobody by that id");
}

#[actix_rt::test]
async fn unread_and_mute_follow_a_member_across_sessions_and_a_restart() {
    let mut app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let ops = app.channel("ops").by(&alice).member(&bob).build().await;
    let mut a = app.ws(&alice.token).await;
    let mut phone = app.ws(&bob.token).await;
    let mut desk = app.ws(&bob.token).await;
    let mut last = 0;
    for body in ["deploy at 5", "all green", "@bob can you check the queue?"] {
        let ok = a
            .ok(json!({"type": "post", "channel": ops, "body": body}))
            .await;
        last = ok["seq"].as_u64().unwrap();
    }
    let listed = app.listed_channel(&bob.token, &ops).await.unwrap();
    assert_eq!(
        (listed["unread"].as_u64(), listed["mentions"].as_u64()),
        (Some(3), Some(1))
    );
    let seq = listed["last_read_seq"].as_u64().unwrap();
    assert_eq!(seq, 0);

    // Reading on one session moves the marker on the other.
    desk.expect("mention").await;
    phone.expect("mention").await;
    phone
        .ok(json!({"type": "read", "channel": ops, "seq": last}))
        .await;
    let read = desk.expect("read").await;
    assert_eq!(
        (read["channel"].as_str(), read["seq"].as_u64()),
        (Some(ops.as_str()), Some(last))
    );
    let listing = app.get_ok("/api/channels", &bob.token).await;
    assert_eq!(
        (listing["unread"].as_u64(), listing["mentions"].as_u64()),
        (Some(0), Some(0))
    );

    // Muted: the channel still counts its own unread and mentions, the total leaves it out.
    let (status, _) = app
        .call(
            "PUT",
            &format!("/api/channels/{ops}/mute"),
            Some(&bob.token),
            Some(json!({"muted": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(desk.expect("channel_muted").await["muted"], true);
    assert_eq!(phone.expect("channel_muted").await["muted"], true);
    a.ok(json!({"type": "post", "channel": ops, "body": "more noise"}))
        .await;
    a.ok(json!({"type": "post", "channel": ops, "body": "@bob this one matters"}))
        .await;
    let check = |listing: serde_json::Value| {
        let entry = listing["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == ops.as_str())
            .cloned()
            .unwrap();
        assert_eq!(entry["muted"], true, "{listing}");
        assert_eq!(
            (entry["unread"].as_u64(), entry["mentions"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(
            (listing["unread"].as_u64(), listing["mentions"].as_u64()),
            (Some(0), Some(1))
        );
    };
    check(app.get_ok("/api/channels", &bob.token).await);
    drop((a, phone, desk));
    app.restart().await;
    let bob_token = app.login("bob@example.com", "password-123").await;
    check(app.get_ok("/api/channels", &bob_token).await);
}

#[actix_rt::test]
async fn a_member_who_drops_resumes_every_channel_from_its_last_seq() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let one = app.channel("one").by(&alice).member(&bob).build().await;
    let two = app.channel("two").by(&alice).member(&bob).build().await;
    let mut b = app.ws(&bob.token).await;
    let mut last = std::collections::HashMap::new();
    for channel in [&one, &two] {
        let ok = b.follow(channel).await;
        last.insert(channel.clone(), ok["seq"].as_u64().unwrap());
    }
    b.close().await;
    let mut a = app.ws(&alice.token).await;
    for i in 0..3 {
        for channel in [&one, &two] {
            a.ok(json!({"type": "post", "channel": channel, "body": format!("missed {i}")}))
                .await;
        }
    }
    let mut b = app.ws(&bob.token).await;
    for channel in [&one, &two] {
        let ok = b
            .ok(json!({"type": "subscribe", "channel": channel, "after_seq": last[channel]}))
            .await;
        let missed = b.take_received();
        let bodies: Vec<&str> = missed.iter().map(|e| e["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, ["missed 0", "missed 1", "missed 2"], "{channel}");
        let seqs: Vec<u64> = missed.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        let from = last[channel];
        assert_eq!(seqs, [from + 1, from + 2, from + 3]);
        assert_eq!(ok["seq"].as_u64(), Some(from + 3));
    }
    a.ok(json!({"type": "post", "channel": one, "body": "live again"}))
        .await;
    assert_eq!(b.event("message").await["body"], "live again");
}

#[actix_rt::test]
async fn admins_run_the_channel_and_an_archived_one_is_read_only() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let carol = app.staff("Carol", "agent", &[], &[]).await;
    let ops = app
        .channel("ops")
        .by(&alice)
        .member(&bob)
        .member(&carol)
        .build()
        .await;
    app.channel("taken").by(&alice).build().await;
    let mut a = app.ws(&alice.token).await;
    let mut b = app.ws(&bob.token).await;
    let mut c = app.ws(&carol.token).await;
    for ws in [&mut a, &mut b, &mut c] {
        ws.follow(&ops).await;
    }

    // Every message feature works here: edit, reaction, quote, typing, delete.
    let posted = b
        .ok(json!({"type": "post", "channel": ops, "body": "first draft"}))
        .await;
    let seq = posted["seq"].as_u64().unwrap();
    b.ok(json!({"type": "edit", "channel": ops, "seq": seq, "body": "second draft"}))
        .await;
    a.ok(json!({"type": "react", "channel": ops, "seq": seq, "emoji": "👍"}))
        .await;
    a.ok(json!({"type": "post", "channel": ops, "body": "agreed", "quote": seq}))
        .await;
    a.ok(json!({"type": "typing", "channel": ops})).await;
    let (first, _) = c.until_event("message").await;
    assert_eq!(first["body"], "first draft");
    assert_eq!(c.event("edited").await["body"], "second draft");
    assert_eq!(c.event("reacted").await["reactions"][0]["count"], 1);
    let answer = c.event("message").await;
    assert_eq!(answer["quote"]["snippet"], "second draft");
    assert_eq!(c.expect("typing").await["author"]["id"], alice.id.as_str());
    let page = app
        .get_ok(&format!("/api/channels/{ops}/events"), &carol.token)
        .await;
    let read_back = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["seq"] == seq)
        .unwrap()
        .clone();
    assert_eq!(
        (
            read_back["body"].as_str(),
            read_back["reactions"][0]["emoji"].as_str()
        ),
        (Some("second draft"), Some("👍"))
    );
    assert!(read_back["edited_at"].is_i64());

    // Only its admin renames it, and not to a name another channel has.
    b.refused(
        json!({"type": "rename_channel", "channel": ops, "name": "mine"}),
        "not_channel_admin",
    )
    .await;
    a.refused(
        json!({"type": "rename_channel", "channel": ops, "name": "taken"}),
        "name_taken",
    )
    .await;
    a.refused(
        json!({"type": "rename_channel", "channel": ops, "name": "On Call"}),
        "invalid_channel_name",
    )
    .await;
    a.ok(json!({"type": "rename_channel", "channel": ops, "name": "on-call"}))
        .await;
    assert_eq!(c.event("renamed").await["name"], "on-call");
    assert_eq!(
        app.listed_channel(&carol.token, &ops).await.unwrap()["name"],
        "on-call"
    );

    // Removed, Carol hears of it (she may still read a public channel, not write in it).
    a.ok(json!({"type": "remove_member", "channel": ops, "user": carol.id}))
        .await;
    assert_eq!(c.event("removed").await["user"], carol.id.as_str());
    assert_eq!(c.expect("channel_removed").await["name"], "on-call");
    b.until_event("removed").await;
    c.refused(
        json!({"type": "post", "channel": ops, "body": "still here?"}),
        "not_a_member",
    )
    .await;

    // Archived, it is read-only.
    a.ok(json!({"type": "archive_channel", "channel": ops, "archived": true}))
        .await;
    b.event("archived").await;
    b.refused(
        json!({"type": "post", "channel": ops, "body": "late"}),
        "channel_archived",
    )
    .await;
    b.refused(
        json!({"type": "react", "channel": ops, "seq": seq, "emoji": "🎉"}),
        "channel_archived",
    )
    .await;
    a.ok(json!({"type": "archive_channel", "channel": ops, "archived": false}))
        .await;
    b.event("unarchived").await;
    b.ok(json!({"type": "post", "channel": ops, "body": "back"}))
        .await;

    // Deleting takes it all; its members hear of it.
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/channels/{ops}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(
        status, 403,
        "a member who is not its admin may not delete it"
    );
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/channels/{ops}"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (deleted, _) = loop {
        let frame = b.next().await;
        if frame["type"] == "channel_deleted" {
            break (frame, ());
        }
    };
    assert_eq!(deleted["name"], "on-call");
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/channels/{ops}"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_rt::test]
async fn channel_names_and_limits_have_clear_errors() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    for bad in ["General", "two words", "#ops", ""] {
        let (status, body) = app
            .call(
                "POST",
                "/api/channels",
                Some(&alice.token),
                Some(json!({"name": bad})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("invalid_channel_name")),
            "{bad}"
        );
    }
    app.channel("general").by(&alice).build().await;
    let (status, body) = app
        .call(
            "POST",
            "/api/channels",
            Some(&alice.token),
            Some(json!({"name": "general"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let ops = app.channel("ops").by(&alice).build().await;
    let mut a = app.ws(&alice.token).await;
    let mut refused = None;
    for i in 0..30 {
        let answer = a
            .request(json!({"type": "post", "channel": ops, "body": format!("flood {i}")}))
            .await;
        if answer["type"] == "error" {
            refused = Some((i, answer));
            break;
        }
    }
    let (at, answer) = refused.expect("a flood is slowed down");
    assert_eq!(answer["code"], "posting_too_fast", "{answer}");
    assert_eq!(at, 20, "after 20 messages in 10 s");
}

#[actix_rt::test]
async fn files_in_a_channel_go_to_those_who_may_read_it() {
    let app = TestApp::start().await;
    let alice = app.staff("Alice", "agent", &[], &[]).await;
    let bob = app.staff("Bob", "agent", &[], &[]).await;
    let carol = app.staff("Carol", "agent", &[], &[]).await;
    let secret = app
        .channel("proj-014")
        .private()
        .by(&alice)
        .member(&bob)
        .build()
        .await;
    let general = app.channel("general").by(&alice).build().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x03\x08\x02\0\0\0\0\0\0\0";

    let (status, body) = app
        .upload_to_channel(&carol.token, &secret, "plan.png", png)
        .await;
    assert_eq!(
        status, 404,
        "an outsider cannot tell the channel exists: {body}"
    );
    let (status, body) = app
        .upload_to_channel(&carol.token, &general, "plan.png", png)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_a_member"))
    );
    let (status, file) = app
        .upload_to_channel(&alice.token, &secret, "plan.png", png)
        .await;
    assert_eq!(status, 201, "{file}");
    let file_id = file["id"].as_str().unwrap();
    assert_eq!(
        app.download(&bob.token, file_id).await.status,
        404,
        "not posted yet"
    );

    let mut a = app.ws(&alice.token).await;
    let mut b = app.ws(&bob.token).await;
    b.follow(&secret).await;
    a.ok(json!({"type": "post", "channel": secret, "body": "the plan", "attachments": [file_id]}))
        .await;
    let message = b.event("message").await;
    assert_eq!(message["attachments"][0]["width"], 2);
    let got = app.download(&bob.token, file_id).await;
    assert_eq!((got.status, got.bytes.len()), (200, png.len()));
    assert_eq!(app.download(&carol.token, file_id).await.status, 404);
    // A channel's file cannot go on a message elsewhere.
    a.refused(
        json!({"type": "post", "channel": general, "body": "x", "attachments": [file_id]}),
        "unknown_attachment",
    )
    .await;
}
