//! Team chat: public and private channels, and direct messages, among staff. A channel is
//! another kind of [`Stream`]: its events are numbered and delivered by the same machinery
//! as a conversation's, and its messages follow the same message rules ([`Messages`]);
//! what is its own is who may see it and who may speak in it.
//!
//! - A **public** channel is seen and read by every staff member; its members may post,
//!   and anyone may join it.
//! - A **private** channel is seen and read only by its members: to anyone else it does
//!   not exist. Organisation admins may rename, archive or delete it without being in it,
//!   but never read it.
//! - A **direct message** is between fixed members (one to nine, yourself included): it
//!   cannot be joined, left, renamed or archived, and is found again by its members
//!   ([`direct_key`]).

use crate::error::RuleError;
use crate::event::{Author, PostKind};
use crate::ids::{AttachmentId, ChannelId, UserId};
use crate::message::{
    mentions_of, Attachment, Deletion, Edit, Mention, Message, MessageEvent, MessageEventMut,
    Messages, Poster, Reacted, Upload, MAX_ATTACHMENTS,
};
use crate::room::{Party, View};
use crate::staff::{Permission, Staff};
use crate::stream::{Audience, Kind, Reader, Recorded, Stream};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// Longest channel name, in bytes.
pub const MAX_NAME_BYTES: usize = 80;
/// Longest channel description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 500;
/// Most members a channel may have.
pub const MAX_MEMBERS: usize = 10_000;
/// Most colleagues a direct message may be with (besides its starter).
pub const MAX_DIRECT_OTHERS: usize = 8;
/// Most channels and direct messages one staff member may belong to.
pub const MAX_CHANNELS_PER_USER: usize = 500;
/// How many messages one member may post in a channel within [`POST_WINDOW_MS`].
pub const MAX_POSTS_PER_WINDOW: usize = 20;
/// The window of the posting limit (milliseconds).
pub const POST_WINDOW_MS: i64 = 10_000;

/// Who may see a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Every staff member.
    Public,
    /// Its members only.
    Private,
    /// A direct message: its fixed members only.
    Direct,
}

impl Visibility {
    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

/// What a member is in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelRole {
    /// Renames, archives and deletes the channel, and removes members (its creator).
    Admin,
    Member,
}

impl ChannelRole {
    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelRole::Admin => "admin",
            ChannelRole::Member => "member",
        }
    }
}

/// A member of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMember {
    pub user: UserId,
    pub role: ChannelRole,
    /// The sequence number of the event by which they joined.
    pub since: u64,
}

/// What happens in a channel. Serialized with a `kind` tag, like a conversation's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelEventKind {
    /// The channel was made (always its first event).
    Created {
        visibility: Visibility,
        /// Empty for a direct message.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
    },
    /// A message.
    Message(Message),
    /// Its author changed a message's text.
    Edited(Edit),
    /// A message was deleted; a tombstone stays in its place.
    Deleted(Deletion),
    /// An emoji was added to a message or taken off it.
    Reacted(Reacted),
    /// Someone became a member: by joining, or added by `by`.
    Joined {
        user: UserId,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar_url: Option<String>,
        role: ChannelRole,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<UserId>,
    },
    /// A member left.
    Left { user: UserId },
    /// A member was removed by `by`.
    Removed { user: UserId, by: UserId },
    /// The channel was renamed.
    Renamed { name: String, by: UserId },
    /// Its description changed.
    Described { description: String, by: UserId },
    /// The channel became read-only.
    Archived { by: UserId },
    /// The channel may be written in again.
    Unarchived { by: UserId },
}

/// An event of a channel as recorded: `"channel": id` on the wire.
pub type ChannelEvent = Recorded<ChannelId, ChannelEventKind>;

impl Kind for ChannelEventKind {
    fn name(&self) -> &'static str {
        match self {
            ChannelEventKind::Created { .. } => "created",
            ChannelEventKind::Message(_) => "message",
            ChannelEventKind::Edited(_) => "edited",
            ChannelEventKind::Deleted(_) => "deleted",
            ChannelEventKind::Reacted(_) => "reacted",
            ChannelEventKind::Joined { .. } => "joined",
            ChannelEventKind::Left { .. } => "left",
            ChannelEventKind::Removed { .. } => "removed",
            ChannelEventKind::Renamed { .. } => "renamed",
            ChannelEventKind::Described { .. } => "described",
            ChannelEventKind::Archived { .. } => "archived",
            ChannelEventKind::Unarchived { .. } => "unarchived",
        }
    }

    /// Customers never see team chat.
    fn customer_view(&self) -> Option<Self> {
        None
    }

    fn customer_sees(&self) -> bool {
        false
    }

    fn message_event(&self) -> Option<MessageEvent<'_>> {
        Some(match self {
            ChannelEventKind::Message(message) => MessageEvent::Posted(PostKind::Message, message),
            ChannelEventKind::Edited(edit) => MessageEvent::Edited(edit),
            ChannelEventKind::Deleted(deletion) => MessageEvent::Deleted(deletion),
            ChannelEventKind::Reacted(reacted) => MessageEvent::Reacted(reacted),
            _ => return None,
        })
    }

    fn message_event_mut(&mut self) -> Option<MessageEventMut<'_>> {
        match self {
            ChannelEventKind::Message(message) => Some(MessageEventMut::Posted(message)),
            ChannelEventKind::Edited(edit) => Some(MessageEventMut::Edited(edit)),
            _ => None,
        }
    }
}

/// A new channel as its creator asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDraft {
    pub visibility: Visibility,
    pub name: String,
    pub description: String,
}

/// Checks a channel name: 1 to [`MAX_NAME_BYTES`] lowercase letters, digits, `-` and `_`,
/// starting with a letter or a digit. Names are never changed to fit (a clear error is
/// better than a channel called something else than was asked).
pub fn check_name(name: &str) -> Result<(), RuleError> {
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let fits = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if starts_well && fits && name.len() <= MAX_NAME_BYTES {
        Ok(())
    } else {
        Err(RuleError::InvalidChannelName)
    }
}

fn check_description(description: &str) -> Result<(), RuleError> {
    if description.len() <= MAX_DESCRIPTION_BYTES {
        Ok(())
    } else {
        Err(RuleError::InvalidChannelDescription)
    }
}

/// What finds a direct message again: its members' ids, sorted, so the same people always
/// meet in the same one.
pub fn direct_key(members: &[UserId]) -> String {
    let mut ids: Vec<UserId> = members.to_vec();
    ids.sort();
    ids.dedup();
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether `staff` may belong to one more channel, holding `memberships` already.
pub fn may_belong(memberships: usize) -> Result<(), RuleError> {
    if memberships < MAX_CHANNELS_PER_USER {
        Ok(())
    } else {
        Err(RuleError::TooManyChannels)
    }
}

/// A message as its author wrote it in a channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelPost {
    pub body: String,
    /// The earlier message (by `seq`) it quotes.
    pub quote: Option<u64>,
    pub attachments: Vec<Attachment>,
}

/// The state of one channel that the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub visibility: Visibility,
    pub name: String,
    pub description: String,
    /// In the order they joined.
    pub members: Vec<ChannelMember>,
    pub archived: bool,
    pub messages: Messages,
    /// When each member's recent messages were posted, for the posting limit.
    pub recent_posts: HashMap<UserId, VecDeque<i64>>,
    pub last_activity_at: i64,
    pub last_seq: u64,
}

impl Channel {
    /// A channel before its first event.
    pub fn new(id: ChannelId, visibility: Visibility) -> Channel {
        Channel {
            id,
            visibility,
            name: String::new(),
            description: String::new(),
            members: Vec::new(),
            archived: false,
            messages: Messages::default(),
            recent_posts: HashMap::new(),
            last_activity_at: 0,
            last_seq: 0,
        }
    }

    /// The first events of a new channel made by `creator`, who becomes its admin.
    pub fn create(
        creator: &Staff,
        draft: &ChannelDraft,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        if draft.visibility == Visibility::Direct {
            return Err(RuleError::InvalidDirectMessage);
        }
        check_name(&draft.name)?;
        check_description(&draft.description)?;
        Ok(vec![
            ChannelEventKind::Created {
                visibility: draft.visibility,
                name: draft.name.clone(),
                description: draft.description.clone(),
            },
            joined(creator, ChannelRole::Admin, None),
        ])
    }

    /// The first events of a direct message that `starter` opens with `others` (none: a
    /// direct message with oneself, for notes).
    pub fn direct(starter: &Staff, others: &[Staff]) -> Result<Vec<ChannelEventKind>, RuleError> {
        let mut members: Vec<&Staff> = vec![starter];
        for other in others {
            if !members.iter().any(|m| m.id == other.id) {
                members.push(other);
            }
        }
        if members.len() > MAX_DIRECT_OTHERS + 1 {
            return Err(RuleError::InvalidDirectMessage);
        }
        let mut events = vec![ChannelEventKind::Created {
            visibility: Visibility::Direct,
            name: String::new(),
            description: String::new(),
        }];
        events.extend(
            members
                .into_iter()
                .map(|m| joined(m, ChannelRole::Member, None)),
        );
        Ok(events)
    }

    /// The member record of `user`.
    pub fn member(&self, user: UserId) -> Option<&ChannelMember> {
        self.members.iter().find(|m| m.user == user)
    }

    /// Whether `staff` may see the channel at all (in listings, by id, in search): anyone
    /// for a public channel, members only otherwise.
    pub fn may_see(&self, staff: &Staff) -> bool {
        self.visibility == Visibility::Public || self.member(staff.id).is_some()
    }

    /// Whether `staff` may read the channel, or why not. To anyone who may not, the channel
    /// does not exist.
    pub fn may_read(&self, staff: &Staff) -> Result<(), RuleError> {
        if self.may_see(staff) {
            Ok(())
        } else {
            Err(RuleError::UnknownChannel)
        }
    }

    /// The staff member as someone who may post: a member, while the channel is not
    /// archived.
    fn speaker(&self, staff: &Staff) -> Result<(), RuleError> {
        self.may_read(staff)?;
        if self.member(staff.id).is_none() {
            return Err(RuleError::NotAChannelMember);
        }
        if self.archived {
            return Err(RuleError::ChannelArchived);
        }
        Ok(())
    }

    /// Whether `staff` runs the channel: its admins and organisation admins. A direct
    /// message is run by nobody.
    fn manager(&self, staff: &Staff) -> Result<(), RuleError> {
        let org_admin = staff.role.manages_accounts();
        if !org_admin {
            self.may_read(staff)?;
        }
        if self.visibility == Visibility::Direct {
            return Err(RuleError::DirectMessageFixed);
        }
        let admin = self
            .member(staff.id)
            .is_some_and(|m| m.role == ChannelRole::Admin);
        if admin || org_admin {
            Ok(())
        } else {
            Err(RuleError::NotChannelAdmin)
        }
    }

    /// A message by `staff` at `now`, mentioning `mentioned` (resolved from its `@` names):
    /// each must be able to see the channel, so a mention never reveals a private one. A
    /// member posts at most [`MAX_POSTS_PER_WINDOW`] messages per [`POST_WINDOW_MS`].
    pub fn post(
        &self,
        staff: &Staff,
        post: ChannelPost,
        mentioned: &[Staff],
        now: i64,
    ) -> Result<ChannelEventKind, RuleError> {
        self.speaker(staff)?;
        let recent = self.recent_posts.get(&staff.id).map_or(0, |times| {
            times
                .iter()
                .filter(|at| now - **at < POST_WINDOW_MS)
                .count()
        });
        if recent >= MAX_POSTS_PER_WINDOW {
            return Err(RuleError::PostingTooFast);
        }
        if post.body.trim().is_empty() && post.attachments.is_empty() {
            return Err(RuleError::EmptyMessage);
        }
        if post.attachments.len() > MAX_ATTACHMENTS {
            return Err(RuleError::TooManyAttachments);
        }
        let quote = post
            .quote
            .map(|seq| self.messages.quote(poster(staff), PostKind::Message, seq))
            .transpose()?;
        Ok(ChannelEventKind::Message(Message {
            body: post.body,
            attachments: post.attachments,
            quote,
            mentions: self.mentions(mentioned)?,
            ..Message::default()
        }))
    }

    fn mentions(&self, mentioned: &[Staff]) -> Result<Vec<Mention>, RuleError> {
        mentions_of(mentioned, |staff| self.may_see(staff))
    }

    /// Whether `staff` may upload files here: whoever may post.
    pub fn may_upload(&self, staff: &Staff) -> Result<(), RuleError> {
        self.speaker(staff)
    }

    /// The files `ids` as a message by `staff` may carry them at `now`.
    pub fn attachments(
        &self,
        staff: &Staff,
        ids: &[AttachmentId],
        uploads: &[Upload],
        now: i64,
    ) -> Result<Vec<Attachment>, RuleError> {
        self.messages
            .attachments(self.id.0, Author::Staff(staff.id), ids, uploads, now)
    }

    /// The author edits their own message.
    pub fn edit(
        &self,
        staff: &Staff,
        target: u64,
        body: &str,
        mentioned: &[Staff],
        now: i64,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.speaker(staff)?;
        let mentions = self.mentions(mentioned)?;
        let edit = self
            .messages
            .edit(poster(staff), target, body, mentions, None, now)?;
        Ok(vec![ChannelEventKind::Edited(edit)])
    }

    /// A message is deleted by its author, or by an organisation admin who may read the
    /// channel (moderation: even in an archived channel).
    pub fn delete_message(
        &self,
        staff: &Staff,
        target: u64,
        now: i64,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.may_read(staff)?;
        let moderator = staff.can(Permission::ConversationsDelete);
        if !moderator {
            self.speaker(staff)?;
        }
        let deletion = self
            .messages
            .delete(poster(staff), target, moderator, None, now)?;
        Ok(vec![ChannelEventKind::Deleted(deletion)])
    }

    /// A member adds an emoji to a message, or takes theirs off.
    pub fn react(
        &self,
        staff: &Staff,
        target: u64,
        emoji: &str,
        added: bool,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.speaker(staff)?;
        let reacted = self.messages.react(poster(staff), target, emoji, added)?;
        Ok(vec![ChannelEventKind::Reacted(reacted)])
    }

    /// `staff` joins a public channel; `memberships` is how many they belong to already.
    pub fn join(
        &self,
        staff: &Staff,
        memberships: usize,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.may_read(staff)?;
        if self.member(staff.id).is_some() {
            return Err(RuleError::AlreadyChannelMember);
        }
        self.room_for_one(memberships)?;
        Ok(vec![joined(staff, ChannelRole::Member, None)])
    }

    /// A member adds a colleague (`memberships`: how many channels the colleague belongs
    /// to already); a private channel's new member hears of it.
    pub fn add(
        &self,
        by: &Staff,
        colleague: &Staff,
        memberships: usize,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.may_read(by)?;
        if self.visibility == Visibility::Direct {
            return Err(RuleError::DirectMessageFixed);
        }
        self.speaker(by)?;
        if self.member(colleague.id).is_some() {
            return Err(RuleError::AlreadyChannelMember);
        }
        self.room_for_one(memberships)?;
        Ok(vec![joined(colleague, ChannelRole::Member, Some(by.id))])
    }

    fn room_for_one(&self, memberships: usize) -> Result<(), RuleError> {
        if self.archived {
            return Err(RuleError::ChannelArchived);
        }
        if self.members.len() >= MAX_MEMBERS {
            return Err(RuleError::ChannelFull);
        }
        may_belong(memberships)
    }

    /// A member leaves (a direct message cannot be left).
    pub fn leave(&self, staff: &Staff) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.may_read(staff)?;
        if self.member(staff.id).is_none() {
            return Err(RuleError::NotAChannelMember);
        }
        if self.visibility == Visibility::Direct {
            return Err(RuleError::DirectMessageFixed);
        }
        Ok(vec![ChannelEventKind::Left { user: staff.id }])
    }

    /// A channel admin (or an organisation admin) removes a member.
    pub fn remove(&self, by: &Staff, user: UserId) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.manager(by)?;
        if self.member(user).is_none() {
            return Err(RuleError::NotChannelMember);
        }
        Ok(vec![ChannelEventKind::Removed { user, by: by.id }])
    }

    /// A channel admin (or an organisation admin) renames the channel. That no other
    /// channel has the name is storage's to check.
    pub fn rename(&self, by: &Staff, name: &str) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.manager(by)?;
        check_name(name)?;
        Ok(vec![ChannelEventKind::Renamed {
            name: name.to_owned(),
            by: by.id,
        }])
    }

    /// A channel admin (or an organisation admin) changes the description.
    pub fn describe(
        &self,
        by: &Staff,
        description: &str,
    ) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.manager(by)?;
        check_description(description)?;
        Ok(vec![ChannelEventKind::Described {
            description: description.to_owned(),
            by: by.id,
        }])
    }

    /// A channel admin (or an organisation admin) archives the channel (`archived`) or
    /// opens it again.
    pub fn archive(&self, by: &Staff, archived: bool) -> Result<Vec<ChannelEventKind>, RuleError> {
        self.manager(by)?;
        match (self.archived, archived) {
            (false, true) => Ok(vec![ChannelEventKind::Archived { by: by.id }]),
            (true, false) => Ok(vec![ChannelEventKind::Unarchived { by: by.id }]),
            (true, true) => Err(RuleError::ChannelArchived),
            (false, false) => Err(RuleError::ChannelNotArchived),
        }
    }

    /// Whether `staff` may mute the channel for themselves: its members (a muted channel
    /// leaves their unread total).
    pub fn may_mute(&self, staff: &Staff) -> Result<(), RuleError> {
        self.may_read(staff)?;
        match self.member(staff.id) {
            Some(_) => Ok(()),
            None => Err(RuleError::NotAChannelMember),
        }
    }

    /// Whether `by` may delete the channel with everything in it.
    pub fn may_delete(&self, by: &Staff) -> Result<(), RuleError> {
        self.manager(by)
    }

    /// Whether `staff` may tell the channel they are typing: whoever may post.
    pub fn typing(&self, staff: &Staff) -> Result<(), RuleError> {
        self.speaker(staff)
    }
}

fn joined(staff: &Staff, role: ChannelRole, by: Option<UserId>) -> ChannelEventKind {
    ChannelEventKind::Joined {
        user: staff.id,
        name: staff.display_name.clone(),
        avatar_url: staff.avatar_url.clone(),
        role,
        by,
    }
}

fn poster(staff: &Staff) -> Poster {
    Poster::Staff(Author::Staff(staff.id))
}

/// The staff member acting, or `UnknownChannel` for a customer: to a customer no channel
/// exists.
fn staff_of(party: Party<'_>) -> Result<&Staff, RuleError> {
    match party {
        Party::Staff(staff) => Ok(staff),
        Party::Customer(_) => Err(RuleError::UnknownChannel),
    }
}

impl Stream for Channel {
    type Id = ChannelId;
    type Kind = ChannelEventKind;

    fn id(&self) -> ChannelId {
        self.id
    }

    fn last_seq(&self) -> u64 {
        self.last_seq
    }

    fn messages(&self) -> &Messages {
        &self.messages
    }

    fn messages_mut(&mut self) -> &mut Messages {
        &mut self.messages
    }

    fn apply(&mut self, recorded: &ChannelEvent) {
        let seq = recorded.seq;
        self.last_seq = seq;
        self.last_activity_at = self.last_activity_at.max(recorded.at);
        if let Some(message) = recorded.kind.message_event() {
            if let (MessageEvent::Posted(..), Author::Staff(user)) = (message, recorded.author) {
                let times = self.recent_posts.entry(user).or_default();
                times.push_back(recorded.at);
                while times.len() > MAX_POSTS_PER_WINDOW {
                    times.pop_front();
                }
            }
            self.messages
                .apply(seq, recorded.author, recorded.at, message);
            return;
        }
        match &recorded.kind {
            ChannelEventKind::Created {
                visibility,
                name,
                description,
            } => {
                self.visibility = *visibility;
                self.name = name.clone();
                self.description = description.clone();
            }
            ChannelEventKind::Message(_)
            | ChannelEventKind::Edited(_)
            | ChannelEventKind::Deleted(_)
            | ChannelEventKind::Reacted(_) => {}
            ChannelEventKind::Joined { user, role, .. } => {
                if self.member(*user).is_none() {
                    self.members.push(ChannelMember {
                        user: *user,
                        role: *role,
                        since: seq,
                    });
                }
            }
            ChannelEventKind::Left { user } | ChannelEventKind::Removed { user, .. } => {
                self.members.retain(|m| m.user != *user)
            }
            ChannelEventKind::Renamed { name, .. } => self.name = name.clone(),
            ChannelEventKind::Described { description, .. } => {
                self.description = description.clone()
            }
            ChannelEventKind::Archived { .. } => self.archived = true,
            ChannelEventKind::Unarchived { .. } => self.archived = false,
        }
    }

    /// Every event goes to every reader following the channel: after it, those who may no
    /// longer follow it (a member who left a private channel) stop receiving it, their own
    /// leaving included.
    fn apply_action(&mut self, events: &[ChannelEvent]) -> Vec<Audience> {
        for event in events {
            self.apply(event);
        }
        vec![Audience::Followers; events.len()]
    }

    fn live_reader(&self, party: Party<'_>) -> Result<Reader, RuleError> {
        let staff = staff_of(party)?;
        self.may_read(staff)?;
        Ok(Reader::Staff(staff.id))
    }

    fn may_follow(&self, reader: Reader) -> bool {
        match reader {
            Reader::Staff(user) => {
                self.visibility == Visibility::Public || self.member(user).is_some()
            }
            Reader::Customer => false,
        }
    }

    fn history_view(&self, party: Party<'_>) -> Result<View, RuleError> {
        self.may_read(staff_of(party)?)?;
        Ok(View::Staff)
    }

    /// Nobody beyond the page's authors: a channel may have thousands of members, whom
    /// readers find in its member list.
    fn cast(&self, _view: View) -> Vec<Author> {
        Vec::new()
    }

    fn typing(&self, party: Party<'_>) -> Result<(), RuleError> {
        Channel::typing(self, staff_of(party)?)
    }

    fn may_upload(&self, party: Party<'_>) -> Result<(), RuleError> {
        Channel::may_upload(self, staff_of(party)?)
    }
}
