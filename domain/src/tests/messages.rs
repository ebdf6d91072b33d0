//! Unit tests of the message rules: quotes, mentions, edits, deletes and reactions by every
//! role × seat and by the customer, with the exact refusals; what the customer sees of each
//! new kind of event; and how later state shows on messages read back.

use super::*;
use crate::message::{mention_tokens, show_later, snippet, valid_emoji, MessageEventMut};
use std::collections::BTreeMap;

/// How long the customer may change their own replies in these tests.
const WINDOW: i64 = 5 * 60_000;

/// Records a message by `author` at `at` and returns its seq.
fn post_as(room: &mut Room, author: Author, kind: PostKind, body: &str, at: i64) -> u64 {
    let seq = room.last_seq + 1;
    let message = Message::text(body);
    let kind = match kind {
        PostKind::Note => EventKind::Note(message),
        _ => EventKind::Reply(message),
    };
    room.apply(&Event {
        author,
        at,
        ..recorded(room.id, seq, kind)
    });
    seq
}

/// Applies what an action decided, by `author`.
fn apply_by(room: &mut Room, author: Author, kinds: Vec<EventKind>) {
    for kind in kinds {
        let seq = room.last_seq + 1;
        room.apply(&Event {
            author,
            ..recorded(room.id, seq, kind)
        });
    }
}

/// A scene (see [`scene`]) with messages in it: a customer reply, the lead's reply and
/// note, and a reply and a note by the actor (written, for the seats that cannot post now,
/// as though they could when they wrote them).
struct Talk {
    s: Scene,
    customer_reply: u64,
    lead_reply: u64,
    lead_note: u64,
    own_reply: u64,
    own_note: u64,
}

fn talk(role: Role, seat: Seat) -> Talk {
    let mut s = scene(role, seat);
    let customer = Author::Customer(s.room.customer);
    let lead = Author::Staff(s.lead.id);
    let me = Author::Staff(s.actor.id);
    let customer_reply = post_as(&mut s.room, customer, PostKind::Reply, "my order", NOW);
    let lead_reply = post_as(&mut s.room, lead, PostKind::Reply, "on it", NOW);
    let lead_note = post_as(&mut s.room, lead, PostKind::Note, "vip", NOW);
    let own_reply = post_as(&mut s.room, me, PostKind::Reply, "hello", NOW);
    let own_note = post_as(&mut s.room, me, PostKind::Note, "hmm", NOW);
    Talk {
        s,
        customer_reply,
        lead_reply,
        lead_note,
        own_reply,
        own_note,
    }
}

fn draft(kind: PostKind, body: &str, quote: Option<u64>) -> Draft {
    Draft {
        quote,
        ..Draft::text(kind, body)
    }
}

fn posted(outcome: Result<PostOutcome, RuleError>) -> Result<Message, RuleError> {
    match outcome? {
        PostOutcome::Post(EventKind::Reply(m) | EventKind::Note(m)) => Ok(m),
        other => panic!("not a post: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Edit
// ---------------------------------------------------------------------------------------------

#[test]
fn staff_edit_their_own_messages_from_a_seat_that_may_speak() {
    for role in Role::ALL {
        for seat in SEATS {
            let t = talk(role, seat);
            let me = Party::Staff(&t.s.actor);
            for (target, on) in [(t.own_reply, PostKind::Reply), (t.own_note, PostKind::Note)] {
                let got = t.s.room.edit(me, target, "better", &[], WINDOW, NOW);
                let expected = match speaker_refusal(seat) {
                    Some(why) => Err(why),
                    None => Ok(vec![EventKind::Edited(Edit {
                        target,
                        on,
                        body: "better".into(),
                        mentions: vec![],
                    })]),
                };
                assert_eq!(got, expected, "{role:?} {seat:?} {on:?}");
            }
            // Long after posting too: staff have no edit window.
            let late =
                t.s.room
                    .edit(me, t.own_reply, "x", &[], WINDOW, NOW + 10 * WINDOW);
            assert_eq!(late.is_ok(), speaker_refusal(seat).is_none());
        }
    }
}

#[test]
fn nobody_edits_someone_elses_message_not_even_an_admin() {
    for role in Role::ALL {
        for seat in [Seat::Lead, Seat::Participant] {
            let t = talk(role, seat);
            let me = Party::Staff(&t.s.actor);
            // The lead's note is the actor's own when the actor leads.
            let others = match seat {
                Seat::Lead => vec![t.customer_reply],
                _ => vec![t.customer_reply, t.lead_note],
            };
            for target in others {
                assert_eq!(
                    t.s.room.edit(me, target, "mine now", &[], WINDOW, NOW),
                    Err(RuleError::NotYourMessage),
                    "{role:?} {seat:?}"
                );
            }
        }
    }
}

#[test]
fn edits_need_a_message_text_and_an_open_conversation() {
    let t = talk(Role::Agent, Seat::Participant);
    let me = Party::Staff(&t.s.actor);
    let room = &t.s.room;
    assert_eq!(
        room.edit(me, t.own_reply, "  ", &[], WINDOW, NOW),
        Err(RuleError::EmptyMessage)
    );
    assert_eq!(
        room.edit(me, 2, "x", &[], WINDOW, NOW),
        Err(RuleError::NoSuchMessage),
        "seq 2 is a join, not a message"
    );
    assert_eq!(
        room.edit(me, 999, "x", &[], WINDOW, NOW),
        Err(RuleError::NoSuchMessage)
    );
    let closed_room = closed(room.clone());
    assert_eq!(
        closed_room.edit(me, t.own_reply, "x", &[], WINDOW, NOW),
        Err(RuleError::ConversationClosed)
    );
}

#[test]
fn the_customer_edits_their_own_replies_within_the_window_and_never_sees_a_note() {
    let t = talk(Role::Agent, Seat::Lead);
    let room = &t.s.room;
    let customer = Party::Customer(room.customer);
    assert_eq!(
        room.edit(
            customer,
            t.customer_reply,
            "my order #5",
            &[],
            WINDOW,
            NOW + WINDOW
        ),
        Ok(vec![EventKind::Edited(Edit {
            target: t.customer_reply,
            on: PostKind::Reply,
            body: "my order #5".into(),
            mentions: vec![],
        })])
    );
    assert_eq!(
        room.edit(
            customer,
            t.customer_reply,
            "late",
            &[],
            WINDOW,
            NOW + WINDOW + 1
        ),
        Err(RuleError::EditWindowPassed)
    );
    assert_eq!(
        room.edit(customer, t.lead_reply, "x", &[], WINDOW, NOW),
        Err(RuleError::NotYourMessage)
    );
    // A note's seq is answered exactly like a seq where nothing was posted.
    for target in [t.lead_note, t.own_note, 999] {
        assert_eq!(
            room.edit(customer, target, "x", &[], WINDOW, NOW),
            Err(RuleError::NoSuchMessage)
        );
    }
    let other = Party::Customer(CustomerId::generate());
    assert_eq!(
        room.edit(other, t.customer_reply, "x", &[], WINDOW, NOW),
        Err(RuleError::Forbidden)
    );
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

#[test]
fn staff_delete_their_own_messages_and_admins_anyones_from_any_seat() {
    for role in Role::ALL {
        for seat in SEATS {
            let t = talk(role, seat);
            let me = Party::Staff(&t.s.actor);
            let room = &t.s.room;
            let own = room.delete_message(me, t.own_note, WINDOW, NOW);
            let others = room.delete_message(me, t.customer_reply, WINDOW, NOW);
            if role == Role::Admin {
                assert_eq!(
                    own,
                    Ok(vec![EventKind::Deleted(Deletion {
                        target: t.own_note,
                        on: PostKind::Note,
                        attachments: vec![],
                    })])
                );
                assert!(others.is_ok(), "{seat:?}");
                // Admins moderate closed conversations too.
                let closed_room = closed(room.clone());
                assert!(closed_room
                    .delete_message(me, t.lead_reply, WINDOW, NOW)
                    .is_ok());
            } else {
                let expected_own = speaker_refusal(seat).map_or(Ok(()), Err);
                assert_eq!(own.map(|_| ()), expected_own, "{role:?} {seat:?}");
                let expected_others = speaker_refusal(seat).unwrap_or(RuleError::NotYourMessage);
                assert_eq!(others, Err(expected_others), "{role:?} {seat:?}");
                let closed_room = closed(room.clone());
                assert_eq!(
                    closed_room.delete_message(me, t.own_note, WINDOW, NOW),
                    Err(RuleError::ConversationClosed)
                );
            }
        }
    }
}

#[test]
fn an_admin_of_another_team_cannot_moderate_a_restricted_conversation() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let mut room = room_with(team, true, &[(&lead, Mode::Lead)]);
    let seq = post_as(&mut room, Author::Staff(lead.id), PostKind::Note, "x", NOW);
    // Admins view every team, so they may; a supervisor of another team may not.
    let admin = staff(Role::Admin, &[], &[]);
    assert!(room
        .delete_message(Party::Staff(&admin), seq, WINDOW, NOW)
        .is_ok());
    let supervisor = staff(Role::Supervisor, &[], &[]);
    assert_eq!(
        room.delete_message(Party::Staff(&supervisor), seq, WINDOW, NOW),
        Err(RuleError::NotAParticipant)
    );
}

#[test]
fn the_customer_deletes_their_own_replies_within_the_window() {
    let t = talk(Role::Agent, Seat::Lead);
    let room = &t.s.room;
    let customer = Party::Customer(room.customer);
    assert!(room
        .delete_message(customer, t.customer_reply, WINDOW, NOW)
        .is_ok());
    assert_eq!(
        room.delete_message(customer, t.customer_reply, WINDOW, NOW + WINDOW + 1),
        Err(RuleError::EditWindowPassed)
    );
    assert_eq!(
        room.delete_message(customer, t.lead_reply, WINDOW, NOW),
        Err(RuleError::NotYourMessage)
    );
    assert_eq!(
        room.delete_message(customer, t.lead_note, WINDOW, NOW),
        Err(RuleError::NoSuchMessage)
    );
}

#[test]
fn a_deleted_message_is_a_tombstone_nobody_can_change_and_its_files_go_with_it() {
    let t = talk(Role::Agent, Seat::Lead);
    let mut room = t.s.room.clone();
    let lead = Party::Staff(&t.s.actor);
    let file = AttachmentId::generate();
    let seq = room.last_seq + 1;
    room.apply(&Event {
        author: Author::Staff(t.s.actor.id),
        ..recorded(
            room.id,
            seq,
            EventKind::Note(Message {
                attachments: vec![Attachment {
                    id: file,
                    name: "a.pdf".into(),
                    content_type: "application/pdf".into(),
                    size: 10,
                    width: None,
                    height: None,
                }],
                ..Message::default()
            }),
        )
    });
    let deleted = room.delete_message(lead, seq, WINDOW, NOW).unwrap();
    assert_eq!(
        deleted,
        vec![EventKind::Deleted(Deletion {
            target: seq,
            on: PostKind::Note,
            attachments: vec![file],
        })]
    );
    apply_by(&mut room, Author::Staff(t.s.actor.id), deleted);
    assert_eq!(
        room.edit(lead, seq, "x", &[], WINDOW, NOW),
        Err(RuleError::MessageDeleted)
    );
    assert_eq!(
        room.delete_message(lead, seq, WINDOW, NOW),
        Err(RuleError::MessageDeleted)
    );
    assert_eq!(
        room.react(lead, seq, "👍", true),
        Err(RuleError::MessageDeleted)
    );
    assert_eq!(
        posted(room.post(lead, draft(PostKind::Note, "re", Some(seq)), &[])),
        Err(RuleError::MessageDeleted)
    );
    assert!(room.messages.get(seq).unwrap().attachments.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Reactions
// ---------------------------------------------------------------------------------------------

#[test]
fn staff_who_may_speak_react_to_any_message_and_monitors_stay_silent() {
    for role in Role::ALL {
        for seat in SEATS {
            let t = talk(role, seat);
            let me = Party::Staff(&t.s.actor);
            for target in [t.customer_reply, t.lead_note] {
                let got = t.s.room.react(me, target, "👍", true);
                match speaker_refusal(seat) {
                    Some(why) => assert_eq!(got, Err(why), "{role:?} {seat:?}"),
                    None => {
                        let [EventKind::Reacted(r)] = &got.unwrap()[..] else {
                            panic!("one reaction event")
                        };
                        assert_eq!(r.reactions.len(), 1);
                        assert_eq!(r.reactions[0].by, vec![Author::Staff(t.s.actor.id)]);
                    }
                }
            }
        }
    }
}

#[test]
fn reactions_aggregate_one_per_person_per_emoji() {
    let t = talk(Role::Agent, Seat::Participant);
    let mut room = t.s.room.clone();
    let me = Author::Staff(t.s.actor.id);
    let lead = Author::Staff(t.s.lead.id);
    let customer = Author::Customer(room.customer);
    let target = t.lead_reply;
    let react = |room: &mut Room, author: Author, party: Party<'_>, emoji: &str, added| {
        let events = room.react(party, target, emoji, added)?;
        let reactions = match &events[..] {
            [EventKind::Reacted(r)] => r.reactions.clone(),
            _ => panic!("one reaction event"),
        };
        apply_by(room, author, events);
        Ok::<_, RuleError>(reactions)
    };
    let actor = t.s.actor.clone();
    let lead_staff = t.s.lead.clone();
    let customer_id = room.customer;
    react(&mut room, me, Party::Staff(&actor), "👍", true).unwrap();
    react(&mut room, lead, Party::Staff(&lead_staff), "👍", true).unwrap();
    let now = react(
        &mut room,
        customer,
        Party::Customer(customer_id),
        "🎉",
        true,
    )
    .unwrap();
    assert_eq!(
        now,
        vec![
            Reaction {
                emoji: "👍".into(),
                count: 2,
                by: vec![me, lead]
            },
            Reaction {
                emoji: "🎉".into(),
                count: 1,
                by: vec![customer]
            },
        ]
    );
    assert_eq!(
        room.react(Party::Staff(&actor), target, "👍", true),
        Err(RuleError::AlreadyReacted)
    );
    let now = react(&mut room, me, Party::Staff(&actor), "👍", false).unwrap();
    assert_eq!(now[0].count, 1);
    assert_eq!(now[0].by, vec![lead]);
    assert_eq!(
        room.react(Party::Staff(&actor), target, "👍", false),
        Err(RuleError::NotReacted)
    );
    let now = react(
        &mut room,
        customer,
        Party::Customer(customer_id),
        "🎉",
        false,
    )
    .unwrap();
    assert_eq!(now.len(), 1, "an emoji nobody holds any more is gone");
    assert_eq!(room.messages.get(target).unwrap().reactions, now);
}

#[test]
fn a_message_holds_a_bounded_number_of_different_emoji() {
    let t = talk(Role::Agent, Seat::Lead);
    let mut room = t.s.room.clone();
    let me = Party::Staff(&t.s.actor);
    for i in 0..crate::message::MAX_EMOJI_PER_MESSAGE {
        let events = room
            .react(me, t.lead_note, &format!(":e{i}:"), true)
            .unwrap();
        apply_by(&mut room, Author::Staff(t.s.actor.id), events);
    }
    assert_eq!(
        room.react(me, t.lead_note, ":one_more:", true),
        Err(RuleError::TooManyReactions)
    );
}

#[test]
fn the_customer_reacts_to_replies_only_and_a_note_does_not_exist_for_them() {
    let t = talk(Role::Agent, Seat::Lead);
    let room = &t.s.room;
    let customer = Party::Customer(room.customer);
    assert!(room.react(customer, t.lead_reply, "👍", true).is_ok());
    assert_eq!(
        room.react(customer, t.lead_note, "👍", true),
        Err(RuleError::NoSuchMessage)
    );
    assert_eq!(
        closed(room.clone()).react(customer, t.lead_reply, "👍", true),
        Err(RuleError::ConversationClosed)
    );
}

#[test]
fn a_reaction_is_one_emoji_or_a_short_code() {
    for good in ["👍", "👍🏽", "❤️", "🇫🇷", ":thumbs_up:", ":+1:", "👨‍👩‍👧"]
    {
        assert_eq!(valid_emoji(good), Ok(()), "{good}");
    }
    let long = "👍".repeat(20);
    for bad in [
        "",
        " ",
        "ok",
        "a👍",
        ":Thumbs:",
        "::",
        ":a b:",
        "👍 👍",
        "<b>",
        &long,
    ] {
        assert_eq!(valid_emoji(bad), Err(RuleError::InvalidEmoji), "{bad:?}");
    }
    let t = talk(Role::Agent, Seat::Lead);
    assert_eq!(
        t.s.room
            .react(Party::Staff(&t.s.actor), t.lead_note, "lol", true),
        Err(RuleError::InvalidEmoji)
    );
}

// ---------------------------------------------------------------------------------------------
// Quotes
// ---------------------------------------------------------------------------------------------

#[test]
fn a_post_quotes_an_earlier_message_with_a_snippet_and_a_reply_never_quotes_a_note() {
    let t = talk(Role::Agent, Seat::Participant);
    let room = &t.s.room;
    let me = Party::Staff(&t.s.actor);
    let quoted = posted(room.post(
        me,
        draft(PostKind::Reply, "sure", Some(t.customer_reply)),
        &[],
    ))
    .unwrap()
    .quote
    .unwrap();
    assert_eq!(
        quoted,
        Quote {
            seq: t.customer_reply,
            author: Author::Customer(room.customer),
            snippet: "my order".into(),
            deleted: false,
        }
    );
    assert!(posted(room.post(me, draft(PostKind::Note, "why", Some(t.lead_note)), &[])).is_ok());
    assert!(posted(room.post(me, draft(PostKind::Note, "fyi", Some(t.lead_reply)), &[])).is_ok());
    assert_eq!(
        posted(room.post(
            me,
            draft(PostKind::Reply, "as noted", Some(t.lead_note)),
            &[]
        )),
        Err(RuleError::ReplyCannotQuoteNote)
    );
    assert_eq!(
        posted(room.post(me, draft(PostKind::Note, "?", Some(2)), &[])),
        Err(RuleError::NoSuchMessage)
    );
}

#[test]
fn the_customer_quotes_replies_and_a_notes_seq_is_no_message_to_them() {
    let t = talk(Role::Agent, Seat::Lead);
    let room = &t.s.room;
    let customer = Party::Customer(room.customer);
    assert!(posted(room.post(
        customer,
        draft(PostKind::Reply, "yes", Some(t.lead_reply)),
        &[]
    ))
    .is_ok());
    for seq in [t.lead_note, 999] {
        assert_eq!(
            posted(room.post(customer, draft(PostKind::Reply, "?", Some(seq)), &[])),
            Err(RuleError::NoSuchMessage)
        );
    }
    // After close, the message starts a follow-up, which cannot carry the old room's quote.
    let closed_room = closed(room.clone());
    assert_eq!(
        closed_room.post(
            customer,
            draft(PostKind::Reply, "again", Some(t.lead_reply)),
            &[]
        ),
        Err(RuleError::ConversationClosed)
    );
}

#[test]
fn a_snippet_is_the_start_of_the_text() {
    assert_eq!(snippet("  short  "), "short");
    let long = "é".repeat(200);
    let cut = snippet(&long);
    assert_eq!(cut.chars().count(), crate::message::SNIPPET_CHARS + 1);
    assert!(cut.ends_with('…'));
}

// ---------------------------------------------------------------------------------------------
// Mentions
// ---------------------------------------------------------------------------------------------

#[test]
fn mentions_are_read_from_at_names_and_emails() {
    assert_eq!(
        mention_tokens("@ana can you look? cc @Bob.Smith, and @ana again."),
        vec!["ana", "bob.smith"]
    );
    assert_eq!(
        mention_tokens("ask @carl@example.com or mail dan@example.com"),
        vec!["carl@example.com"]
    );
    assert!(mention_tokens("no one @ all, email@x.y, @@, @, @.").is_empty());
    assert_eq!(mention_tokens("(@eve)"), vec!["eve"]);
}

#[test]
fn staff_mention_colleagues_who_may_view_the_conversation_and_no_one_else() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let teammate = staff(Role::Agent, &[team], &[]);
    let outsider = staff(Role::Agent, &[], &[]);
    let admin = staff(Role::Admin, &[], &[]);
    for restricted in [false, true] {
        let room = room_with(team, restricted, &[(&lead, Mode::Lead)]);
        let me = Party::Staff(&lead);
        let message = posted(room.post(
            me,
            Draft::text(PostKind::Note, "@mate"),
            std::slice::from_ref(&teammate),
        ))
        .unwrap();
        assert_eq!(
            message.mentions,
            vec![Mention {
                user: teammate.id,
                name: teammate.display_name.clone()
            }]
        );
        assert!(posted(room.post(
            me,
            Draft::text(PostKind::Note, "@a"),
            std::slice::from_ref(&admin)
        ))
        .is_ok());
        let outside = posted(room.post(
            me,
            Draft::text(PostKind::Note, "@out"),
            std::slice::from_ref(&outsider),
        ));
        if restricted {
            assert_eq!(outside, Err(RuleError::MentionNotAllowed));
        } else {
            assert!(outside.is_ok());
        }
        // The same rule holds for an edit.
        let mut room = room.clone();
        let seq = post_as(&mut room, Author::Staff(lead.id), PostKind::Note, "x", NOW);
        let edit = room.edit(
            me,
            seq,
            "@out",
            std::slice::from_ref(&outsider),
            WINDOW,
            NOW,
        );
        assert_eq!(edit.is_err(), restricted);
    }
}

#[test]
fn a_customers_message_mentions_nobody() {
    let team = TeamId::generate();
    let lead = staff(Role::Agent, &[team], &[]);
    let room = room_with(team, false, &[(&lead, Mode::Lead)]);
    let message = posted(room.post(
        Party::Customer(room.customer),
        Draft::text(PostKind::Reply, "@lead hi"),
        std::slice::from_ref(&lead),
    ))
    .unwrap();
    assert!(message.mentions.is_empty());
}

#[test]
fn attachments_stand_in_for_text_up_to_a_limit() {
    let t = talk(Role::Agent, Seat::Lead);
    let me = Party::Staff(&t.s.actor);
    let file = |i: usize| Attachment {
        id: AttachmentId::generate(),
        name: format!("{i}.png"),
        content_type: "image/png".into(),
        size: 1,
        width: Some(1),
        height: Some(1),
    };
    let with = |n: usize| Draft {
        attachments: (0..n).map(file).collect(),
        ..Draft::text(PostKind::Reply, "")
    };
    assert_eq!(
        posted(t.s.room.post(me, with(0), &[])),
        Err(RuleError::EmptyMessage)
    );
    assert_eq!(
        posted(t.s.room.post(me, with(1), &[]))
            .unwrap()
            .attachments
            .len(),
        1
    );
    assert_eq!(
        posted(
            t.s.room
                .post(me, with(crate::message::MAX_ATTACHMENTS + 1), &[])
        ),
        Err(RuleError::TooManyAttachments)
    );
}

// ---------------------------------------------------------------------------------------------
// What the customer sees, and what shows on messages read back
// ---------------------------------------------------------------------------------------------

#[test]
fn the_customer_never_sees_anything_of_a_note_and_sees_replies_without_their_mentions() {
    let mention = Mention {
        user: UserId::generate(),
        name: "Mona (monitor)".into(),
    };
    let file = Attachment {
        id: AttachmentId::generate(),
        name: "x.png".into(),
        content_type: "image/png".into(),
        size: 1,
        width: None,
        height: None,
    };
    let note = EventKind::Note(Message {
        body: "quoting".into(),
        attachments: vec![file.clone()],
        quote: Some(Quote {
            seq: 2,
            author: Author::System,
            snippet: "secret".into(),
            deleted: false,
        }),
        mentions: vec![mention.clone()],
        ..Message::default()
    });
    let hidden = [
        note,
        EventKind::Edited(Edit {
            target: 4,
            on: PostKind::Note,
            body: "b".into(),
            mentions: vec![],
        }),
        EventKind::Deleted(Deletion {
            target: 4,
            on: PostKind::Note,
            attachments: vec![file.id],
        }),
        EventKind::Reacted(Reacted {
            target: 4,
            on: PostKind::Note,
            emoji: "👍".into(),
            added: true,
            reactions: vec![],
        }),
    ];
    for kind in hidden {
        assert_eq!(kind.customer_view(), None, "{kind:?}");
        assert!(!kind.customer_sees());
    }
    let reply = EventKind::Reply(Message {
        body: "@mona see".into(),
        attachments: vec![file.clone()],
        mentions: vec![mention.clone()],
        ..Message::default()
    });
    assert_eq!(
        reply.customer_view(),
        Some(EventKind::Reply(Message {
            body: "@mona see".into(),
            attachments: vec![file.clone()],
            ..Message::default()
        }))
    );
    let edit = EventKind::Edited(Edit {
        target: 3,
        on: PostKind::Reply,
        body: "@mona".into(),
        mentions: vec![mention],
    });
    assert_eq!(
        edit.customer_view(),
        Some(EventKind::Edited(Edit {
            target: 3,
            on: PostKind::Reply,
            body: "@mona".into(),
            mentions: vec![],
        }))
    );
    let deletion = EventKind::Deleted(Deletion {
        target: 3,
        on: PostKind::Reply,
        attachments: vec![file.id],
    });
    assert_eq!(
        deletion.customer_view(),
        Some(EventKind::Deleted(Deletion {
            target: 3,
            on: PostKind::Reply,
            attachments: vec![],
        }))
    );
}

#[test]
fn what_a_message_gathered_later_shows_on_it_when_read_back() {
    let later: BTreeMap<u64, Later> = [
        (
            3,
            Later {
                edit: Some(("fixed".into(), vec![], 99)),
                deleted: false,
                reactions: vec![Reaction {
                    emoji: "👍".into(),
                    count: 1,
                    by: vec![Author::System],
                }],
            },
        ),
        (
            4,
            Later {
                deleted: true,
                ..Later::default()
            },
        ),
    ]
    .into();
    let mut edited = Message::text("tpyo");
    show_later(MessageEventMut::Posted(&mut edited), 3, &later);
    assert_eq!(edited.body, "fixed");
    assert_eq!(edited.edited_at, Some(99));
    assert_eq!(edited.reactions.len(), 1);

    let mut gone = Message {
        body: "oops".into(),
        attachments: vec![],
        quote: None,
        mentions: vec![],
        ..Message::default()
    };
    show_later(MessageEventMut::Posted(&mut gone), 4, &later);
    assert_eq!(
        gone,
        Message {
            deleted: true,
            ..Message::default()
        }
    );

    let mut quoting = Message {
        quote: Some(Quote {
            seq: 4,
            author: Author::System,
            snippet: "oops".into(),
            deleted: false,
        }),
        ..Message::text("re")
    };
    show_later(MessageEventMut::Posted(&mut quoting), 5, &later);
    let quote = quoting.quote.unwrap();
    assert!(quote.deleted && quote.snippet.is_empty());

    let mut edit_of_gone = Edit {
        target: 4,
        on: PostKind::Reply,
        body: "oops!".into(),
        mentions: vec![],
    };
    show_later(MessageEventMut::Edited(&mut edit_of_gone), 6, &later);
    assert!(edit_of_gone.body.is_empty());
}

#[test]
fn the_rules_know_each_message_held_from_its_events() {
    let t = talk(Role::Agent, Seat::Lead);
    let mut room = t.s.room.clone();
    let me = Author::Staff(t.s.actor.id);
    let edit = room
        .edit(
            Party::Staff(&t.s.actor),
            t.own_note,
            "second thoughts",
            &[],
            WINDOW,
            NOW,
        )
        .unwrap();
    apply_by(&mut room, me, edit);
    let note = room.messages.get(t.own_note).unwrap();
    assert_eq!(note.snippet, "second thoughts");
    assert_eq!(note.author, me);
    assert_eq!(note.kind, PostKind::Note);
    assert_eq!(room.messages.len(), 5);
    assert!(room.messages.get(2).is_none(), "a join is not a message");
}

#[test]
fn only_the_newest_messages_are_held_and_an_older_one_is_recalled_before_it_changes() {
    let t = talk(Role::Agent, Seat::Lead);
    let mut room = t.s.room.clone();
    let me = Author::Staff(t.s.actor.id);
    let actor = Party::Staff(&t.s.actor);
    room.messages.keep(2);
    // Nothing is forgotten while a change to it may not be durable yet.
    room.messages.forget(t.customer_reply - 1);
    assert_eq!(room.messages.len(), 5);
    assert!(room.messages.to_recall([t.customer_reply]).is_empty());
    let last = room.last_seq;
    room.messages.forget(last);
    assert_eq!(room.messages.len(), 2, "the newest two are held");
    assert!(room.messages.get(t.own_reply).is_some() && room.messages.get(t.own_note).is_some());
    // What was forgotten is refused as unknown until recalled, and only that is recalled:
    // a number past the last message, or one still held, needs no storage.
    assert_eq!(
        room.edit(actor, t.lead_note, "x", &[], WINDOW, NOW),
        Err(RuleError::NoSuchMessage)
    );
    assert_eq!(
        room.messages
            .to_recall([t.lead_note, t.own_note, last + 3, 0, t.lead_note]),
        vec![t.lead_note]
    );
    // An older message of the actor's, recalled as storage has it, changes as if held.
    let mut reply = Message::text("hello again");
    reply.reactions = vec![Reaction {
        emoji: "👍".into(),
        count: 1,
        by: vec![Author::Customer(room.customer)],
    }];
    room.messages
        .recall(t.lead_reply, Posted::of(me, PostKind::Reply, NOW, &reply));
    let reacted = room.react(actor, t.lead_reply, "👍", true).unwrap();
    let EventKind::Reacted(r) = &reacted[0] else {
        panic!("not a reaction: {reacted:?}")
    };
    assert_eq!(r.reactions[0].count, 2, "the stored reaction is kept");
    apply_by(&mut room, me, reacted);
    // Changed and not durable yet, it stays held and a newer settled one goes instead.
    let changed = room.last_seq;
    room.messages.forget(changed - 1);
    assert!(room.messages.get(t.lead_reply).is_some());
    assert_eq!(room.messages.to_recall([t.own_reply]), vec![t.own_reply]);
    // Once the change is durable, it is the oldest to go.
    post_as(&mut room, me, PostKind::Reply, "more", NOW);
    room.messages.forget(room.last_seq);
    assert_eq!(room.messages.len(), 2);
    assert_eq!(room.messages.to_recall([t.lead_reply]), vec![t.lead_reply]);
    // A recall never replaces what is held.
    room.messages.recall(
        t.own_note,
        Posted::of(me, PostKind::Reply, 0, &Message::text("stale")),
    );
    assert_eq!(room.messages.get(t.own_note).unwrap().snippet, "hmm");
}

#[test]
fn a_message_carries_only_its_authors_own_unposted_uploads_to_this_room() {
    let t = talk(Role::Agent, Seat::Lead);
    let room = &t.s.room;
    let me = Party::Staff(&t.s.actor);
    let upload = |uploader: Author, conversation: ConversationId, posted: bool| Upload {
        attachment: Attachment {
            id: AttachmentId::generate(),
            name: "a.png".into(),
            content_type: "image/png".into(),
            size: 1,
            width: Some(1),
            height: Some(1),
        },
        stream: conversation.0,
        uploader,
        posted,
        uploaded_at: NOW,
    };
    let mine = upload(Author::Staff(t.s.actor.id), room.id, false);
    let theirs = upload(Author::Customer(room.customer), room.id, false);
    let elsewhere = upload(
        Author::Staff(t.s.actor.id),
        ConversationId::generate(),
        false,
    );
    let sent = upload(Author::Staff(t.s.actor.id), room.id, true);
    let all = [
        mine.clone(),
        theirs.clone(),
        elsewhere.clone(),
        sent.clone(),
    ];
    let id = |u: &Upload| u.attachment.id;
    assert_eq!(
        room.attachments(me, &[id(&mine), id(&mine)], &all, NOW),
        Ok(vec![mine.attachment.clone()])
    );
    for other in [&theirs, &elsewhere] {
        assert_eq!(
            room.attachments(me, &[id(other)], &all, NOW),
            Err(RuleError::UnknownAttachment)
        );
    }
    assert_eq!(
        room.attachments(me, &[AttachmentId::generate()], &all, NOW),
        Err(RuleError::UnknownAttachment)
    );
    assert_eq!(
        room.attachments(me, &[id(&sent)], &all, NOW),
        Err(RuleError::AttachmentInUse)
    );
    // An upload about to be swept can no longer be sent.
    let late = NOW + crate::message::UPLOAD_USABLE_MS + 1;
    assert_eq!(
        room.attachments(me, &[id(&mine)], &all, late),
        Err(RuleError::UnknownAttachment)
    );
    // Whoever may post may upload; monitors and outsiders may not, nor anyone after close.
    for seat in SEATS {
        let s = scene(Role::Agent, seat);
        assert_eq!(
            s.room.may_upload(Party::Staff(&s.actor)).err(),
            speaker_refusal(seat)
        );
    }
    assert_eq!(room.may_upload(Party::Customer(room.customer)), Ok(()));
    assert_eq!(
        room.may_upload(Party::Customer(CustomerId::generate())),
        Err(RuleError::Forbidden)
    );
    assert_eq!(
        closed(room.clone()).may_upload(me),
        Err(RuleError::ConversationClosed)
    );
    // Another customer cannot even tell that it closed.
    assert_eq!(
        closed(room.clone()).may_upload(Party::Customer(CustomerId::generate())),
        Err(RuleError::Forbidden)
    );
}

#[test]
fn the_customer_sees_that_a_message_went_never_who_took_it_nor_a_monitor_in_the_cast() {
    let t = talk(Role::Admin, Seat::Monitor);
    let room = &t.s.room;
    let deletion = room
        .delete_message(Party::Staff(&t.s.actor), t.customer_reply, WINDOW, NOW)
        .unwrap()
        .remove(0);
    let event = Event {
        author: Author::Staff(t.s.actor.id),
        ..recorded(room.id, room.last_seq + 1, deletion)
    };
    assert_eq!(event.customer_view().unwrap().author, Author::System);
    let reply = Event {
        author: Author::Staff(t.s.lead.id),
        ..recorded(room.id, 9, EventKind::Reply(Message::text("hi")))
    };
    assert_eq!(
        reply.customer_view().unwrap().author,
        Author::Staff(t.s.lead.id)
    );
    let staff_cast = room.cast(View::Staff);
    let customer_cast = room.cast(View::Customer);
    for member in [&t.s.lead, &t.s.participant] {
        assert!(customer_cast.contains(&Author::Staff(member.id)));
    }
    for watcher in [&t.s.monitor, &t.s.actor] {
        assert!(staff_cast.contains(&Author::Staff(watcher.id)));
        assert!(!customer_cast.contains(&Author::Staff(watcher.id)));
    }
    assert!(customer_cast.contains(&Author::Customer(room.customer)));
}
