//! Why the rules refused an action.

/// A rule of the conversation or channel said no. Each has a stable wire `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("your role does not allow this")]
    Forbidden,
    #[error("you are not a participant of this conversation")]
    NotAParticipant,
    #[error("monitors may read but not post, invite, transfer or close")]
    MonitorReadOnly,
    #[error("customers cannot write internal notes")]
    CustomersCannotWriteNotes,
    #[error("a message needs some text")]
    EmptyMessage,
    #[error("the conversation is closed")]
    ConversationClosed,
    #[error("the conversation is not closed")]
    ConversationNotClosed,
    #[error("the conversation is not waiting to be picked up")]
    NotWaiting,
    #[error("the conversation has no lead yet: pick it up first")]
    NotActive,
    #[error("only members of the conversation's team may pick it up")]
    NotInTeam,
    #[error("this conversation is restricted to the members of its team")]
    RestrictedToTeam,
    #[error("you are already in this conversation")]
    AlreadyInConversation,
    #[error("nobody matching the invitation is available (online, allowed to read, not yet in the room)")]
    NoAvailableInvitee,
    #[error("that agent is offline")]
    InviteeOffline,
    #[error("that agent may not read conversations")]
    InviteeNotAllowed,
    #[error("that agent is already in this conversation")]
    InviteeAlreadyInConversation,
    #[error("that agent already has a pending invitation to this conversation")]
    AlreadyInvited,
    #[error("an invitation can make a participant or a monitor, not a lead")]
    InvalidInviteMode,
    #[error("this conversation already has the most pending invitations allowed: wait for answers or cancel one")]
    TooManyInvitations,
    #[error("no such pending invitation in this conversation")]
    InvitationNotPending,
    #[error("this invitation is not addressed to you")]
    NotInvited,
    #[error("the invitation has expired")]
    InvitationExpired,
    #[error("only the inviter or the lead may cancel an invitation")]
    NotInviter,
    #[error("the lead can only pass to a participant of this conversation")]
    TransferTargetNotParticipant,
    #[error("you are the last agent here: close the conversation instead of leaving")]
    LastAgent,
    #[error("there is no message with that seq here")]
    NoSuchMessage,
    #[error("that message was deleted")]
    MessageDeleted,
    #[error(
        "a reply reaches the customer, so it cannot quote an internal note: quote it in a note"
    )]
    ReplyCannotQuoteNote,
    #[error("you can only edit or delete your own messages")]
    NotYourMessage,
    #[error("the time for changing this message has passed")]
    EditWindowPassed,
    #[error("you already reacted with that emoji")]
    AlreadyReacted,
    #[error("you have not reacted with that emoji")]
    NotReacted,
    #[error("this message has the most different reactions allowed")]
    TooManyReactions,
    #[error("a reaction is one emoji or a :short_code:")]
    InvalidEmoji,
    #[error("a mentioned colleague may not view this conversation: mention only those who may")]
    MentionNotAllowed,
    #[error("too many attachments on one message")]
    TooManyAttachments,
    #[error("no such upload of yours in this conversation: upload the file here first")]
    UnknownAttachment,
    #[error("that upload is already on a message: upload it again to send it again")]
    AttachmentInUse,
    #[error("only the lead, a supervisor or an admin may assign this conversation (agents of its team may take a waiting one themselves)")]
    MayNotAssign,
    #[error("that colleague may not view this conversation, so cannot be made responsible for it")]
    AssigneeCannotView,
    #[error("that colleague is already assigned to this conversation")]
    AlreadyAssigned,
    #[error("that colleague is not assigned to this conversation")]
    NotAssigned,
    #[error("this conversation has the most assignees allowed")]
    TooManyAssignees,
    #[error("this conversation is visible only to a list of colleagues, and that is not you")]
    NotOnTheList,
    #[error("only the lead links records (while it waits: its assignees, supervisors and admins)")]
    MayNotLink,
    #[error("a link needs a system, an id, a title (1 to 200 characters each) and an http(s) URL")]
    InvalidLink,
    #[error("an article needs a title (up to 200 bytes), some text and an http(s) URL")]
    InvalidArticle,
    #[error("that record is already linked")]
    AlreadyLinked,
    #[error("no such linked record")]
    NotLinked,
    #[error("this conversation has the most links allowed")]
    TooManyLinks,
    #[error("snooze until a time in the next 30 days")]
    InvalidSnooze,
    #[error("that @name fits several colleagues: write their whole email, as @name@example.com")]
    AmbiguousMention,
    #[error("a conversation takes a `reply` or a `note`, a team channel a `message`")]
    InvalidPostKind,
    #[error("no such channel")]
    UnknownChannel,
    #[error("join the channel to post in it")]
    NotAChannelMember,
    #[error("you are already a member of this channel")]
    AlreadyChannelMember,
    #[error("that colleague is not a member of this channel")]
    NotChannelMember,
    #[error("only the channel's admins and organisation admins may do this")]
    NotChannelAdmin,
    #[error("the channel is archived: it is read-only")]
    ChannelArchived,
    #[error("the channel is not archived")]
    ChannelNotArchived,
    #[error("a direct message's members are fixed, and it cannot be renamed, archived or left: start another one")]
    DirectMessageFixed,
    #[error("a channel name is 1 to 80 lowercase letters, digits, `-` or `_`, starting with a letter or digit (like `proj-014`)")]
    InvalidChannelName,
    #[error("a channel description is at most 500 bytes")]
    InvalidChannelDescription,
    #[error("this channel has the most members allowed")]
    ChannelFull,
    #[error("a direct message is between you and 1 to 8 colleagues")]
    InvalidDirectMessage,
    #[error("that is the most channels one person may belong to: leave one first")]
    TooManyChannels,
    #[error("you are posting too fast in this channel: wait a few seconds")]
    PostingTooFast,
    #[error("you cannot disable your own account: ask another admin")]
    CannotDisableSelf,
    #[error("this is the last enabled admin: make someone else an admin first")]
    LastAdmin,
}

impl RuleError {
    /// The stable, machine-readable code sent to clients.
    pub fn code(self) -> &'static str {
        match self {
            RuleError::Forbidden => "forbidden",
            RuleError::NotAParticipant => "not_a_participant",
            RuleError::MonitorReadOnly => "monitor_read_only",
            RuleError::CustomersCannotWriteNotes => "customers_cannot_write_notes",
            RuleError::EmptyMessage => "empty_message",
            RuleError::ConversationClosed => "conversation_closed",
            RuleError::ConversationNotClosed => "conversation_not_closed",
            RuleError::NotWaiting => "not_waiting",
            RuleError::NotActive => "not_active",
            RuleError::NotInTeam => "not_in_team",
            RuleError::RestrictedToTeam => "restricted_to_team",
            RuleError::AlreadyInConversation => "already_in_conversation",
            RuleError::NoAvailableInvitee => "no_available_invitee",
            RuleError::InviteeOffline => "invitee_offline",
            RuleError::InviteeNotAllowed => "invitee_not_allowed",
            RuleError::InviteeAlreadyInConversation => "invitee_already_in_conversation",
            RuleError::AlreadyInvited => "already_invited",
            RuleError::InvalidInviteMode => "invalid_invite_mode",
            RuleError::TooManyInvitations => "too_many_invitations",
            RuleError::InvitationNotPending => "invitation_not_pending",
            RuleError::NotInvited => "not_invited",
            RuleError::InvitationExpired => "invitation_expired",
            RuleError::NotInviter => "not_inviter",
            RuleError::TransferTargetNotParticipant => "transfer_target_not_participant",
            RuleError::LastAgent => "last_agent",
            RuleError::NoSuchMessage => "no_such_message",
            RuleError::MessageDeleted => "message_deleted",
            RuleError::ReplyCannotQuoteNote => "reply_cannot_quote_note",
            RuleError::NotYourMessage => "not_your_message",
            RuleError::EditWindowPassed => "edit_window_passed",
            RuleError::AlreadyReacted => "already_reacted",
            RuleError::NotReacted => "not_reacted",
            RuleError::TooManyReactions => "too_many_reactions",
            RuleError::InvalidEmoji => "invalid_emoji",
            RuleError::MentionNotAllowed => "mention_not_allowed",
            RuleError::TooManyAttachments => "too_many_attachments",
            RuleError::AmbiguousMention => "ambiguous_mention",
            RuleError::MayNotAssign => "may_not_assign",
            RuleError::AssigneeCannotView => "assignee_cannot_view",
            RuleError::AlreadyAssigned => "already_assigned",
            RuleError::NotAssigned => "not_assigned",
            RuleError::TooManyAssignees => "too_many_assignees",
            RuleError::NotOnTheList => "not_on_the_list",
            RuleError::MayNotLink => "may_not_link",
            RuleError::InvalidLink => "invalid_link",
            RuleError::InvalidArticle => "invalid_article",
            RuleError::AlreadyLinked => "already_linked",
            RuleError::NotLinked => "not_linked",
            RuleError::TooManyLinks => "too_many_links",
            RuleError::InvalidSnooze => "invalid_snooze",
            RuleError::UnknownAttachment => "unknown_attachment",
            RuleError::InvalidPostKind => "invalid_kind",
            RuleError::UnknownChannel => "unknown_channel",
            RuleError::NotAChannelMember => "not_a_member",
            RuleError::AlreadyChannelMember => "already_member",
            RuleError::NotChannelMember => "not_channel_member",
            RuleError::NotChannelAdmin => "not_channel_admin",
            RuleError::ChannelArchived => "channel_archived",
            RuleError::ChannelNotArchived => "channel_not_archived",
            RuleError::DirectMessageFixed => "direct_message_fixed",
            RuleError::InvalidChannelName => "invalid_channel_name",
            RuleError::InvalidChannelDescription => "invalid_channel_description",
            RuleError::ChannelFull => "channel_full",
            RuleError::InvalidDirectMessage => "invalid_direct_message",
            RuleError::TooManyChannels => "too_many_channels",
            RuleError::PostingTooFast => "posting_too_fast",
            RuleError::CannotDisableSelf => "cannot_disable_self",
            RuleError::LastAdmin => "last_admin",
            RuleError::AttachmentInUse => "attachment_in_use",
        }
    }
}
