//! Table definitions, the same on SQLite and PostgreSQL (UUIDs as text, times as
//! milliseconds since the Unix epoch).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        avatar_url -> Nullable<Text>,
        role -> Text,
        password_hash -> Text,
        created_at -> BigInt,
        disabled -> Bool,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        name -> Text,
        restricted -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    user_skills (user_id, skill) {
        user_id -> Text,
        skill -> Text,
    }
}

diesel::table! {
    customers (id) {
        id -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        created_at -> BigInt,
        phone -> Nullable<Text>,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    assignees (conversation_id, user_id) {
        conversation_id -> Text,
        user_id -> Text,
        since_seq -> BigInt,
    }
}

diesel::table! {
    conversation_links (conversation_id, system, record_id) {
        conversation_id -> Text,
        system -> Text,
        record_id -> Text,
        url -> Text,
        title -> Text,
        since_seq -> BigInt,
    }
}

diesel::table! {
    canned_responses (team_id, shortcut) {
        team_id -> Text,
        shortcut -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    team_routing (team_id) {
        team_id -> Text,
        mode -> Text,
        capacity -> Integer,
    }
}

diesel::table! {
    team_secrets (team_id) {
        team_id -> Text,
        identity_secret -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    tokens (hash) {
        hash -> Text,
        user_id -> Nullable<Text>,
        customer_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked -> Bool,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    conversations (id) {
        id -> Text,
        team_id -> Text,
        customer_id -> Text,
        status -> Text,
        lead_id -> Nullable<Text>,
        restricted -> Bool,
        resolution -> Nullable<Text>,
        previous_id -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        closed_at -> Nullable<BigInt>,
        listed -> Bool,
        snoozed_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    conversation_viewers (conversation_id, user_id) {
        conversation_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    participants (conversation_id, user_id) {
        conversation_id -> Text,
        user_id -> Text,
        mode -> Text,
        since_seq -> BigInt,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        conversation_id -> Text,
        inviter_id -> Text,
        target -> Text,
        mode -> Text,
        status -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        resolved_at -> Nullable<BigInt>,
        resolved_by -> Nullable<Text>,
    }
}

diesel::table! {
    invitation_candidates (invitation_id, user_id) {
        invitation_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        stream_id -> Text,
        seq -> BigInt,
        kind -> Text,
        author_kind -> Text,
        author_id -> Nullable<Text>,
        client_id -> Nullable<Text>,
        customer_visible -> Bool,
        payload -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    idx.event_index (stream_id, seq) {
        stream_id -> Text,
        seq -> BigInt,
        event_id -> BigInt,
    }
}

diesel::table! {
    idx.event_filing (id) {
        id -> Integer,
        last_id -> BigInt,
        last_stream -> Nullable<Text>,
        last_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// How far the event log is filed into the search index (`idx.message_search`, FTS5 on
    /// SQLite, a table with a generated `tsvector` on PostgreSQL; reached by SQL of its own).
    idx.search_filing (id) {
        id -> Integer,
        last_id -> BigInt,
    }
}

diesel::table! {
    message_states (stream_id, seq) {
        stream_id -> Text,
        seq -> BigInt,
        body -> Nullable<Text>,
        mentions -> Nullable<Text>,
        edited_at -> Nullable<BigInt>,
        deleted -> Bool,
        reactions -> Nullable<Text>,
    }
}

diesel::table! {
    mentions (user_id, stream_id, seq) {
        user_id -> Text,
        stream_id -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    read_markers (stream_id, reader_id) {
        stream_id -> Text,
        reader_id -> Text,
        last_read_seq -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        stream_id -> Text,
        uploader_id -> Text,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        seq -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(user_skills -> users (user_id));
diesel::joinable!(conversations -> teams (team_id));
diesel::joinable!(participants -> conversations (conversation_id));
diesel::joinable!(invitation_candidates -> invitations (invitation_id));
diesel::joinable!(event_index -> events (event_id));

diesel::table! {
    contact_defaults (customer_id) {
        customer_id -> Text,
        set_by -> Text,
        set_at -> BigInt,
        listed -> Bool,
    }
}

diesel::table! {
    contact_default_staff (customer_id, user_id) {
        customer_id -> Text,
        user_id -> Text,
        assignee -> Bool,
        viewer -> Bool,
    }
}

diesel::table! {
    articles (id) {
        id -> Text,
        team_id -> Text,
        title -> Text,
        body -> Text,
        url -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    channels (id) {
        id -> Text,
        visibility -> Text,
        name -> Nullable<Text>,
        description -> Text,
        direct_key -> Nullable<Text>,
        archived -> Bool,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    channel_members (channel_id, user_id) {
        channel_id -> Text,
        user_id -> Text,
        role -> Text,
        since_seq -> BigInt,
    }
}

diesel::table! {
    channel_mutes (channel_id, user_id) {
        channel_id -> Text,
        user_id -> Text,
    }
}

diesel::joinable!(channel_members -> channels (channel_id));

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> BigInt,
        actor_id -> Nullable<Text>,
        actor_name -> Nullable<Text>,
        action -> Text,
        target -> Nullable<Text>,
        target_name -> Nullable<Text>,
        detail -> Text,
        client_addr -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    teams,
    team_members,
    user_skills,
    customers,
    tokens,
    conversations,
    participants,
    invitations,
    invitation_candidates,
    events,
    event_index,
    event_filing,
    search_filing,
    team_secrets,
    team_routing,
    conversation_links,
    canned_responses,
    assignees,
    conversation_viewers,
    message_states,
    mentions,
    read_markers,
    attachments,
    contact_defaults,
    contact_default_staff,
    articles,
    channels,
    channel_members,
    channel_mutes,
    audit_log,
);

diesel::table! {
    stream_leases (stream_id) {
        stream_id -> Text,
        node -> Text,
        epoch -> BigInt,
        expires_at -> BigInt,
    }
}
