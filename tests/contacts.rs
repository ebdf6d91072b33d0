//! Contacts with real clients: a returning visitor proven by their site's signature keeps
//! their history and can read and answer all of it, an unsigned claim gets nothing, and staff
//! see the contact across conversations, as far as they may.

mod common;

use common::TestApp;
use conclave::auth::contact_signature;
use serde_json::json;

#[actix_rt::test]
async fn a_signed_returning_contact_keeps_their_history_and_an_unsigned_claim_gets_nothing() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    app.team("vip", true).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let (status, made) = app
        .call(
            "POST",
            "/api/teams/support/identity-secret",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["identity_secret"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            "POST",
            "/api/teams/support/identity-secret",
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(status, 403, "only admins make secrets");

    // Carla chats for the first time, as the site's customer "cust-42".
    let signed = |name: &str| {
        json!({"team": "support", "display_name": name, "email": "carla@example.com",
               "external_id": "cust-42", "signature": contact_signature(&secret, "cust-42")})
    };
    let (status, first) = app
        .call("POST", "/api/chats", None, Some(signed("Carla")))
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["returning"], false);
    let first_conv = first["conversation"].as_str().unwrap().to_owned();
    let contact = first["customer"].as_str().unwrap().to_owned();
    let mut carla = app.ws(first["token"].as_str().unwrap()).await;
    carla.ok(json!({"type": "subscribe"})).await;
    carla
        .ok(json!({"type": "post", "body": "Where is order 42?"}))
        .await;

    // Staff meet her by name and email everywhere.
    let mut lead = app.ws(&alice.token).await;
    lead.pick_up(&first_conv).await;
    lead.ok(json!({"type": "post", "conversation": first_conv, "body": "Shipped today"}))
        .await;
    lead.ok(json!({"type": "close", "conversation": first_conv}))
        .await;
    let listed = app.get_ok("/api/conversations", &alice.token).await;
    assert_eq!(listed[0]["customer_email"], "carla@example.com");
    assert_eq!(listed[0]["customer_name"], "Carla");

    // Someone guessing her id, unsigned or with a made-up signature, gets nothing.
    for forged in [
        json!({"team": "support", "display_name": "Mallory", "external_id": "cust-42"}),
        json!({"team": "support", "display_name": "Mallory", "external_id": "cust-42",
               "signature": contact_signature("guessed", "cust-42")}),
        json!({"team": "support", "display_name": "Mallory", "external_id": "cust-42",
               "signature": "not hex"}),
    ] {
        let (status, refused) = app.call("POST", "/api/chats", None, Some(forged)).await;
        assert_eq!(
            (status, refused["error"]["code"].clone()),
            (403, json!("bad_signature"))
        );
    }
    // A visitor who claims nothing is a new contact.
    let stranger = app.start_chat("support", "Mallory").await;
    assert_ne!(stranger.customer, contact);

    // Carla returns on another device: recognised, with a new conversation after her last.
    let (status, again) = app
        .call("POST", "/api/chats", None, Some(signed("Carla B.")))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["returning"], true);
    assert_eq!(again["customer"], json!(contact));
    let second_conv = again["conversation"].as_str().unwrap().to_owned();
    assert_ne!(second_conv, first_conv);
    let token = again["token"].as_str().unwrap().to_owned();
    let detail = app
        .get_ok(&format!("/api/conversations/{second_conv}"), &token)
        .await;
    assert_eq!(detail["previous"], json!(first_conv));
    assert_eq!(detail["customer_name"], "Carla B.");

    // She reads her earlier conversation over the WebSocket and REST alike.
    let mut device = app.ws(&token).await;
    device
        .ok(json!({"type": "history", "conversation": first_conv}))
        .await;
    let page = device.expect("history").await;
    let bodies: Vec<_> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Where is order 42?", "Shipped today"]);
    device
        .ok(json!({"type": "subscribe", "conversation": first_conv}))
        .await;
    device.take_received();
    let transcript = app.transcript(&token, &first_conv).await;
    assert!(transcript.iter().any(|e| e["body"] == "Shipped today"));
    // Someone else's conversation stays closed to her.
    device
        .refused(
            json!({"type": "history", "conversation": stranger.conversation}),
            "not_your_conversation",
        )
        .await;

    // Alice reopens the earlier conversation; Carla answers it there.
    lead.ok(json!({"type": "reopen", "conversation": first_conv}))
        .await;
    device
        .ok(json!({"type": "post", "conversation": first_conv, "body": "It did not arrive"}))
        .await;
    loop {
        let (answer, _) = lead.until_event("reply").await;
        if answer["body"] == "It did not arrive" {
            assert_eq!(answer["author"]["id"], json!(contact));
            break;
        }
    }

    // Staff see the contact across conversations, as far as they may.
    let seen = app
        .get_ok(&format!("/api/contacts/{contact}"), &alice.token)
        .await;
    assert_eq!(seen["name"], "Carla B.");
    assert_eq!(seen["email"], "carla@example.com");
    assert_eq!(seen["external_id"], "cust-42");
    assert_eq!(seen["conversations"].as_array().unwrap().len(), 2);
    assert_eq!(seen["hidden_conversations"], 0);
    // She also writes to the restricted VIP team, which Alice is not in.
    let (status, _) = app
        .call(
            "POST",
            "/api/chats",
            None,
            Some(
                json!({"team": "vip", "display_name": "Carla", "external_id": "cust-42",
                        "signature": contact_signature(&secret, "cust-42")}),
            ),
        )
        .await;
    assert_eq!(
        status, 400,
        "the VIP team has no identity secret of its own"
    );
    let (status, vip_secret) = app
        .call(
            "POST",
            "/api/teams/vip/identity-secret",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(status, 201);
    let vip_secret = vip_secret["identity_secret"].as_str().unwrap().to_owned();
    let (status, vip) = app
        .call(
            "POST",
            "/api/chats",
            None,
            Some(
                json!({"team": "vip", "display_name": "Carla", "external_id": "cust-42",
                        "signature": contact_signature(&vip_secret, "cust-42")}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{vip}");
    let seen = app
        .get_ok(&format!("/api/contacts/{contact}"), &alice.token)
        .await;
    assert_eq!(seen["conversations"].as_array().unwrap().len(), 2);
    assert_eq!(
        seen["hidden_conversations"], 1,
        "not viewable due to permissions"
    );
    let text = seen.to_string();
    assert!(!text.contains(vip["conversation"].as_str().unwrap()));
    let all = app
        .get_ok(&format!("/api/contacts/{contact}"), &app.admin)
        .await;
    assert_eq!(all["conversations"].as_array().unwrap().len(), 3);
    // A customer reads their own contact, nobody else's.
    let own = app
        .get_ok(&format!("/api/contacts/{contact}"), &token)
        .await;
    assert_eq!(own["conversations"].as_array().unwrap().len(), 3);
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/contacts/{contact}"),
            Some(&stranger.token),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[actix_rt::test]
async fn a_contacts_defaults_assign_and_restrict_each_new_conversation_before_routing_looks() {
    let app = TestApp::start().await;
    let team = app.team("support", false).await;
    let alice = app.staff("Alice", "agent", &[&team], &[]).await;
    let bob = app.staff("Bob", "agent", &[&team], &[]).await;
    let sam = app.staff("Sam", "supervisor", &[&team], &[]).await;
    let (_, made) = app
        .call(
            "POST",
            "/api/teams/support/identity-secret",
            Some(&app.admin),
            None,
        )
        .await;
    let secret = made["identity_secret"].as_str().unwrap().to_owned();
    let carla = json!({"team": "support", "display_name": "Carla", "external_id": "key-account-7",
                       "signature": contact_signature(&secret, "key-account-7")});
    let (status, first) = app
        .call("POST", "/api/chats", None, Some(carla.clone()))
        .await;
    assert_eq!(status, 201, "{first}");
    let contact = first["customer"].as_str().unwrap().to_owned();
    let defaults = format!("/api/contacts/{contact}/defaults");

    // Carla is a key account: Sam makes Alice her agent, and her chats Alice's alone.
    let (status, refused) = app
        .call(
            "PUT",
            &defaults,
            Some(&bob.token),
            Some(json!({"assignees": [bob.id]})),
        )
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("may_not_assign"))
    );
    let (status, refused) = app
        .call(
            "PUT",
            &defaults,
            Some(&sam.token),
            Some(json!({"assignees": [bob.id], "viewers": [alice.id]})),
        )
        .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("assignee_cannot_view")),
        "an assignee off the list could never open it"
    );
    let (status, refused) = app
        .call(
            "PUT",
            &defaults,
            Some(&sam.token),
            Some(json!({"assignees": [contact]})),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let (status, set) = app
        .call(
            "PUT",
            &defaults,
            Some(&sam.token),
            Some(json!({"assignees": [alice.id], "viewers": [alice.id]})),
        )
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["assignees"], json!([{"id": alice.id, "name": "Alice"}]));
    assert_eq!(set["set_by"]["name"], "Sam");
    let names: Vec<_> = set["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Alice") && names.contains(&"Sam"), "{set}");
    let seen = app
        .get_ok(&format!("/api/contacts/{contact}"), &sam.token)
        .await;
    assert_eq!(seen["defaults"], set);
    let seen = app
        .get_ok(&format!("/api/contacts/{contact}"), &alice.token)
        .await;
    assert!(seen.get("defaults").is_none(), "agents are not shown them");

    // The team routes automatically, and both agents are online with room to spare.
    let (status, _) = app
        .call(
            "PUT",
            "/api/teams/support/routing",
            Some(&app.admin),
            Some(json!({"mode": "auto", "capacity": 3})),
        )
        .await;
    assert_eq!(status, 200);
    let mut admin_ws = app.ws(&app.admin).await;
    admin_ws
        .ok(json!({"type": "close", "conversation": first["conversation"]}))
        .await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    alice_ws.take_received();
    bob_ws.take_received();

    // Carla comes back: her new conversation is Alice's from its first moment.
    let (status, again) = app.call("POST", "/api/chats", None, Some(carla)).await;
    assert_eq!(status, 201, "{again}");
    let conv = again["conversation"].as_str().unwrap().to_owned();
    let notice = alice_ws.expect("assigned").await;
    assert_eq!(notice["conversation"], json!(conv));
    assert_eq!(notice["by"], "Sam (contact defaults)");
    assert_eq!(notice["customer_name"], "Carla");
    // Routing goes on with the next chat, which goes to Bob, the less busy one; of
    // Carla's, Bob hears nothing at all.
    let dan = app.start_chat("support", "Dan").await;
    let offer = bob_ws.expect("assigned").await;
    assert_eq!(offer["conversation"], json!(dan.conversation));
    assert_eq!(offer["by"], "automatic routing");
    bob_ws
        .ok(json!({"type": "set_availability", "availability": "online"}))
        .await;
    let heard = bob_ws.take_received();
    assert!(
        heard.iter().all(|f| !f.to_string().contains(&conv)),
        "{heard:?}"
    );
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/conversations/{conv}"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let inbox = app.get_ok("/api/inbox", &bob.token).await;
    assert!(!inbox.to_string().contains(&conv), "{inbox}");
    assert_eq!(
        inbox["counts"]["all"], 2,
        "Dan's and Carla's first only: {inbox}"
    );
    let mine = app.get_ok("/api/inbox?tab=mine", &alice.token).await;
    assert_eq!(mine["conversations"][0]["id"], json!(conv), "{mine}");

    // Alice takes it from her inbox and answers Carla.
    alice_ws
        .ok(json!({"type": "join", "conversation": conv}))
        .await;
    alice_ws
        .ok(json!({"type": "post", "conversation": conv, "body": "Hi Carla, Alice here"}))
        .await;
    let mut carla_ws = app.ws(again["token"].as_str().unwrap()).await;
    carla_ws
        .ok(json!({"type": "history", "conversation": conv}))
        .await;
    let page = carla_ws.expect("history").await;
    let kinds: Vec<_> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["opened", "joined", "reply"],
        "no staff events: {page}"
    );

    // Cleared, the defaults are gone.
    let (status, cleared) = app
        .call("PUT", &defaults, Some(&sam.token), Some(json!({})))
        .await;
    assert_eq!((status, cleared), (200, serde_json::Value::Null));
    let seen = app
        .get_ok(&format!("/api/contacts/{contact}"), &sam.token)
        .await;
    assert_eq!(seen["defaults"], serde_json::Value::Null);
}
