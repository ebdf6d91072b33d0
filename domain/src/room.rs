//! A conversation's live state and the rules of what each party may do in it.
//!
//! Every action is decided by a method that looks at the state and returns the events it
//! produces (or why it is refused); [`Room::apply`] then moves the state on. Deciding never
//! changes anything, so a refused action leaves no trace.

use super::article::{Suggestion, MAX_SUGGESTIONS};
use super::error::RuleError;
use super::event::{
    is_web_url, Author, CloseReason, Event, EventKind, InviteTarget, Link, Mode, PostKind,
};
use super::ids::{ArticleId, ConversationId, CustomerId, InvitationId, TeamId, UserId};
use super::message::{
    mentions_of, Attachment, Mention, Message, Messages, Poster, Upload, MAX_ATTACHMENTS,
};
use super::staff::{Permission, Staff};
use super::stream::{Audience, Kind, Reader, Stream};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Most invitations a conversation may have pending at once (against invitation spam).
pub const MAX_PENDING_INVITATIONS: usize = 5;
/// Most staff one conversation may be assigned to at once.
pub const MAX_ASSIGNEES: usize = 10;
/// Most records one conversation may be linked to.
pub const MAX_LINKS: usize = 20;
/// The furthest ahead a conversation may be snoozed (milliseconds).
pub const MAX_SNOOZE_MS: i64 = 30 * 24 * 3600 * 1000;

/// Who an assignment by routing is by, as people read it.
pub const ROUTING_NAME: &str = "automatic routing";

/// Follows the name of whoever set a contact's defaults, as the `by_name` of the
/// assignments those defaults make.
pub const CONTACT_DEFAULTS_NAME: &str = "(contact defaults)";

/// Where a conversation is in its life: `waiting → active → closed` (and back by reopening).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Started by the customer, not yet picked up by an agent.
    Waiting,
    /// Has a lead.
    Active,
    /// Solved; nothing can be posted.
    Closed,
}

impl Status {
    /// The status's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Active => "active",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not `waiting`, `active` or `closed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}: expected waiting, active or closed")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "waiting" => Ok(Status::Waiting),
            "active" => Ok(Status::Active),
            "closed" => Ok(Status::Closed),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

/// A staff member in the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub mode: Mode,
    /// The sequence number of the event by which they joined: smaller means longer attending.
    pub since: u64,
}

/// An invitation that nobody has accepted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub id: InvitationId,
    pub inviter: UserId,
    pub mode: Mode,
    /// Who may still accept it.
    pub candidates: Vec<UserId>,
    /// Milliseconds since the Unix epoch.
    pub expires_at: i64,
}

/// Someone who could be offered an invitation, with whether they are online now.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub staff: Staff,
    pub online: bool,
}

/// Who is acting.
#[derive(Debug, Clone, Copy)]
pub enum Party<'a> {
    Customer(CustomerId),
    Staff(&'a Staff),
}

/// Whose eyes a reader has: staff see every event, the customer only what is meant for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Staff,
    Customer,
}

/// A message as its author wrote it, with what the server resolved for it: the staff its
/// `@` mentions name, and the uploads it carries (checked to be the author's, of this room).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub kind: PostKind,
    pub body: String,
    /// The earlier message (by `seq`) it quotes.
    pub quote: Option<u64>,
    pub attachments: Vec<Attachment>,
}

impl Draft {
    /// A plain text message.
    pub fn text(kind: PostKind, body: impl Into<String>) -> Draft {
        Draft {
            kind,
            body: body.into(),
            quote: None,
            attachments: Vec::new(),
        }
    }
}

/// What a post turns into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// The message goes into this conversation.
    Post(EventKind),
    /// The customer wrote after close: the message starts a new conversation linked to this one.
    StartFollowUp,
}

/// The state of one conversation that the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: ConversationId,
    pub team: TeamId,
    pub customer: CustomerId,
    pub status: Status,
    pub restricted: bool,
    /// Staff in the room, in the order they joined.
    pub members: Vec<Member>,
    pub invitations: Vec<PendingInvitation>,
    /// The messages held, as the rules of edits, deletes, reactions and quotes need them.
    pub messages: Messages,
    /// The staff responsible for the conversation, in the order they were assigned.
    pub assignees: Vec<UserId>,
    /// The customer's name, from the `opened` event.
    pub customer_name: String,
    /// When set, only these staff (and admins) may view the conversation.
    pub viewers: Option<Vec<UserId>>,
    /// The records elsewhere it is linked to.
    pub links: Vec<Link>,
    /// Offers routing made that are not taken yet: the agent, and when it was made.
    pub offers: Vec<(UserId, i64)>,
    /// Put aside until then (milliseconds since the Unix epoch).
    pub snoozed_until: Option<i64>,
    /// The articles suggested to the customer so far.
    pub suggested: Vec<ArticleId>,
    /// When the last event happened.
    pub last_activity_at: i64,
    /// The sequence number of the last event applied (0 before any).
    pub last_seq: u64,
}

impl Room {
    /// A conversation just started by its customer, waiting for an agent.
    pub fn new(id: ConversationId, team: TeamId, customer: CustomerId, restricted: bool) -> Self {
        Room {
            id,
            team,
            customer,
            status: Status::Waiting,
            restricted,
            members: Vec::new(),
            invitations: Vec::new(),
            messages: Messages::default(),
            assignees: Vec::new(),
            customer_name: String::new(),
            viewers: None,
            links: Vec::new(),
            offers: Vec::new(),
            snoozed_until: None,
            suggested: Vec::new(),
            last_activity_at: 0,
            last_seq: 0,
        }
    }

    /// The member record of `user`, if they are in the room.
    pub fn member(&self, user: UserId) -> Option<&Member> {
        self.members.iter().find(|m| m.user == user)
    }

    /// The current lead, if any.
    pub fn lead(&self) -> Option<UserId> {
        self.members
            .iter()
            .find(|m| m.mode == Mode::Lead)
            .map(|m| m.user)
    }

    /// Whether `staff` may read this conversation's transcript (the REST view and history).
    pub fn may_view(&self, staff: &Staff) -> bool {
        self.why_not_view(staff).is_none()
    }

    /// Why `staff` may not view this conversation, if they may not: their role, its team's
    /// restriction, or its list of viewers.
    pub fn why_not_view(&self, staff: &Staff) -> Option<RuleError> {
        if !staff.can(Permission::ConversationsRead) {
            Some(RuleError::Forbidden)
        } else if staff.views_every_team() {
            None
        } else if self.restricted && !staff.in_team(self.team) {
            Some(RuleError::RestrictedToTeam)
        } else if self
            .viewers
            .as_ref()
            .is_some_and(|list| !list.contains(&staff.id))
        {
            Some(RuleError::NotOnTheList)
        } else {
            None
        }
    }

    /// How `party` may follow the room live: staff in the room, and its own customer.
    pub fn live_view(&self, party: Party<'_>) -> Result<View, RuleError> {
        match party {
            Party::Customer(customer) if customer == self.customer => Ok(View::Customer),
            Party::Customer(_) => Err(RuleError::Forbidden),
            Party::Staff(staff) if self.member(staff.id).is_some() => Ok(View::Staff),
            Party::Staff(_) => Err(RuleError::NotAParticipant),
        }
    }

    /// How `party` may read the transcript: its own customer, and staff who may view it
    /// (in the room or not).
    pub fn transcript_view(&self, party: Party<'_>) -> Result<View, RuleError> {
        match party {
            Party::Customer(customer) if customer == self.customer => Ok(View::Customer),
            Party::Customer(_) => Err(RuleError::Forbidden),
            Party::Staff(staff) => match self.why_not_view(staff) {
                None => Ok(View::Staff),
                Some(why) => Err(why),
            },
        }
    }

    /// Whether a staff member `user` should receive `event`, judged after it was applied:
    /// members do, and so does whoever the event just removed (their own leave, the close).
    pub fn staff_receives(&self, user: UserId, event: &EventKind) -> bool {
        self.member(user).is_some()
            || matches!(event, EventKind::Left { user: u, .. } if *u == user)
            || matches!(event, EventKind::Closed { .. })
    }

    fn pending(&self, id: InvitationId) -> Result<&PendingInvitation, RuleError> {
        self.invitations
            .iter()
            .find(|i| i.id == id)
            .ok_or(RuleError::InvitationNotPending)
    }

    fn not_closed(&self) -> Result<(), RuleError> {
        match self.status {
            Status::Closed => Err(RuleError::ConversationClosed),
            _ => Ok(()),
        }
    }

    fn active(&self) -> Result<(), RuleError> {
        match self.status {
            Status::Active => Ok(()),
            Status::Waiting => Err(RuleError::NotActive),
            Status::Closed => Err(RuleError::ConversationClosed),
        }
    }

    /// The member record of `staff` when they may act in the room (lead or participant).
    fn speaker(&self, staff: &Staff) -> Result<&Member, RuleError> {
        let member = self.member(staff.id).ok_or(RuleError::NotAParticipant)?;
        if member.mode.may_post() {
            Ok(member)
        } else {
            Err(RuleError::MonitorReadOnly)
        }
    }

    fn joined(staff: &Staff, mode: Mode, invitation: Option<InvitationId>) -> EventKind {
        EventKind::Joined {
            user: staff.id,
            mode,
            name: staff.display_name.clone(),
            avatar_url: staff.avatar_url.clone(),
            invitation,
        }
    }

    /// A reply or note. Customers only reply, and a customer writing after close starts a
    /// follow-up conversation; staff must be lead or participant. A message has text or
    /// attachments; it may quote an earlier message its readers may all see, and mention
    /// staff who may view the conversation (`mentioned`, resolved from its `@` names; only
    /// staff messages are searched for them).
    pub fn post(
        &self,
        party: Party<'_>,
        draft: Draft,
        mentioned: &[Staff],
    ) -> Result<PostOutcome, RuleError> {
        if draft.body.trim().is_empty() && draft.attachments.is_empty() {
            return Err(RuleError::EmptyMessage);
        }
        if draft.attachments.len() > MAX_ATTACHMENTS {
            return Err(RuleError::TooManyAttachments);
        }
        if draft.kind == PostKind::Message {
            return Err(RuleError::InvalidPostKind);
        }
        match party {
            Party::Customer(customer) => {
                if customer != self.customer {
                    return Err(RuleError::Forbidden);
                }
                if draft.kind == PostKind::Note {
                    return Err(RuleError::CustomersCannotWriteNotes);
                }
                if self.status == Status::Closed {
                    // Files and quotes belong to the closed conversation, not to the new one.
                    if !draft.attachments.is_empty() || draft.quote.is_some() {
                        return Err(RuleError::ConversationClosed);
                    }
                    return Ok(PostOutcome::StartFollowUp);
                }
            }
            Party::Staff(staff) => {
                self.not_closed()?;
                self.speaker(staff)?;
            }
        }
        let quote = draft
            .quote
            .map(|seq| self.messages.quote(poster(party), draft.kind, seq))
            .transpose()?;
        let message = Message {
            body: draft.body,
            attachments: draft.attachments,
            quote,
            mentions: self.mentions(party, mentioned)?,
            ..Message::default()
        };
        Ok(PostOutcome::Post(match draft.kind {
            PostKind::Note => EventKind::Note(message),
            PostKind::Reply | PostKind::Message => EventKind::Reply(message),
        }))
    }

    /// The mentions of a message by `party`: none for the customer, and for staff each
    /// colleague named, who must be allowed to view the conversation (so that a mention
    /// never shows anyone a conversation they may not see).
    fn mentions(&self, party: Party<'_>, mentioned: &[Staff]) -> Result<Vec<Mention>, RuleError> {
        if matches!(party, Party::Customer(_)) {
            return Ok(Vec::new());
        }
        mentions_of(mentioned, |staff| self.may_view(staff))
    }

    /// Who may change messages of this open conversation: its customer, and staff who may
    /// speak (lead and participants).
    fn may_change_messages(&self, party: Party<'_>) -> Result<(), RuleError> {
        // Another customer learns nothing of this conversation, not even that it closed.
        if matches!(party, Party::Customer(customer) if customer != self.customer) {
            return Err(RuleError::Forbidden);
        }
        self.not_closed()?;
        match party {
            Party::Customer(_) => Ok(()),
            Party::Staff(staff) => self.speaker(staff).map(|_| ()),
        }
    }

    /// Whether `party` may upload files to the conversation: whoever may post in it while
    /// it is open (its customer, its lead and participants).
    pub fn may_upload(&self, party: Party<'_>) -> Result<(), RuleError> {
        self.may_change_messages(party)
    }

    /// The files `ids` as a message by `party` may carry them at `now`, given the
    /// `uploads` found for them: each must be the author's own upload to this
    /// conversation, not yet on a message (a file goes out once, so deleting its message
    /// deletes it), and recent enough ([`crate::message::UPLOAD_USABLE_MS`]).
    pub fn attachments(
        &self,
        party: Party<'_>,
        ids: &[crate::ids::AttachmentId],
        uploads: &[Upload],
        now: i64,
    ) -> Result<Vec<Attachment>, RuleError> {
        self.messages
            .attachments(self.id.0, poster(party).author(), ids, uploads, now)
    }

    /// The author edits their own message: staff at any time while they may speak, the
    /// customer their own replies within `customer_window` milliseconds of posting.
    pub fn edit(
        &self,
        party: Party<'_>,
        target: u64,
        body: &str,
        mentioned: &[Staff],
        customer_window: i64,
        now: i64,
    ) -> Result<Vec<EventKind>, RuleError> {
        self.may_change_messages(party)?;
        let mentions = self.mentions(party, mentioned)?;
        let edit = self.messages.edit(
            poster(party),
            target,
            body,
            mentions,
            window(party, customer_window),
            now,
        )?;
        Ok(vec![EventKind::Edited(edit)])
    }

    /// A message is deleted: by its author, under the same conditions as an edit, or by an
    /// admin who may view the conversation, at any time, even after close (to remove what
    /// should never have been written).
    pub fn delete_message(
        &self,
        party: Party<'_>,
        target: u64,
        customer_window: i64,
        now: i64,
    ) -> Result<Vec<EventKind>, RuleError> {
        let moderator = matches!(party, Party::Staff(staff)
            if staff.can(Permission::ConversationsDelete) && self.may_view(staff));
        if !moderator {
            self.may_change_messages(party)?;
        }
        let deletion = self.messages.delete(
            poster(party),
            target,
            moderator,
            window(party, customer_window),
            now,
        )?;
        Ok(vec![EventKind::Deleted(deletion)])
    }

    /// The customer (on replies) or a staff member who may speak adds an emoji to a
    /// message, or takes theirs off (`added: false`). Monitors stay silent here too.
    pub fn react(
        &self,
        party: Party<'_>,
        target: u64,
        emoji: &str,
        added: bool,
    ) -> Result<Vec<EventKind>, RuleError> {
        self.may_change_messages(party)?;
        let reacted = self.messages.react(poster(party), target, emoji, added)?;
        Ok(vec![EventKind::Reacted(reacted)])
    }

    /// Whether `party` may tell the room they are typing: the customer, the lead and the
    /// participants, while the conversation is open (monitors stay unseen).
    pub fn typing(&self, party: Party<'_>) -> Result<(), RuleError> {
        self.not_closed()?;
        match party {
            Party::Customer(customer) if customer == self.customer => Ok(()),
            Party::Customer(_) => Err(RuleError::Forbidden),
            Party::Staff(staff) => self.speaker(staff).map(|_| ()),
        }
    }

    /// An agent of the conversation's team takes a waiting conversation and becomes its lead.
    pub fn pick_up(&self, staff: &Staff) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        if self.status != Status::Waiting {
            return Err(RuleError::NotWaiting);
        }
        if !staff.can(Permission::ConversationsRead) {
            return Err(RuleError::Forbidden);
        }
        if !staff.in_team(self.team) {
            return Err(RuleError::NotInTeam);
        }
        Ok(vec![Self::joined(staff, Mode::Lead, None)])
    }

    /// A supervisor or admin joins as a silent monitor without an invitation.
    pub fn monitor(&self, staff: &Staff) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        if !staff.can(Permission::ConversationsMonitor) {
            return Err(RuleError::Forbidden);
        }
        // A restricted team admits only its own members into the room, admins included.
        if self.restricted && !staff.in_team(self.team) {
            return Err(RuleError::RestrictedToTeam);
        }
        if let Some(why) = self.why_not_view(staff) {
            return Err(why);
        }
        if self.member(staff.id).is_some() {
            return Err(RuleError::AlreadyInConversation);
        }
        Ok(vec![Self::joined(staff, Mode::Monitor, None)])
    }

    /// Why `candidate` cannot be offered an invitation to this room, if they cannot.
    fn ineligible(&self, candidate: &Candidate) -> Option<RuleError> {
        let staff = &candidate.staff;
        if self.member(staff.id).is_some() {
            Some(RuleError::InviteeAlreadyInConversation)
        } else if !staff.can(Permission::ConversationsRead) {
            Some(RuleError::InviteeNotAllowed)
        } else if self.restricted && !staff.in_team(self.team) {
            Some(RuleError::RestrictedToTeam)
        } else if let Some(why) = self.why_not_view(staff) {
            Some(why)
        } else if !candidate.online {
            Some(RuleError::InviteeOffline)
        } else if self
            .invitations
            .iter()
            .any(|i| i.candidates.contains(&staff.id))
        {
            Some(RuleError::AlreadyInvited)
        } else {
            None
        }
    }

    /// The lead or a participant invites one agent, or a whole team or skill (first to accept
    /// joins), as participant or monitor. `candidates` are the staff the target names, with
    /// whether each is online; only those who may be invited are offered it.
    pub fn invite(
        &self,
        inviter: &Staff,
        target: &InviteTarget,
        mode: Mode,
        candidates: &[Candidate],
        invitation: InvitationId,
        expires_at: i64,
    ) -> Result<Vec<EventKind>, RuleError> {
        self.active()?;
        self.speaker(inviter)?;
        if !inviter.can(Permission::ConversationsInvite) {
            return Err(RuleError::Forbidden);
        }
        if mode == Mode::Lead {
            return Err(RuleError::InvalidInviteMode);
        }
        if self.invitations.len() >= MAX_PENDING_INVITATIONS {
            return Err(RuleError::TooManyInvitations);
        }
        let named = |c: &&Candidate| match target {
            InviteTarget::Agent(id) => c.staff.id == *id,
            InviteTarget::Team(team) => c.staff.in_team(*team),
            InviteTarget::Skill(skill) => c.staff.has_skill(skill),
        };
        let offered: Vec<UserId> = match target {
            InviteTarget::Agent(_) => {
                let candidate = candidates
                    .iter()
                    .find(named)
                    .ok_or(RuleError::NoAvailableInvitee)?;
                if let Some(why) = self.ineligible(candidate) {
                    return Err(why);
                }
                vec![candidate.staff.id]
            }
            InviteTarget::Team(_) | InviteTarget::Skill(_) => candidates
                .iter()
                .filter(named)
                .filter(|c| self.ineligible(c).is_none())
                .map(|c| c.staff.id)
                .collect(),
        };
        if offered.is_empty() {
            return Err(RuleError::NoAvailableInvitee);
        }
        Ok(vec![EventKind::Invited {
            invitation,
            inviter: inviter.id,
            target: target.clone(),
            mode,
            candidates: offered,
            expires_at,
        }])
    }

    /// A candidate accepts a pending invitation and joins; the others' offers are withdrawn.
    pub fn accept(
        &self,
        staff: &Staff,
        invitation: InvitationId,
        now: i64,
    ) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        let pending = self.pending(invitation)?;
        if !pending.candidates.contains(&staff.id) {
            return Err(RuleError::NotInvited);
        }
        if now >= pending.expires_at {
            return Err(RuleError::InvitationExpired);
        }
        if self.member(staff.id).is_some() {
            return Err(RuleError::AlreadyInConversation);
        }
        if let Some(why) = self.why_not_view(staff) {
            return Err(why);
        }
        Ok(vec![Self::joined(staff, pending.mode, Some(invitation))])
    }

    /// A candidate turns an invitation down; the inviter hears of it.
    pub fn decline(
        &self,
        staff: &Staff,
        invitation: InvitationId,
    ) -> Result<Vec<EventKind>, RuleError> {
        let pending = self.pending(invitation)?;
        if !pending.candidates.contains(&staff.id) {
            return Err(RuleError::NotInvited);
        }
        Ok(vec![EventKind::InvitationDeclined {
            invitation,
            by: staff.id,
            remaining: pending.candidates.len() - 1,
        }])
    }

    /// The inviter or the lead withdraws a pending invitation.
    pub fn cancel(
        &self,
        staff: &Staff,
        invitation: InvitationId,
    ) -> Result<Vec<EventKind>, RuleError> {
        let pending = self.pending(invitation)?;
        if pending.inviter != staff.id && self.lead() != Some(staff.id) {
            return Err(RuleError::NotInviter);
        }
        Ok(vec![EventKind::InvitationCancelled { invitation }])
    }

    /// The invitation lapses if it is still pending and its time is up.
    pub fn expire(&self, invitation: InvitationId, now: i64) -> Option<EventKind> {
        let pending = self.pending(invitation).ok()?;
        (now >= pending.expires_at).then_some(EventKind::InvitationExpired { invitation })
    }

    /// A staff member leaves. The lead's role passes to the longest-attending participant;
    /// the last agent who may speak cannot leave and must close instead.
    pub fn leave(&self, staff: &Staff) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        let member = self.member(staff.id).ok_or(RuleError::NotAParticipant)?;
        let left = EventKind::Left {
            user: staff.id,
            mode: member.mode,
        };
        if member.mode != Mode::Lead {
            return Ok(vec![left]);
        }
        let successor = self
            .members
            .iter()
            .filter(|m| m.mode == Mode::Participant)
            .min_by_key(|m| m.since)
            .ok_or(RuleError::LastAgent)?;
        Ok(vec![
            left,
            EventKind::LeadTransferred {
                from: staff.id,
                to: successor.user,
            },
        ])
    }

    /// The lead or a participant hands the lead to another participant.
    pub fn transfer(&self, staff: &Staff, to: UserId) -> Result<Vec<EventKind>, RuleError> {
        self.active()?;
        self.speaker(staff)?;
        let lead = self.lead().ok_or(RuleError::NotActive)?;
        match self.member(to) {
            Some(m) if m.mode == Mode::Participant => {
                Ok(vec![EventKind::LeadTransferred { from: lead, to }])
            }
            _ => Err(RuleError::TransferTargetNotParticipant),
        }
    }

    /// The conversation is closed ("solved"), with an optional resolution note; pending
    /// invitations are cancelled. The lead and participants close an active conversation;
    /// its assignees and admins who may view it close it at any time, in the room or not,
    /// even while it waits (spam, a duplicate).
    pub fn close(
        &self,
        staff: &Staff,
        resolution: Option<&str>,
    ) -> Result<Vec<EventKind>, RuleError> {
        let responsible =
            self.is_assigned(staff.id) || (staff.views_every_team() && self.may_view(staff));
        if responsible {
            self.not_closed()?;
        } else {
            self.active()?;
            self.speaker(staff)?;
        }
        let mut events: Vec<EventKind> = self
            .invitations
            .iter()
            .map(|i| EventKind::InvitationCancelled { invitation: i.id })
            .collect();
        let resolution = resolution
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        events.push(EventKind::Closed {
            resolution,
            reason: None,
        });
        Ok(events)
    }

    /// Puts the open conversation aside until `until`: by those who may close it. It wakes
    /// then ([`Self::wake`]), or as soon as the customer writes.
    pub fn snooze(&self, staff: &Staff, until: i64, now: i64) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        let responsible = self.is_assigned(staff.id)
            || (staff.views_every_team() && self.may_view(staff))
            || self.speaker(staff).is_ok();
        if !responsible {
            return Err(RuleError::NotAParticipant);
        }
        if until <= now || until > now + MAX_SNOOZE_MS {
            return Err(RuleError::InvalidSnooze);
        }
        Ok(vec![EventKind::Snoozed {
            until,
            by: staff.id,
        }])
    }

    /// The wake-up of a snoozed conversation whose time has come at `now` (or, with
    /// `customer_wrote`, at once).
    pub fn wake(&self, now: i64, customer_wrote: bool) -> Option<EventKind> {
        let until = self.snoozed_until?;
        (customer_wrote || now >= until).then_some(EventKind::Woke)
    }

    /// The close of an open conversation nothing happened in for `after` milliseconds
    /// before `now`, with the reason said.
    pub fn close_if_idle(&self, now: i64, after: i64) -> Option<Vec<EventKind>> {
        if self.status == Status::Closed || now - self.last_activity_at < after {
            return None;
        }
        let mut events: Vec<EventKind> = self
            .invitations
            .iter()
            .map(|i| EventKind::InvitationCancelled { invitation: i.id })
            .collect();
        events.push(EventKind::Closed {
            resolution: None,
            reason: Some(CloseReason::Inactivity),
        });
        Some(events)
    }

    /// Whether `user` is one of the conversation's assignees.
    pub fn is_assigned(&self, user: UserId) -> bool {
        self.assignees.contains(&user)
    }

    /// Whether `staff` may decide who is responsible for the conversation: its lead, or a
    /// supervisor or admin who may view it.
    fn may_assign(&self, staff: &Staff) -> bool {
        self.may_view(staff)
            && (self.lead() == Some(staff.id) || staff.can(Permission::ConversationsMonitor))
    }

    /// `by` makes `assignee` responsible for the open conversation. The lead, supervisors
    /// and admins assign anyone who may view it; an agent of the conversation's team may
    /// take a waiting one themselves. With `replace`, the other assignees are unassigned,
    /// and when the lead was one of them and the new assignee is a participant, the lead
    /// passes to them (re-assigning to another member is a transfer).
    pub fn assign(
        &self,
        by: &Staff,
        assignee: &Staff,
        replace: bool,
    ) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        let taking_waiting = by.id == assignee.id
            && self.status == Status::Waiting
            && by.in_team(self.team)
            && by.can(Permission::ConversationsRead);
        if !self.may_assign(by) && !taking_waiting {
            return Err(RuleError::MayNotAssign);
        }
        if !self.may_view(assignee) {
            return Err(RuleError::AssigneeCannotView);
        }
        if self.is_assigned(assignee.id) {
            return Err(RuleError::AlreadyAssigned);
        }
        let others: Vec<UserId> = if replace {
            self.assignees.clone()
        } else {
            Vec::new()
        };
        if self.assignees.len() - others.len() >= MAX_ASSIGNEES {
            return Err(RuleError::TooManyAssignees);
        }
        let mut events: Vec<EventKind> = others
            .iter()
            .map(|user| EventKind::Unassigned {
                user: *user,
                by: by.id,
            })
            .collect();
        events.push(EventKind::Assigned {
            user: assignee.id,
            name: assignee.display_name.clone(),
            by: by.id,
            by_name: by.display_name.clone(),
        });
        let lead = self.lead();
        let moves_lead = lead.is_some_and(|l| others.contains(&l))
            && self
                .member(assignee.id)
                .is_some_and(|m| m.mode == Mode::Participant);
        if let (true, Some(from)) = (moves_lead, lead) {
            events.push(EventKind::LeadTransferred {
                from,
                to: assignee.id,
            });
        }
        Ok(events)
    }

    /// Routing offers the waiting conversation to `agent`: they become its assignee (and
    /// `join` to take it). The server is the one assigning.
    pub fn offer(&self, agent: &Staff) -> Result<Vec<EventKind>, RuleError> {
        if self.status != Status::Waiting {
            return Err(RuleError::NotWaiting);
        }
        if !self.may_view(agent) || !agent.in_team(self.team) {
            return Err(RuleError::AssigneeCannotView);
        }
        if self.is_assigned(agent.id) {
            return Err(RuleError::AlreadyAssigned);
        }
        Ok(vec![EventKind::Assigned {
            user: agent.id,
            name: agent.display_name.clone(),
            by: agent.id,
            by_name: ROUTING_NAME.to_owned(),
        }])
    }

    /// An offer that `agent` let go by: if the conversation still waits and they have not
    /// joined, they are no longer its assignee (routing offers it to the next).
    pub fn lapse_offer(&self, agent: UserId) -> Option<EventKind> {
        (self.status == Status::Waiting && self.is_assigned(agent) && self.member(agent).is_none())
            .then_some(EventKind::Unassigned {
                user: agent,
                by: agent,
            })
    }

    /// `by` takes `user` off the conversation's assignees: the lead, a supervisor or an
    /// admin who may view it, or the assignee themselves.
    pub fn unassign(&self, by: &Staff, user: UserId) -> Result<Vec<EventKind>, RuleError> {
        if !self.may_assign(by) && by.id != user {
            return Err(RuleError::MayNotAssign);
        }
        if !self.is_assigned(user) {
            return Err(RuleError::NotAssigned);
        }
        Ok(vec![EventKind::Unassigned { user, by: by.id }])
    }

    /// `by` (the lead, a supervisor or an admin who may view it) makes the conversation
    /// visible only to `listed` and admins, or, with `None`, to its team again. The setter
    /// and the lead are always on the list. Who is not on it loses it at once: they leave
    /// the room (admins too, who may come back), stop being assignees, and lose the
    /// invitations offered only to them.
    pub fn set_viewers(
        &self,
        by: &Staff,
        listed: Option<&[Staff]>,
    ) -> Result<Vec<EventKind>, RuleError> {
        if !self.may_assign(by) {
            return Err(RuleError::MayNotAssign);
        }
        let Some(listed) = listed else {
            return Ok(vec![EventKind::ViewersCleared { by: by.id }]);
        };
        let mut users: Vec<UserId> = vec![by.id];
        users.extend(self.lead());
        for staff in listed {
            // The team's restriction still holds: a list narrows it, never widens it.
            let mut unlisted = self.clone();
            unlisted.viewers = None;
            if !unlisted.may_view(staff) {
                return Err(RuleError::AssigneeCannotView);
            }
            users.push(staff.id);
        }
        users.sort();
        users.dedup();
        let mut after = self.clone();
        after.viewers = Some(users.clone());
        let mut events = vec![EventKind::ViewersSet { users, by: by.id }];
        // Anyone not on it goes (an admin among them may come back: admins view every list).
        let gone = |user: &UserId| !after.viewers.as_ref().is_some_and(|l| l.contains(user));
        for member in self.members.iter().filter(|m| gone(&m.user)) {
            events.push(EventKind::Left {
                user: member.user,
                mode: member.mode,
            });
        }
        for user in self.assignees.iter().filter(|u| gone(u)) {
            events.push(EventKind::Unassigned {
                user: *user,
                by: by.id,
            });
        }
        for invitation in &self.invitations {
            if invitation.candidates.iter().all(gone) {
                events.push(EventKind::InvitationCancelled {
                    invitation: invitation.id,
                });
            }
        }
        Ok(events)
    }

    /// A new conversation of a contact with predefined handling starts with it, `by`
    /// being who predefined it: the list of viewers first, then each assignee who may view
    /// the conversation. One who no longer may (they left the team, or lost the right) is
    /// passed over rather than refused: the customer's chat opens all the same.
    pub fn contact_defaults(
        &self,
        by: &Staff,
        assignees: &[Staff],
        viewers: Option<&[UserId]>,
    ) -> Vec<EventKind> {
        let mut after = self.clone();
        let mut events = Vec::new();
        if let Some(users) = viewers {
            after.viewers = Some(users.to_vec());
            events.push(EventKind::ViewersSet {
                users: users.to_vec(),
                by: by.id,
            });
        }
        let by_name = format!("{} {CONTACT_DEFAULTS_NAME}", by.display_name);
        for assignee in assignees.iter().take(MAX_ASSIGNEES) {
            if after.may_view(assignee) && !after.is_assigned(assignee.id) {
                after.assignees.push(assignee.id);
                events.push(EventKind::Assigned {
                    user: assignee.id,
                    name: assignee.display_name.clone(),
                    by: by.id,
                    by_name: by_name.clone(),
                });
            }
        }
        events
    }

    /// What to look for in the knowledge base after `recorded`: the text of a reply the
    /// customer wrote while the conversation waits for an agent. Once someone has it,
    /// answering is theirs.
    pub fn suggestion_text<'a>(&self, recorded: &'a Event) -> Option<&'a str> {
        match &recorded.kind {
            EventKind::Reply(message)
                if matches!(recorded.author, Author::Customer(_))
                    && self.status == Status::Waiting =>
            {
                Some(&message.body)
            }
            _ => None,
        }
    }

    /// The suggestion to make of the articles `found` (best first) for a customer message:
    /// up to [`MAX_SUGGESTIONS`] not suggested before in this conversation, while it still
    /// waits.
    pub fn suggest(&self, found: Vec<Suggestion>) -> Option<EventKind> {
        if self.status != Status::Waiting {
            return None;
        }
        let mut articles: Vec<Suggestion> = Vec::new();
        for article in found {
            let new = !self.suggested.contains(&article.article)
                && !articles.iter().any(|a| a.article == article.article);
            if new && articles.len() < MAX_SUGGESTIONS {
                articles.push(article);
            }
        }
        (!articles.is_empty()).then_some(EventKind::Suggested { articles })
    }

    /// Whether `staff` may link records: the lead; while the conversation waits (it has
    /// no lead), its assignees and the supervisors and admins who may view it.
    fn may_link(&self, staff: &Staff) -> Result<(), RuleError> {
        self.not_closed()?;
        let allowed = match self.lead() {
            Some(lead) => lead == staff.id,
            None => self.is_assigned(staff.id) || self.may_assign(staff),
        };
        if allowed {
            Ok(())
        } else {
            Err(RuleError::MayNotLink)
        }
    }

    /// Links a record elsewhere (a helpdesk ticket, an order) to the conversation.
    pub fn link(&self, staff: &Staff, link: Link) -> Result<Vec<EventKind>, RuleError> {
        self.may_link(staff)?;
        let text_ok = |t: &str| !t.trim().is_empty() && t.len() <= 200;
        let url_ok = is_web_url(&link.url);
        if !(text_ok(&link.system) && text_ok(&link.id) && text_ok(&link.title) && url_ok) {
            return Err(RuleError::InvalidLink);
        }
        if self
            .links
            .iter()
            .any(|l| l.system == link.system && l.id == link.id)
        {
            return Err(RuleError::AlreadyLinked);
        }
        if self.links.len() >= MAX_LINKS {
            return Err(RuleError::TooManyLinks);
        }
        Ok(vec![EventKind::Linked { link }])
    }

    /// Takes a linked record off the conversation.
    pub fn unlink(
        &self,
        staff: &Staff,
        system: &str,
        id: &str,
    ) -> Result<Vec<EventKind>, RuleError> {
        self.may_link(staff)?;
        if !self.links.iter().any(|l| l.system == system && l.id == id) {
            return Err(RuleError::NotLinked);
        }
        Ok(vec![EventKind::Unlinked {
            system: system.to_owned(),
            id: id.to_owned(),
        }])
    }

    /// An assignee outside the room joins it: as lead when it has none, otherwise as a
    /// participant. Assignment is the standing offer; joining is accepting it, and only
    /// then may they reply.
    pub fn join_assigned(&self, staff: &Staff) -> Result<Vec<EventKind>, RuleError> {
        self.not_closed()?;
        if !self.is_assigned(staff.id) {
            return Err(RuleError::NotAssigned);
        }
        if self.member(staff.id).is_some() {
            return Err(RuleError::AlreadyInConversation);
        }
        let mode = if self.lead().is_some() {
            Mode::Participant
        } else {
            Mode::Lead
        };
        Ok(vec![Self::joined(staff, mode, None)])
    }

    /// Staff who may view the conversation reopen it and become its lead.
    pub fn reopen(&self, staff: &Staff) -> Result<Vec<EventKind>, RuleError> {
        if self.status != Status::Closed {
            return Err(RuleError::ConversationNotClosed);
        }
        if let Some(why) = self.why_not_view(staff) {
            return Err(why);
        }
        Ok(vec![
            EventKind::Reopened,
            Self::joined(staff, Mode::Lead, None),
        ])
    }
}

/// The colleagues a message's `@` names resolve to, given those each name fits: a name that
/// fits one colleague mentions them, one that fits nobody stays plain text, and one that
/// fits several is refused (the author must be precise).
pub fn resolve_mentions(found: Vec<Vec<Staff>>) -> Result<Vec<Staff>, RuleError> {
    let mut mentioned: Vec<Staff> = Vec::new();
    for mut fits in found {
        match fits.len() {
            0 => {}
            1 => {
                let staff = fits.remove(0);
                if !mentioned.iter().any(|m| m.id == staff.id) {
                    mentioned.push(staff);
                }
            }
            _ => return Err(RuleError::AmbiguousMention),
        }
    }
    Ok(mentioned)
}

/// How the message rules tell `party` apart.
fn poster(party: Party<'_>) -> Poster {
    match party {
        Party::Customer(customer) => Poster::Customer(Author::Customer(customer)),
        Party::Staff(staff) => Poster::Staff(Author::Staff(staff.id)),
    }
}

/// How long after posting `party` may change their own messages (`None`: no limit).
fn window(party: Party<'_>, customer_window: i64) -> Option<i64> {
    matches!(party, Party::Customer(_)).then_some(customer_window)
}

impl Stream for Room {
    type Id = ConversationId;
    type Kind = EventKind;

    fn id(&self) -> ConversationId {
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

    fn live_reader(&self, party: Party<'_>) -> Result<Reader, RuleError> {
        self.live_view(party)?;
        Ok(match party {
            Party::Customer(_) => Reader::Customer,
            Party::Staff(staff) => Reader::Staff(staff.id),
        })
    }

    fn may_follow(&self, reader: Reader) -> bool {
        match reader {
            Reader::Staff(user) => self.member(user).is_some(),
            Reader::Customer => true,
        }
    }

    fn history_view(&self, party: Party<'_>) -> Result<View, RuleError> {
        self.transcript_view(party)
    }

    fn typing(&self, party: Party<'_>) -> Result<(), RuleError> {
        Room::typing(self, party)
    }

    fn may_upload(&self, party: Party<'_>) -> Result<(), RuleError> {
        Room::may_upload(self, party)
    }

    /// The customer and the staff in the room; a customer's view leaves monitors out.
    fn cast(&self, view: View) -> Vec<Author> {
        std::iter::once(Author::Customer(self.customer))
            .chain(
                self.members
                    .iter()
                    .filter(|m| view == View::Staff || m.mode != Mode::Monitor)
                    .map(|m| Author::Staff(m.user)),
            )
            .collect()
    }

    /// Applies the events of one action, numbered on from `last_seq`, and returns for each
    /// the staff who receive it: those in the room before or after it (so a leaver gets its
    /// own `left` and everyone the `closed`), and whoever the action brought into the room
    /// gets all of the action's events (a reopener sees the `reopened` before their join,
    /// as the history they are sent stops before the action).
    fn apply_action(&mut self, events: &[Event]) -> Vec<Audience> {
        let in_room = |room: &Room| room.members.iter().map(|m| m.user).collect::<Vec<_>>();
        let before_action = in_room(self);
        let mut audiences = Vec::with_capacity(events.len());
        for event in events {
            let mut audience = in_room(self);
            self.apply(event);
            audience.extend(in_room(self));
            audience.sort();
            audience.dedup();
            audience.retain(|user| self.staff_receives(*user, &event.kind));
            audiences.push(Audience::Only(audience));
        }
        let newcomers: Vec<UserId> = in_room(self)
            .into_iter()
            .filter(|user| !before_action.contains(user))
            .collect();
        for audience in &mut audiences {
            if let Audience::Only(users) = audience {
                for user in &newcomers {
                    if !users.contains(user) {
                        users.push(*user);
                    }
                }
            }
        }
        audiences
    }

    /// Moves the state on by one event.
    fn apply(&mut self, recorded: &Event) {
        let seq = recorded.seq;
        self.last_seq = seq;
        self.last_activity_at = self.last_activity_at.max(recorded.at);
        let event = &recorded.kind;
        if let Some(message) = event.message_event() {
            self.messages
                .apply(seq, recorded.author, recorded.at, message);
            return;
        }
        match event {
            EventKind::Opened { customer_name, .. } => {
                self.customer_name = customer_name.clone();
            }
            EventKind::Reply(_)
            | EventKind::Note(_)
            | EventKind::Edited(_)
            | EventKind::Deleted(_)
            | EventKind::Reacted(_) => {}
            EventKind::Joined {
                user,
                mode,
                invitation,
                ..
            } => {
                match self.members.iter_mut().find(|m| m.user == *user) {
                    Some(member) => member.mode = *mode,
                    None => self.members.push(Member {
                        user: *user,
                        mode: *mode,
                        since: seq,
                    }),
                }
                if let Some(id) = invitation {
                    self.invitations.retain(|i| i.id != *id);
                }
                self.offers.retain(|(u, _)| u != user);
                if *mode == Mode::Lead {
                    self.status = Status::Active;
                }
            }
            EventKind::Left { user, .. } => self.members.retain(|m| m.user != *user),
            EventKind::Invited {
                invitation,
                inviter,
                mode,
                candidates,
                expires_at,
                ..
            } => self.invitations.push(PendingInvitation {
                id: *invitation,
                inviter: *inviter,
                mode: *mode,
                candidates: candidates.clone(),
                expires_at: *expires_at,
            }),
            EventKind::InvitationDeclined { invitation, by, .. } => {
                if let Some(pending) = self.invitations.iter_mut().find(|i| i.id == *invitation) {
                    pending.candidates.retain(|c| c != by);
                }
                self.invitations.retain(|i| !i.candidates.is_empty());
            }
            EventKind::InvitationCancelled { invitation }
            | EventKind::InvitationExpired { invitation } => {
                self.invitations.retain(|i| i.id != *invitation)
            }
            EventKind::LeadTransferred { from, to } => {
                for member in &mut self.members {
                    if member.user == *to {
                        member.mode = Mode::Lead;
                    } else if member.user == *from {
                        member.mode = Mode::Participant;
                    }
                }
            }
            EventKind::Closed { .. } => {
                self.status = Status::Closed;
                self.members.clear();
                self.invitations.clear();
                self.snoozed_until = None;
            }
            EventKind::Reopened => self.status = Status::Active,
            EventKind::Assigned {
                user, by, by_name, ..
            } => {
                if !self.assignees.contains(user) {
                    self.assignees.push(*user);
                }
                if by == user && by_name == ROUTING_NAME {
                    self.offers.push((*user, recorded.at));
                }
            }
            EventKind::Unassigned { user, .. } => {
                self.assignees.retain(|a| a != user);
                self.offers.retain(|(u, _)| u != user);
            }
            EventKind::ViewersSet { users, .. } => self.viewers = Some(users.clone()),
            EventKind::ViewersCleared { .. } => self.viewers = None,
            EventKind::Linked { link } => self.links.push(link.clone()),
            EventKind::Snoozed { until, .. } => self.snoozed_until = Some(*until),
            EventKind::Woke => self.snoozed_until = None,
            EventKind::Unlinked { system, id } => {
                self.links.retain(|l| !(l.system == *system && l.id == *id))
            }
            EventKind::Suggested { articles } => {
                self.suggested.extend(articles.iter().map(|a| a.article))
            }
        }
    }
}
