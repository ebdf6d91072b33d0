//! Team channels and direct messages: who sees them, who may speak, membership, the
//! admins' actions, archiving, mentions and names.

use super::*;
use crate::channel::{
    check_name, direct_key, may_belong, ChannelDraft, ChannelMember, ChannelPost,
    MAX_CHANNELS_PER_USER,
};

/// A channel built by applying the events of `make`, numbered from 1.
fn build(id: ChannelId, events: Vec<ChannelEventKind>, by: &Staff) -> Channel {
    let mut channel = Channel::new(id, Visibility::Public);
    act(&mut channel, by, events);
    channel
}

/// Applies one action's events by `by`.
fn act(channel: &mut Channel, by: &Staff, events: Vec<ChannelEventKind>) -> Vec<Audience> {
    let recorded: Vec<ChannelEvent> = events
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Recorded {
            stream: channel.id,
            seq: channel.last_seq + 1 + i as u64,
            at: NOW,
            author: Author::Staff(by.id),
            client_id: None,
            kind,
        })
        .collect();
    channel.apply_action(&recorded)
}

fn draft(visibility: Visibility, name: &str) -> ChannelDraft {
    ChannelDraft {
        visibility,
        name: name.into(),
        description: String::new(),
    }
}

fn text(body: &str) -> ChannelPost {
    ChannelPost {
        body: body.into(),
        ..ChannelPost::default()
    }
}

/// A channel of `visibility` made by `creator`, with `members` added by them.
fn channel(visibility: Visibility, creator: &Staff, members: &[&Staff]) -> Channel {
    let events = Channel::create(creator, &draft(visibility, "proj-014")).unwrap();
    let mut channel = build(ChannelId::generate(), events, creator);
    for member in members {
        let added = channel.add(creator, member, 0).unwrap();
        act(&mut channel, creator, added);
    }
    channel
}

fn agent() -> Staff {
    staff(Role::Agent, &[], &[])
}

#[test]
fn a_public_channel_is_read_by_everyone_and_written_by_its_members() {
    let creator = agent();
    let reader = agent();
    let mut general = channel(Visibility::Public, &creator, &[]);
    assert_eq!(general.name, "proj-014");
    assert_eq!(
        general.member(creator.id).map(|m| m.role),
        Some(ChannelRole::Admin)
    );
    assert!(general.may_see(&reader));
    assert_eq!(
        general.live_reader(Party::Staff(&reader)),
        Ok(Reader::Staff(reader.id))
    );
    assert_eq!(general.history_view(Party::Staff(&reader)), Ok(View::Staff));
    assert!(
        general.may_follow(Reader::Staff(reader.id)),
        "read live without joining"
    );
    assert_eq!(
        general.post(&reader, text("hi"), &[], NOW),
        Err(RuleError::NotAChannelMember)
    );
    assert_eq!(
        Stream::typing(&general, Party::Staff(&reader)),
        Err(RuleError::NotAChannelMember)
    );
    let joining = general.join(&reader, 0).unwrap();
    act(&mut general, &reader, joining);
    assert_eq!(
        general.member(reader.id).map(|m| m.role),
        Some(ChannelRole::Member)
    );
    assert_eq!(
        general.join(&reader, 0),
        Err(RuleError::AlreadyChannelMember)
    );
    assert!(matches!(
        general.post(&reader, text("hi"), &[], NOW),
        Ok(ChannelEventKind::Message(m)) if m.body == "hi"
    ));
    assert_eq!(
        general.post(&reader, text("  "), &[], NOW),
        Err(RuleError::EmptyMessage)
    );
}

#[test]
fn a_private_channel_does_not_exist_for_anyone_outside_it() {
    let creator = agent();
    let member = agent();
    let outsider = agent();
    let org_admin = staff(Role::Admin, &[], &[]);
    let secret = channel(Visibility::Private, &creator, &[&member]);
    for stranger in [&outsider, &org_admin] {
        assert!(!secret.may_see(stranger));
        assert_eq!(
            secret.live_reader(Party::Staff(stranger)),
            Err(RuleError::UnknownChannel)
        );
        assert_eq!(
            secret.history_view(Party::Staff(stranger)),
            Err(RuleError::UnknownChannel)
        );
        assert_eq!(secret.join(stranger, 0), Err(RuleError::UnknownChannel));
        assert_eq!(
            secret.post(stranger, text("hi"), &[], NOW),
            Err(RuleError::UnknownChannel)
        );
        assert_eq!(
            secret.react(stranger, 3, "👍", true),
            Err(RuleError::UnknownChannel)
        );
        assert!(!secret.may_follow(Reader::Staff(stranger.id)));
    }
    assert_eq!(
        secret.add(&outsider, &outsider, 0),
        Err(RuleError::UnknownChannel),
        "an outsider cannot add themselves"
    );
    assert_eq!(
        secret.live_reader(Party::Customer(CustomerId::generate())),
        Err(RuleError::UnknownChannel),
        "customers never see team chat"
    );
    assert!(secret.may_see(&member));
    assert!(secret.post(&member, text("hi"), &[], NOW).is_ok());
}

#[test]
fn any_member_adds_a_colleague_and_only_admins_remove_one() {
    let creator = agent();
    let member = agent();
    let newcomer = agent();
    let org_admin = staff(Role::Admin, &[], &[]);
    let mut secret = channel(Visibility::Private, &creator, &[&member]);
    let added = secret.add(&member, &newcomer, 0).unwrap();
    assert_eq!(
        added,
        vec![ChannelEventKind::Joined {
            user: newcomer.id,
            name: newcomer.display_name.clone(),
            avatar_url: newcomer.avatar_url.clone(),
            role: ChannelRole::Member,
            by: Some(member.id),
        }]
    );
    act(&mut secret, &member, added);
    assert_eq!(
        secret.add(&member, &newcomer, 0),
        Err(RuleError::AlreadyChannelMember)
    );
    assert_eq!(
        secret.remove(&member, newcomer.id),
        Err(RuleError::NotChannelAdmin)
    );
    assert_eq!(
        secret.remove(&creator, UserId::generate()),
        Err(RuleError::NotChannelMember)
    );
    let removed = secret.remove(&creator, newcomer.id).unwrap();
    let audiences = act(&mut secret, &creator, removed);
    assert_eq!(
        audiences,
        vec![Audience::Followers],
        "the removed member still receives their removal"
    );
    assert!(
        !secret.may_follow(Reader::Staff(newcomer.id)),
        "and nothing after"
    );
    // An organisation admin runs the channel without being in it.
    assert!(secret.remove(&org_admin, member.id).is_ok());
    // Leaving.
    let left = secret.leave(&member).unwrap();
    assert_eq!(left, vec![ChannelEventKind::Left { user: member.id }]);
    act(&mut secret, &member, left);
    assert_eq!(secret.leave(&member), Err(RuleError::UnknownChannel));
    let public = channel(Visibility::Public, &creator, &[]);
    assert_eq!(public.leave(&member), Err(RuleError::NotAChannelMember));
    assert_eq!(public.may_mute(&member), Err(RuleError::NotAChannelMember));
    assert_eq!(public.may_mute(&creator), Ok(()));
    assert_eq!(secret.may_mute(&member), Err(RuleError::UnknownChannel));
}

#[test]
fn admins_rename_describe_archive_and_delete_and_nobody_else_does() {
    let creator = agent();
    let member = agent();
    let outsider = agent();
    let org_admin = staff(Role::Admin, &[], &[]);
    let mut public = channel(Visibility::Public, &creator, &[&member]);
    let secret = channel(Visibility::Private, &creator, &[&member]);
    for channel in [&public, &secret] {
        assert_eq!(
            channel.rename(&member, "ops"),
            Err(RuleError::NotChannelAdmin)
        );
        assert_eq!(
            channel.archive(&member, true),
            Err(RuleError::NotChannelAdmin)
        );
        assert_eq!(channel.may_delete(&member), Err(RuleError::NotChannelAdmin));
        assert!(channel.rename(&creator, "ops").is_ok());
        assert!(channel.rename(&org_admin, "ops").is_ok());
        assert!(channel.may_delete(&org_admin).is_ok());
        assert_eq!(
            channel.rename(&creator, "Ops"),
            Err(RuleError::InvalidChannelName)
        );
        assert_eq!(
            channel.describe(&creator, &"x".repeat(501)),
            Err(RuleError::InvalidChannelDescription)
        );
    }
    assert_eq!(
        public.rename(&outsider, "ops"),
        Err(RuleError::NotChannelAdmin)
    );
    assert_eq!(
        secret.rename(&outsider, "ops"),
        Err(RuleError::UnknownChannel),
        "a private channel's outsider learns nothing of it"
    );
    let renamed = public.rename(&creator, "ops").unwrap();
    act(&mut public, &creator, renamed);
    assert_eq!(public.name, "ops");
    let described = public.describe(&creator, "on call").unwrap();
    act(&mut public, &creator, described);
    assert_eq!(public.description, "on call");
}

#[test]
fn an_archived_channel_is_read_only() {
    let creator = agent();
    let member = agent();
    let newcomer = agent();
    let mut channel = channel(Visibility::Public, &creator, &[&member]);
    let posted = channel.post(&member, text("before"), &[], NOW).unwrap();
    act(&mut channel, &member, vec![posted]);
    let seq = channel.last_seq;
    let archived = channel.archive(&creator, true).unwrap();
    act(&mut channel, &creator, archived);
    assert_eq!(
        channel.archive(&creator, true),
        Err(RuleError::ChannelArchived)
    );
    let refused = RuleError::ChannelArchived;
    assert_eq!(channel.post(&member, text("after"), &[], NOW), Err(refused));
    assert_eq!(
        channel.edit(&member, seq, "changed", &[], NOW),
        Err(refused)
    );
    assert_eq!(channel.react(&member, seq, "👍", true), Err(refused));
    assert_eq!(channel.delete_message(&member, seq, NOW), Err(refused));
    assert_eq!(channel.join(&newcomer, 0), Err(refused));
    assert_eq!(channel.add(&member, &newcomer, 0), Err(refused));
    assert_eq!(
        Stream::typing(&channel, Party::Staff(&member)),
        Err(refused)
    );
    assert_eq!(
        channel.history_view(Party::Staff(&newcomer)),
        Ok(View::Staff)
    );
    // An organisation admin may still take a message down.
    let org_admin = staff(Role::Admin, &[], &[]);
    assert!(channel.delete_message(&org_admin, seq, NOW).is_ok());
    let opened = channel.archive(&creator, false).unwrap();
    act(&mut channel, &creator, opened);
    assert!(channel.post(&member, text("again"), &[], NOW).is_ok());
    assert_eq!(
        channel.archive(&creator, false),
        Err(RuleError::ChannelNotArchived)
    );
}

#[test]
fn messages_are_edited_deleted_and_reacted_to_as_in_conversations() {
    let creator = agent();
    let member = agent();
    let mut channel = channel(Visibility::Public, &creator, &[&member]);
    let posted = channel.post(&member, text("hello"), &[], NOW).unwrap();
    act(&mut channel, &member, vec![posted]);
    let seq = channel.last_seq;
    assert_eq!(
        channel.edit(&creator, seq, "not mine", &[], NOW),
        Err(RuleError::NotYourMessage)
    );
    let edited = channel.edit(&member, seq, "hello all", &[], NOW).unwrap();
    assert!(matches!(&edited[0], ChannelEventKind::Edited(e) if e.on == PostKind::Message));
    act(&mut channel, &member, edited);
    let quoting = ChannelPost {
        quote: Some(seq),
        ..text("answering")
    };
    match channel.post(&creator, quoting, &[], NOW).unwrap() {
        ChannelEventKind::Message(m) => {
            assert_eq!(m.quote.unwrap().snippet, "hello all")
        }
        other => panic!("{other:?}"),
    }
    let reacted = channel.react(&creator, seq, "🎉", true).unwrap();
    act(&mut channel, &creator, reacted);
    assert_eq!(
        channel.react(&creator, seq, "🎉", true),
        Err(RuleError::AlreadyReacted)
    );
    assert_eq!(
        channel.delete_message(&creator, seq, NOW),
        Err(RuleError::NotYourMessage)
    );
    let deleted = channel.delete_message(&member, seq, NOW).unwrap();
    act(&mut channel, &member, deleted);
    assert_eq!(
        channel.react(&creator, seq, "👍", true),
        Err(RuleError::MessageDeleted)
    );
}

#[test]
fn a_mention_names_only_colleagues_who_can_see_the_channel() {
    let creator = agent();
    let member = agent();
    let outsider = agent();
    let public = channel(Visibility::Public, &creator, &[&member]);
    let secret = channel(Visibility::Private, &creator, &[&member]);
    assert!(
        public
            .post(
                &creator,
                text("@anyone"),
                std::slice::from_ref(&outsider),
                NOW
            )
            .is_ok(),
        "everyone sees a public channel"
    );
    assert_eq!(
        secret.post(
            &creator,
            text("@outsider"),
            std::slice::from_ref(&outsider),
            NOW
        ),
        Err(RuleError::MentionNotAllowed)
    );
    match secret.post(
        &creator,
        text("@member"),
        std::slice::from_ref(&member),
        NOW,
    ) {
        Ok(ChannelEventKind::Message(m)) => assert_eq!(m.mentions[0].user, member.id),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_direct_message_has_fixed_members_and_is_found_by_them() {
    let me = agent();
    let you = agent();
    let org_admin = staff(Role::Admin, &[], &[]);
    let events = Channel::direct(&me, std::slice::from_ref(&you)).unwrap();
    let mut dm = Channel::new(ChannelId::generate(), Visibility::Direct);
    act(&mut dm, &me, events);
    assert_eq!(dm.visibility, Visibility::Direct);
    assert_eq!(dm.members.len(), 2);
    assert!(dm.post(&you, text("hey"), &[], NOW).is_ok());
    assert_eq!(dm.leave(&me), Err(RuleError::DirectMessageFixed));
    assert_eq!(
        dm.add(&me, &org_admin, 0),
        Err(RuleError::DirectMessageFixed)
    );
    assert_eq!(
        dm.rename(&org_admin, "ours"),
        Err(RuleError::DirectMessageFixed)
    );
    assert_eq!(
        dm.may_delete(&org_admin),
        Err(RuleError::DirectMessageFixed)
    );
    assert!(
        !dm.may_see(&org_admin),
        "nobody else reads it, admins included"
    );
    // The same people always meet in the same one, whoever starts it.
    assert_eq!(
        direct_key(&[me.id, you.id]),
        direct_key(&[you.id, me.id, you.id])
    );
    assert_ne!(direct_key(&[me.id, you.id]), direct_key(&[me.id]));
    // With oneself, for notes; and at most nine people.
    let alone = Channel::direct(&me, &[]).unwrap();
    assert_eq!(alone.len(), 2, "created, then the one member");
    let crowd: Vec<Staff> = (0..9).map(|_| agent()).collect();
    assert_eq!(
        Channel::direct(&me, &crowd),
        Err(RuleError::InvalidDirectMessage)
    );
    assert!(Channel::direct(&me, &crowd[..8]).is_ok());
    assert_eq!(
        Channel::create(&me, &draft(Visibility::Direct, "dm")),
        Err(RuleError::InvalidDirectMessage)
    );
}

#[test]
fn channel_names_are_lowercase_and_hyphenated() {
    for good in ["general", "proj-014", "ops_2", "7-eleven"] {
        assert_eq!(check_name(good), Ok(()), "{good}");
    }
    let long = "a".repeat(81);
    for bad in [
        "",
        "General",
        "-ops",
        "two words",
        "#general",
        "café",
        long.as_str(),
    ] {
        assert_eq!(check_name(bad), Err(RuleError::InvalidChannelName), "{bad}");
    }
}

#[test]
fn limits_on_members_and_memberships_have_clear_errors() {
    let creator = agent();
    let newcomer = agent();
    let channel = channel(Visibility::Public, &creator, &[]);
    assert_eq!(may_belong(MAX_CHANNELS_PER_USER - 1), Ok(()));
    assert_eq!(
        may_belong(MAX_CHANNELS_PER_USER),
        Err(RuleError::TooManyChannels)
    );
    assert_eq!(
        channel.join(&newcomer, MAX_CHANNELS_PER_USER),
        Err(RuleError::TooManyChannels)
    );
    assert_eq!(
        channel.add(&creator, &newcomer, MAX_CHANNELS_PER_USER),
        Err(RuleError::TooManyChannels)
    );
    let mut full = channel.clone();
    full.members = (0..crate::channel::MAX_MEMBERS as u64)
        .map(|i| ChannelMember {
            user: UserId::generate(),
            role: ChannelRole::Member,
            since: i,
        })
        .collect();
    full.members[0].user = creator.id;
    assert_eq!(full.join(&newcomer, 0), Err(RuleError::ChannelFull));
}

#[test]
fn channel_events_are_for_staff_only_and_name_their_channel() {
    let creator = agent();
    let id = ChannelId::generate();
    let event = ChannelEvent {
        stream: id,
        seq: 3,
        at: 7,
        author: Author::Staff(creator.id),
        client_id: None,
        kind: ChannelEventKind::Message(Message::text("hi")),
    };
    assert_eq!(event.customer_view(), None);
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        json!({"channel": id.to_string(), "seq": 3, "at": 7,
               "author": {"kind": "staff", "id": creator.id.to_string()},
               "kind": "message", "body": "hi"})
    );
    assert_eq!(
        Room::new(
            ConversationId::generate(),
            TeamId::generate(),
            CustomerId::generate(),
            false
        )
        .post(
            Party::Staff(&creator),
            Draft::text(PostKind::Message, "hi"),
            &[]
        ),
        Err(RuleError::InvalidPostKind),
        "a conversation takes replies and notes"
    );
}

#[test]
fn a_member_posting_too_fast_is_slowed_down_and_others_are_not() {
    use crate::channel::{MAX_POSTS_PER_WINDOW, POST_WINDOW_MS};
    let creator = agent();
    let member = agent();
    let mut channel = channel(Visibility::Public, &creator, &[&member]);
    for _ in 0..MAX_POSTS_PER_WINDOW {
        let posted = channel.post(&member, text("spam"), &[], NOW).unwrap();
        act(&mut channel, &member, vec![posted]);
    }
    assert_eq!(
        channel.post(&member, text("more"), &[], NOW + 1),
        Err(RuleError::PostingTooFast)
    );
    assert!(channel.post(&creator, text("calm"), &[], NOW + 1).is_ok());
    assert!(
        channel
            .post(&member, text("later"), &[], NOW + POST_WINDOW_MS)
            .is_ok(),
        "the window passes"
    );
}
