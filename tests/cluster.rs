//! Several nodes over one PostgreSQL and one Redis: every room behaves exactly as on one
//! node, whichever nodes its members are connected to. Real server processes, real
//! `redis-server` and PostgreSQL, real WebSocket and HTTP clients.

mod common;

use common::nodes::Nodes;
use common::{assert_gapless, Agent, Chat, Ws};
use serde_json::{json, Value};
use std::time::Duration;

/// The kinds of a transcript's events, in order.
fn kinds(transcript: &[Value]) -> Vec<String> {
    transcript
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The bodies of a transcript's messages, in order.
fn bodies(transcript: &[Value]) -> Vec<String> {
    transcript
        .iter()
        .filter(|e| e["kind"] == "reply" || e["kind"] == "note")
        .map(|e| e["body"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn the_multi_agent_story_with_everyone_on_a_different_node() {
    let Some(nodes) = Nodes::start(3, &[]).await else {
        return;
    };
    let team = nodes[0].team("support", false).await;
    let lead = nodes[1].staff("Lena", "agent", &[&team], &[]).await;
    let helper = nodes[2].staff("Hugo", "agent", &[&team], &[]).await;
    let supervisor = nodes[0].staff("Sara", "supervisor", &[&team], &[]).await;

    // The customer starts on node 0, which comes to own the conversation.
    let chat = nodes[0].start_chat(&team, "Carla").await;
    let conversation = chat.conversation.clone();
    let mut customer = nodes[0].ws(&chat.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    customer
        .ok(json!({"type": "post", "body": "my order is late", "client_id": "c1"}))
        .await;
    customer.settle(&conversation).await;

    // The lead, on node 1, picks it up: the command goes to node 0.
    let mut lead_ws = nodes[1].ws(&lead.token).await;
    lead_ws.pick_up(&conversation).await;
    assert_eq!(customer.until_event("joined").await.0["mode"], "lead");

    // An invitation reaches the helper on node 2, who is online there.
    let mut helper_ws = nodes[2].ws(&helper.token).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // node 0 hears Hugo came online
    let target = json!({"kind": "agent", "id": helper.id});
    let invited = lead_ws.invite(&conversation, target, "participant").await;
    let offer = helper_ws.expect("invitation").await;
    assert_eq!(offer["conversation"], conversation.as_str());
    helper_ws
        .accept(&conversation, &invited["invitation"])
        .await;
    assert_eq!(lead_ws.event("joined").await["mode"], "participant");

    // A supervisor monitors from node 0, uninvited.
    let mut supervisor_ws = nodes[0].ws(&supervisor.token).await;
    supervisor_ws
        .ok(json!({"type": "monitor", "conversation": conversation}))
        .await;
    assert_eq!(supervisor_ws.event("joined").await["mode"], "monitor");
    supervisor_ws.expect("history").await;

    // A reply reaches the customer; a note reaches the staff only.
    helper_ws
        .ok(json!({"type": "post", "conversation": conversation, "body": "it ships today"}))
        .await;
    helper_ws
        .ok(json!({"type": "post", "conversation": conversation, "kind": "note", "body": "VIP, be kind"}))
        .await;
    lead_ws
        .ok(json!({"type": "post", "conversation": conversation, "body": "anything else?"}))
        .await;
    let (reply, _) = customer.until_event("reply").await;
    assert_eq!(reply["body"], "it ships today");
    let next = customer.event("reply").await;
    assert_eq!(
        next["body"], "anything else?",
        "the note never reaches the customer"
    );
    for ws in [&mut lead_ws, &mut supervisor_ws] {
        let (reply, _) = ws.until_event("reply").await;
        assert_eq!(reply["body"], "it ships today");
        assert_eq!(ws.event("note").await["body"], "VIP, be kind");
        assert_eq!(ws.event("reply").await["body"], "anything else?");
    }

    // A monitor says nothing; a retried send is stored once, across nodes as on one.
    supervisor_ws
        .refused(
            json!({"type": "post", "conversation": conversation, "body": "hi"}),
            "monitor_read_only",
        )
        .await;
    let again = customer
        .ok(json!({"type": "post", "body": "my order is late", "client_id": "c1"}))
        .await;
    assert_eq!(again["duplicate"], true);

    // Every node serves the same gapless transcript.
    let staff_view = nodes[2].transcript(&helper.token, &conversation).await;
    assert_gapless(&staff_view);
    for node in [&nodes[0], &nodes[1]] {
        assert_eq!(
            node.transcript(&lead.token, &conversation).await,
            staff_view
        );
    }
    assert_eq!(
        bodies(&staff_view),
        [
            "my order is late",
            "it ships today",
            "VIP, be kind",
            "anything else?"
        ]
    );
    let customer_view = nodes[1].transcript(&chat.token, &conversation).await;
    assert!(!bodies(&customer_view).contains(&"VIP, be kind".to_owned()));

    // Closing reaches everyone, wherever they are.
    lead_ws
        .ok(json!({"type": "close", "conversation": conversation}))
        .await;
    customer.until_event("closed").await;
    helper_ws.until_event("closed").await;
    supervisor_ws.until_event("closed").await;
    assert_eq!(
        kinds(&nodes[1].transcript(&lead.token, &conversation).await)
            .last()
            .unwrap(),
        "closed"
    );
}

/// Posts `count` messages as `ws` in `channel`, returning the seq of each.
async fn post_in_channel(ws: &mut Ws, channel: &str, prefix: &str, count: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    for i in 0..count {
        let ok = ws
            .ok(json!({"type": "post", "channel": channel, "body": format!("{prefix} {i}")}))
            .await;
        seqs.push(ok["seq"].as_u64().unwrap());
    }
    seqs
}

#[actix_rt::test]
async fn a_channel_with_members_on_three_nodes() {
    let Some(nodes) = Nodes::start(3, &[]).await else {
        return;
    };
    let team = nodes[0].team("support", false).await;
    let members = [
        nodes[0].staff("Ana", "agent", &[&team], &[]).await,
        nodes[1].staff("Ben", "agent", &[&team], &[]).await,
        nodes[2].staff("Cyd", "agent", &[&team], &[]).await,
    ];
    let channel = nodes[0]
        .channel("general")
        .by(&members[0])
        .member(&members[1])
        .member(&members[2])
        .build()
        .await;
    let mut sockets = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let mut ws = nodes[i].ws(&member.token).await;
        ws.follow(&channel).await;
        sockets.push(ws);
    }
    // All three write at once, each from their own node.
    let mut written = Vec::new();
    for (i, ws) in sockets.iter_mut().enumerate() {
        written.extend(post_in_channel(ws, &channel, &format!("from {i}"), 5).await);
    }
    written.sort_unstable();
    written.dedup();
    assert_eq!(written.len(), 15, "every post has its own seq");
    // Everyone sees all fifteen, in one order.
    let mut seen_orders = Vec::new();
    for ws in &mut sockets {
        let mut seqs = Vec::new();
        let mut seen = Vec::new();
        while seen.len() < 15 {
            let event = ws.event("message").await;
            seqs.push(event["seq"].as_u64().unwrap());
            seen.push(event["body"].as_str().unwrap().to_owned());
        }
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(seqs, sorted, "in seq order");
        seen_orders.push(seqs);
    }
    // A mention made on node 0 reaches Cyd on node 2, as a notice besides the message.
    sockets[0]
        .ok(json!({"type": "post", "channel": channel, "body": "ping @cyd"}))
        .await;
    let (heard, _) = sockets[2].until_event("message").await;
    assert_eq!(heard["mentions"][0]["name"], "Cyd");
    let mention = loop {
        let frame = sockets[2].next().await;
        if frame["type"] == "mention" {
            break frame;
        }
    };
    assert_eq!(mention["by"], "Ana");
    let path = format!("/api/channels/{channel}/events?limit=1000");
    let stored = nodes[1].get_ok(&path, &members[1].token).await["events"]
        .as_array()
        .unwrap()
        .clone();
    assert_gapless(&stored);
    assert_eq!(stored.iter().filter(|e| e["kind"] == "message").count(), 16);
}

/// A conversation across two nodes: its customer, Carla, on node 0, which comes to own it,
/// and its lead, Lena, who picked it up from node 1.
struct Across {
    team: String,
    chat: Chat,
    conversation: String,
    customer: Ws,
    lead: Agent,
    lead_ws: Ws,
}

impl Across {
    async fn start(nodes: &Nodes) -> Across {
        let team = nodes[0].team("support", false).await;
        let lead = nodes[1].staff("Lena", "agent", &[&team], &[]).await;
        let chat = nodes[0].start_chat(&team, "Carla").await;
        let conversation = chat.conversation.clone();
        let mut customer = nodes[0].ws(&chat.token).await;
        customer.ok(json!({"type": "subscribe"})).await;
        let mut lead_ws = nodes[1].ws(&lead.token).await;
        lead_ws.pick_up(&conversation).await;
        Across {
            team,
            chat,
            conversation,
            customer,
            lead,
            lead_ws,
        }
    }
}

/// Reads `ws` until the server asks it to resubscribe (`resync`), returning the events it
/// received before that.
async fn until_resync(ws: &mut Ws) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("resync") => return events,
            Some("event") => events.push(frame),
            _ => {}
        }
    }
}

/// Subscribes `ws` to `conversation` again after the last seq in `received`, adding the
/// events it catches up on; again while it is told to resync meanwhile.
async fn resubscribe(ws: &mut Ws, conversation: &str, received: &mut Vec<Value>) {
    loop {
        let last_seq = received
            .iter()
            .filter_map(|e| e["seq"].as_u64())
            .max()
            .unwrap_or(0);
        ws.ok(json!({"type": "subscribe", "conversation": conversation, "after_seq": last_seq}))
            .await;
        let taken = ws.take_received();
        let again = taken.iter().any(|f| f["type"] == "resync");
        received.extend(taken.into_iter().filter(|f| f["type"] == "event"));
        if !again {
            return;
        }
    }
}

/// The bodies of the replies in a transcript, each with how often it is there.
fn reply_counts(transcript: &[Value]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for event in transcript.iter().filter(|e| e["kind"] == "reply") {
        *counts
            .entry(event["body"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[actix_rt::test]
async fn killing_the_owning_node_loses_no_acknowledged_message_and_the_room_carries_on() {
    let Some(mut nodes) = Nodes::start(3, &[]).await else {
        return;
    };
    let Across {
        chat,
        conversation,
        mut customer,
        lead,
        mut lead_ws,
        ..
    } = Across::start(&nodes).await;
    let mut acknowledged = Vec::new();
    for i in 0..10 {
        let body = format!("customer {i}");
        customer
            .ok(json!({"type": "post", "body": body, "client_id": body}))
            .await;
        acknowledged.push(body);
        let body = format!("lead {i}");
        lead_ws
            .ok(json!({"type": "post", "conversation": conversation, "body": body, "client_id": body}))
            .await;
        acknowledged.push(body);
    }
    // Five more go out, and the owner dies before (some of) their answers.
    let late: Vec<String> = (0..5).map(|i| format!("late {i}")).collect();
    for body in &late {
        customer
            .send(json!({"type": "post", "body": body, "client_id": body}))
            .await;
    }
    nodes[0].kill();

    // The lead's node notices and asks it to resubscribe; it does, from its last seq, and
    // the conversation is taken over by a live node.
    let seen = until_resync(&mut lead_ws).await;
    let last_seq = seen
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .unwrap_or(0);
    let ok = lead_ws
        .ok(json!({"type": "subscribe", "conversation": conversation, "after_seq": last_seq}))
        .await;
    assert!(ok["seq"].as_u64().unwrap() >= last_seq);

    // The customer reconnects to another node and sends the late ones again: each is
    // stored once, whether or not the dead node had stored it.
    let mut customer = nodes[2].ws(&chat.token).await;
    for body in &late {
        customer
            .ok(json!({"type": "post", "body": body, "client_id": body}))
            .await;
    }
    // The room carries on.
    lead_ws
        .ok(json!({"type": "post", "conversation": conversation, "body": "still here", "client_id": "still"}))
        .await;
    let transcript = nodes[2].transcript(&lead.token, &conversation).await;
    assert_gapless(&transcript);
    let counts = reply_counts(&transcript);
    for body in acknowledged.iter().chain(&late) {
        assert_eq!(counts.get(body), Some(&1), "{body} is there exactly once");
    }
    assert_eq!(counts.get("still here"), Some(&1));
}

#[actix_rt::test]
async fn a_redis_outage_under_traffic_loses_nothing_and_no_one_is_left_deaf() {
    let Some(mut nodes) = Nodes::start(2, &[]).await else {
        return;
    };
    let Across {
        team,
        conversation,
        mut customer,
        lead,
        mut lead_ws,
        ..
    } = Across::start(&nodes).await;
    let local = nodes[0].staff("Lou", "agent", &[&team], &[]).await;
    customer.settle(&conversation).await;
    // A second room has everyone on node 0.
    let other_chat = nodes[0].start_chat(&team, "Olga").await;
    let mut other_customer = nodes[0].ws(&other_chat.token).await;
    other_customer.ok(json!({"type": "subscribe"})).await;
    let mut local_ws = nodes[0].ws(&local.token).await;
    local_ws.pick_up(&other_chat.conversation).await;
    other_customer.settle(&other_chat.conversation).await;

    // The customer writes on while Redis is down for four seconds (long enough for the
    // nodes to count each other gone) and comes back empty: their node owns the
    // conversation, so every post is acknowledged; the room with everyone on node 0 goes
    // on as if nothing happened.
    let mut written = Vec::new();
    for i in 0..30 {
        if i == 10 {
            nodes.redis.kill();
        }
        if i == 20 {
            nodes.redis.start_again();
        }
        let body = format!("customer {i}");
        customer
            .ok(json!({"type": "post", "body": body, "client_id": body}))
            .await;
        written.push(body.clone());
        if (10..20).contains(&i) {
            local_ws
                .ok(json!({"type": "post", "conversation": other_chat.conversation, "body": body}))
                .await;
            assert_eq!(other_customer.until_event("reply").await.0["body"], body);
            tokio::time::sleep(Duration::from_millis(400)).await;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    // The lead, whose live feed crossed Redis, is told to resubscribe (perhaps more than
    // once: both nodes saw their subscription break), and catches up exactly from its
    // last seq each time.
    let mut received: Vec<Value> = until_resync(&mut lead_ws).await;
    resubscribe(&mut lead_ws, &conversation, &mut received).await;
    while received.iter().filter(|e| e["kind"] == "reply").count() < written.len() {
        let frame = lead_ws.next().await;
        match frame["type"].as_str() {
            Some("event") => received.push(frame),
            Some("resync") => resubscribe(&mut lead_ws, &conversation, &mut received).await,
            _ => {}
        }
    }
    let seqs: Vec<u64> = received.iter().filter_map(|e| e["seq"].as_u64()).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(seqs, sorted, "in order, none twice");
    assert_eq!(
        bodies(&received),
        written,
        "every message reached the lead once, in order"
    );

    // Across nodes again once Redis is back. The lead's node may have taken the
    // conversation over meanwhile (it counted the customer's node gone): then the
    // customer is told to resync, and finds it there.
    customer.settle(&conversation).await;
    lead_ws
        .ok(json!({"type": "post", "conversation": conversation, "body": "back"}))
        .await;
    let mut seen = Vec::new();
    loop {
        let frame = customer.next().await;
        if frame["type"] == "resync" {
            resubscribe(&mut customer, &conversation, &mut seen).await;
        } else if frame["type"] == "event" {
            seen.push(frame);
        }
        if seen.iter().any(|e| e["body"] == "back") {
            break;
        }
    }
    let transcript = nodes[1].transcript(&lead.token, &conversation).await;
    assert_gapless(&transcript);
    let counts = reply_counts(&transcript);
    for body in &written {
        assert_eq!(counts.get(body), Some(&1), "{body} is there exactly once");
    }
}

#[actix_rt::test]
async fn two_nodes_racing_to_own_a_stream_end_with_one_owner() {
    let Some(nodes) = Nodes::start(2, &[]).await else {
        return;
    };
    let team = nodes[0].team("support", false).await;
    let ada = nodes[0].staff("Ada", "agent", &[&team], &[]).await;
    let bob = nodes[1].staff("Bob", "agent", &[&team], &[]).await;
    let mut ada_ws = nodes[0].ws(&ada.token).await;
    let mut bob_ws = nodes[1].ws(&bob.token).await;
    for round in 0..10 {
        // Nobody has the conversation in memory: both nodes want it at the same moment,
        // for agents picking it up at once. One history, one lead.
        let chat = nodes[round % 2].start_chat(&team, "Carla").await;
        let conversation = chat.conversation.clone();
        let pick_up = json!({"type": "pick_up", "conversation": conversation});
        let (a, b) = tokio::join!(
            ada_ws.request(pick_up.clone()),
            bob_ws.request(pick_up.clone())
        );
        let winners: Vec<&Value> = [&a, &b].into_iter().filter(|f| f["type"] == "ok").collect();
        assert_eq!(winners.len(), 1, "exactly one lead: {a} {b}");
        let (lead_ws, lead) = if a["type"] == "ok" {
            (&mut ada_ws, "Ada")
        } else {
            (&mut bob_ws, "Bob")
        };
        // The customer, on the other node from where the chat started, hears the lead.
        let mut customer = nodes[(round + 1) % 2].ws(&chat.token).await;
        customer.ok(json!({"type": "subscribe"})).await;
        lead_ws
            .ok(json!({"type": "post", "conversation": conversation, "body": format!("hello from {lead}")}))
            .await;
        let (reply, _) = customer.until_event("reply").await;
        assert_eq!(reply["body"], format!("hello from {lead}"));
        let transcript = nodes[1].transcript(&ada.token, &conversation).await;
        assert_gapless(&transcript);
        assert_eq!(
            transcript.iter().filter(|e| e["kind"] == "joined").count(),
            1
        );
        ada_ws.settle(&conversation).await;
        bob_ws.settle(&conversation).await;
    }
}

#[actix_rt::test]
async fn queue_figures_routing_and_team_offers_span_the_nodes() {
    let Some(nodes) = Nodes::start(3, &[]).await else {
        return;
    };
    let team = nodes[0].team("support", false).await;
    let ana = nodes[1].staff("Ana", "agent", &[&team], &[]).await;
    let ben = nodes[2].staff("Ben", "agent", &[&team], &[]).await;
    let sam = nodes[0].staff("Sam", "supervisor", &[&team], &[]).await;
    let (status, routing) = nodes[0]
        .call(
            "PUT",
            "/api/teams/support/routing",
            Some(&nodes[0].admin),
            Some(json!({"mode": "auto", "capacity": 1})),
        )
        .await;
    assert_eq!(status, 200, "{routing}");

    // Sam watches the queue on node 0; the agents are online on nodes 1 and 2.
    let mut board = nodes[0].ws(&sam.token).await;
    board
        .ok(json!({"type": "watch_queue", "team": "support"}))
        .await;
    let mut ana_ws = nodes[1].ws(&ana.token).await;
    let mut ben_ws = nodes[2].ws(&ben.token).await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // every node hears who is where

    // A chat comes in through node 2 and its customer writes there: node 0's board counts
    // it, and routing (on whichever node routes the team) offers it to an agent.
    let first = nodes[2].start_chat(&team, "Carla").await;
    let mut customer = nodes[2].ws(&first.token).await;
    customer.ok(json!({"type": "subscribe"})).await;
    for text in ["Hello?", "My order is late"] {
        customer.ok(json!({"type": "post", "body": text})).await;
    }
    let figures = board.queue_until(|f| f["unreplied"] == 2).await;
    assert_eq!(figures["waiting"], 1);

    let second = nodes[1].start_chat(&team, "Dora").await;
    let mut offers = std::collections::BTreeSet::new();
    for ws in [&mut ana_ws, &mut ben_ws] {
        offers.insert(ws.offered().await);
    }
    assert_eq!(
        offers,
        [first.conversation.clone(), second.conversation.clone()]
            .into_iter()
            .collect(),
        "one each: each agent has room for one"
    );
    // Whoever got the first takes it and answers it, from their own node.
    let (taker, taker_node) = {
        let ana_has_first = nodes[1].get_ok("/api/inbox?tab=mine", &ana.token).await
            ["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == json!(first.conversation));
        if ana_has_first {
            (&mut ana_ws, 1)
        } else {
            (&mut ben_ws, 2)
        }
    };
    let mine = nodes[taker_node]
        .get_ok(
            "/api/inbox?tab=mine",
            if taker_node == 1 {
                &ana.token
            } else {
                &ben.token
            },
        )
        .await;
    let row = mine["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == json!(first.conversation))
        .unwrap()
        .clone();
    assert_eq!(row["unreplied"], 2, "{mine}");
    customer.settle(&first.conversation).await;
    taker
        .ok(json!({"type": "join", "conversation": first.conversation}))
        .await;
    taker
        .ok(json!({"type": "post", "conversation": first.conversation, "body": "On it"}))
        .await;
    assert_eq!(customer.until_event("reply").await.0["body"], "On it");
    board
        .queue_until(|f| f["unreplied"] == 0 && f["waiting"] == 1)
        .await;

    // A team-wide invitation reaches everyone online, on every node; the first to accept
    // gets in, the other is told it went.
    taker
        .ok(json!({"type": "invite", "conversation": first.conversation, "target": {"kind": "team", "id": team}, "mode": "participant"}))
        .await;
    let other = if taker_node == 1 {
        &mut ben_ws
    } else {
        &mut ana_ws
    };
    let offer = loop {
        let frame = other.next().await;
        if frame["type"] == "invitation" {
            break frame;
        }
    };
    other
        .ok(json!({"type": "accept", "conversation": first.conversation, "invitation": offer["invitation"]}))
        .await;
    let (joined, _) = customer.until_event("joined").await;
    assert_eq!(joined["mode"], "participant");
}

#[actix_rt::test]
async fn disabling_an_account_on_one_node_closes_its_sessions_on_every_node() {
    let Some(nodes) = Nodes::start(2, &[]).await else {
        return;
    };
    let alice = nodes[0].staff("Alice", "agent", &[], &[]).await;
    let here = nodes[0].ws(&alice.token).await;
    let there = nodes[1].ws(&alice.token).await;
    let path = format!("/api/users/{}", alice.id);
    let (status, body) = nodes[0]
        .call(
            "PATCH",
            &path,
            Some(&nodes[0].admin),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for socket in [here, there] {
        let (frames, code) = socket.frames_until_close().await;
        assert_eq!(code, Some(1008), "{frames:?}");
    }
}
