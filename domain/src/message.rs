//! Messages: what a reply or note carries (body, attachments, a quote, mentions), the events
//! that change one after it is posted (edit, delete, reactions), and the facts about every
//! message of a stream that the rules need to decide those changes.
//!
//! The event log is never rewritten, so what a message gathers after it was posted is kept
//! beside the log ([`Later`]) and shown on the message wherever it is read back
//! ([`Later::show_on`]); live readers get the change events themselves.

use crate::error::RuleError;
use crate::event::{Author, PostKind};
use crate::ids::{AttachmentId, UserId};
use crate::staff::Staff;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Characters of a message kept as its snippet (shown in quotes and notifications).
pub const SNIPPET_CHARS: usize = 140;
/// Most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// Most different emoji on one message.
pub const MAX_EMOJI_PER_MESSAGE: usize = 20;
/// Longest reaction, in bytes (an emoji sequence or a `:short_code:`).
pub const MAX_EMOJI_BYTES: usize = 64;

/// How long after uploading a file may still go on a message (milliseconds). Uploads never
/// sent are deleted an hour later ([`UPLOAD_KEPT_MS`]): the hour between keeps a message
/// from being decided with a file that the sweep is removing as it is written.
pub const UPLOAD_USABLE_MS: i64 = 23 * 3600 * 1000;
/// How long an upload never sent is kept (milliseconds).
pub const UPLOAD_KEPT_MS: i64 = 24 * 3600 * 1000;
const _: () = assert!(UPLOAD_USABLE_MS < UPLOAD_KEPT_MS);

/// A file uploaded to a stream, as stored, for the rules to check it may go on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub attachment: Attachment,
    /// The stream it was uploaded to.
    pub stream: uuid::Uuid,
    pub uploader: Author,
    /// Already on a message.
    pub posted: bool,
    /// When it was uploaded (milliseconds since the Unix epoch).
    pub uploaded_at: i64,
}

/// What a reply or a note carries. The last three fields are what the message gathered
/// after it was posted: never stored with the post, filled in when it is read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The text (empty in a tombstone, and possibly in a message that is only attachments).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The earlier message this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    /// The staff this message mentions (`@alice`), resolved by the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
    /// When the body was last edited (clients show "(edited)").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// The message was deleted: only this tombstone remains.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
}

impl Message {
    /// A plain text message.
    pub fn text(body: impl Into<String>) -> Message {
        Message {
            body: body.into(),
            ..Message::default()
        }
    }

    /// This message as a customer sees it: without the staff it mentions (a reply may name
    /// a monitor, whom the customer must never learn of).
    pub fn customer_view(&self) -> Message {
        Message {
            mentions: Vec::new(),
            ..self.clone()
        }
    }
}

/// A file uploaded to the stream and carried by a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    /// The file name as uploaded (for the download's name only).
    pub name: String,
    /// The type sniffed from the bytes, never the one the uploader claimed.
    pub content_type: String,
    pub size: u64,
    /// Pixel size, for images, so clients can lay them out before loading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// The earlier message a post quotes, as its readers may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub seq: u64,
    pub author: Author,
    /// The start of the quoted message's text when it was quoted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub snippet: String,
    /// The quoted message has since been deleted (and its snippet with it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// A staff member a message mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    pub user: UserId,
    pub name: String,
}

/// One emoji on a message and who put it there (at most once each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: usize,
    pub by: Vec<Author>,
}

/// A message's new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The message edited.
    pub target: u64,
    /// What the target is: its readers are the edit's readers.
    pub on: PostKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
}

/// A message deleted; its attachments go with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub target: u64,
    pub on: PostKind,
    /// The files deleted with it (staff only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentId>,
}

/// An emoji added to a message or taken off it, with the message's reactions after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reacted {
    pub target: u64,
    pub on: PostKind,
    pub emoji: String,
    /// Added (`true`) or taken off.
    pub added: bool,
    /// Every reaction on the message now, so a reader needs no earlier ones.
    pub reactions: Vec<Reaction>,
}

/// An event that is a message or changes one, as every stream kind carries them.
#[derive(Debug, Clone, Copy)]
pub enum MessageEvent<'a> {
    Posted(PostKind, &'a Message),
    Edited(&'a Edit),
    Deleted(&'a Deletion),
    Reacted(&'a Reacted),
}

/// What a message gathered after it was posted, as kept beside the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Later {
    /// The text and mentions of the last edit.
    pub edit: Option<(String, Vec<Mention>, i64)>,
    pub deleted: bool,
    pub reactions: Vec<Reaction>,
}

impl Later {
    /// Shows this state on the message it belongs to.
    pub fn show_on(&self, message: &mut Message) {
        if self.deleted {
            *message = Message {
                deleted: true,
                ..Message::default()
            };
            return;
        }
        if let Some((body, mentions, at)) = &self.edit {
            message.body = body.clone();
            message.mentions = mentions.clone();
            message.edited_at = Some(*at);
        }
        message.reactions = self.reactions.clone();
    }
}

/// Shows, on an event read back at `seq`, what the messages it refers to have gathered
/// since: the message's own edits, deletion and reactions; a quote of a message since
/// deleted loses its snippet; an edit of a message since deleted loses its text.
pub fn show_later(message_event: MessageEventMut<'_>, seq: u64, later: &BTreeMap<u64, Later>) {
    match message_event {
        MessageEventMut::Posted(message) => {
            if let Some(state) = later.get(&seq) {
                state.show_on(message);
            }
            if let Some(quote) = &mut message.quote {
                if later.get(&quote.seq).is_some_and(|l| l.deleted) {
                    quote.snippet.clear();
                    quote.deleted = true;
                }
            }
        }
        MessageEventMut::Edited(edit) => {
            if later.get(&edit.target).is_some_and(|l| l.deleted) {
                edit.body.clear();
                edit.mentions.clear();
            }
        }
    }
}

/// The parts of an event read back that later state can change.
pub enum MessageEventMut<'a> {
    Posted(&'a mut Message),
    Edited(&'a mut Edit),
}

/// The messages whose later state an event read back at `seq` shows.
pub fn referred(event: MessageEvent<'_>, seq: u64) -> Vec<u64> {
    match event {
        MessageEvent::Posted(_, message) => std::iter::once(seq)
            .chain(message.quote.as_ref().map(|q| q.seq))
            .collect(),
        MessageEvent::Edited(edit) => vec![edit.target],
        MessageEvent::Deleted(_) | MessageEvent::Reacted(_) => Vec::new(),
    }
}

/// What the rules know of one message of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub author: Author,
    pub kind: PostKind,
    pub at: i64,
    /// The start of its current text.
    pub snippet: String,
    pub attachments: Vec<AttachmentId>,
    pub deleted: bool,
    pub reactions: Vec<Reaction>,
}

impl Posted {
    /// The facts of `message`, of `kind`, posted by `author` at `at`, as it stands now (with
    /// what it gathered since shown on it, when read back).
    pub fn of(author: Author, kind: PostKind, at: i64, message: &Message) -> Posted {
        Posted {
            author,
            kind,
            at,
            snippet: snippet(&message.body),
            attachments: message.attachments.iter().map(|a| a.id).collect(),
            deleted: message.deleted,
            reactions: message.reactions.clone(),
        }
    }
}

/// Who is acting on a message, as the message rules tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poster {
    /// The stream's customer: sees replies only.
    Customer(Author),
    /// A staff member: sees every message.
    Staff(Author),
}

impl Poster {
    /// The author of what they do.
    pub fn author(self) -> Author {
        match self {
            Poster::Customer(a) | Poster::Staff(a) => a,
        }
    }
}

/// The mentions of `mentioned` (resolved from a message's `@` names), each of whom must be
/// able to see the stream (`may_see`): a mention never shows anyone a stream they may not.
pub fn mentions_of(
    mentioned: &[Staff],
    may_see: impl Fn(&Staff) -> bool,
) -> Result<Vec<Mention>, RuleError> {
    mentioned
        .iter()
        .map(|staff| {
            if may_see(staff) {
                Ok(Mention {
                    user: staff.id,
                    name: staff.display_name.clone(),
                })
            } else {
                Err(RuleError::MentionNotAllowed)
            }
        })
        .collect()
}

/// How many messages of a stream are held in memory by default ([`Messages::forget`]); the
/// server's `--kept-messages`.
pub const KEPT_MESSAGES: usize = 500;

/// The messages of one stream, by sequence number, as the rules need them: the newest
/// [`KEPT_MESSAGES`] (or as many as [`Messages::keep`] says), and any older one recalled
/// from storage because a command names it ([`Messages::to_recall`], [`Messages::recall`]).
/// The rules answer only about messages held, so whoever decides a command recalls first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    posted: BTreeMap<u64, Held>,
    kept: usize,
    /// Every message from this sequence number on is held; an older one may be forgotten.
    forgotten_below: u64,
}

/// A message held, with the sequence number of the last event that changed it (its post,
/// or its last edit, deletion or reaction; 0 for one recalled and unchanged since).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    posted: Posted,
    changed: u64,
}

impl Default for Messages {
    fn default() -> Messages {
        Messages {
            posted: BTreeMap::new(),
            kept: KEPT_MESSAGES,
            forgotten_below: 0,
        }
    }
}

impl Messages {
    /// Holds `kept` messages from now on (at least one) once their changes are durable.
    pub fn keep(&mut self, kept: usize) {
        self.kept = kept.max(1);
    }

    /// The message at `seq`, if it is held.
    pub fn get(&self, seq: u64) -> Option<&Posted> {
        self.posted.get(&seq).map(|held| &held.posted)
    }

    /// Which of `seqs` may be messages that are not held, to read back from storage and
    /// [`Messages::recall`] before a command naming them is decided.
    pub fn to_recall(&self, seqs: impl IntoIterator<Item = u64>) -> Vec<u64> {
        let mut wanted: Vec<u64> = seqs
            .into_iter()
            .filter(|seq| *seq > 0 && *seq < self.forgotten_below)
            .filter(|seq| !self.posted.contains_key(seq))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        wanted
    }

    /// Holds again a message read back from storage, as it stands there. Storage is exact
    /// for it: a message is forgotten only once every change to it is durable, and nothing
    /// changes one that is not held.
    pub fn recall(&mut self, seq: u64, posted: Posted) {
        if seq < self.forgotten_below {
            self.posted
                .entry(seq)
                .or_insert(Held { posted, changed: 0 });
        }
    }

    /// Forgets the oldest messages beyond the number kept, of those whose every change is
    /// durable (up to `durable`), so storage can tell them back exactly.
    pub fn forget(&mut self, durable: u64) {
        let excess = self.posted.len().saturating_sub(self.kept);
        if excess == 0 {
            return;
        }
        let settled: Vec<u64> = self
            .posted
            .iter()
            .filter(|(_, held)| held.changed <= durable)
            .map(|(seq, _)| *seq)
            .take(excess)
            .collect();
        for seq in settled {
            self.posted.remove(&seq);
            self.forgotten_below = self.forgotten_below.max(seq + 1);
        }
    }

    /// Whether a message held carries (or carried, before it was deleted) `file`. Older
    /// messages' files are known by their uploads ([`Upload::posted`]); this covers posts
    /// not yet durable.
    pub fn carries(&self, file: AttachmentId) -> bool {
        self.posted
            .values()
            .any(|held| held.posted.attachments.contains(&file))
    }

    /// How many messages are held (deleted ones included).
    pub fn len(&self) -> usize {
        self.posted.len()
    }

    /// Whether no message is held.
    pub fn is_empty(&self) -> bool {
        self.posted.is_empty()
    }

    /// The files `ids` as a message by `author` in `stream` may carry them at `now`, given
    /// the `uploads` found for them: each must be the author's own upload to this stream,
    /// not yet on a message (a file goes out once, so deleting its message deletes it),
    /// and recent enough ([`UPLOAD_USABLE_MS`]).
    pub fn attachments(
        &self,
        stream: uuid::Uuid,
        author: Author,
        ids: &[AttachmentId],
        uploads: &[Upload],
        now: i64,
    ) -> Result<Vec<Attachment>, RuleError> {
        let mut files: Vec<Attachment> = Vec::new();
        for id in ids {
            if files.iter().any(|f| f.id == *id) {
                continue;
            }
            let upload = uploads
                .iter()
                .find(|u| u.attachment.id == *id)
                .filter(|u| u.stream == stream && u.uploader == author)
                .filter(|u| now - u.uploaded_at <= UPLOAD_USABLE_MS)
                .ok_or(RuleError::UnknownAttachment)?;
            if upload.posted || self.carries(*id) {
                return Err(RuleError::AttachmentInUse);
            }
            files.push(upload.attachment.clone());
        }
        Ok(files)
    }

    /// The message at `seq` if `poster` may see it. A customer asking about a note is told
    /// there is no such message, exactly as for a number nothing was posted at.
    pub fn visible(&self, poster: Poster, seq: u64) -> Result<&Posted, RuleError> {
        match self.get(seq) {
            Some(posted)
                if matches!(poster, Poster::Staff(_)) || posted.kind == PostKind::Reply =>
            {
                Ok(posted)
            }
            _ => Err(RuleError::NoSuchMessage),
        }
    }

    /// The message at `seq`, visible to `poster` and not deleted.
    fn live(&self, poster: Poster, seq: u64) -> Result<&Posted, RuleError> {
        let posted = self.visible(poster, seq)?;
        if posted.deleted {
            return Err(RuleError::MessageDeleted);
        }
        Ok(posted)
    }

    /// The quote of the message at `seq` for a new post of `kind` by `poster`. A reply may
    /// quote only replies: it reaches the customer, who never sees a note's text.
    pub fn quote(&self, poster: Poster, kind: PostKind, seq: u64) -> Result<Quote, RuleError> {
        let posted = self.live(poster, seq)?;
        if kind == PostKind::Reply && posted.kind == PostKind::Note {
            return Err(RuleError::ReplyCannotQuoteNote);
        }
        Ok(Quote {
            seq,
            author: posted.author,
            snippet: posted.snippet.clone(),
            deleted: false,
        })
    }

    /// An edit of `poster`'s own message at `target`. `window` is how long after posting the
    /// author may still edit (`None`: always); it is judged at `now`.
    pub fn edit(
        &self,
        poster: Poster,
        target: u64,
        body: &str,
        mentions: Vec<Mention>,
        window: Option<i64>,
        now: i64,
    ) -> Result<Edit, RuleError> {
        let posted = self.own(poster, target, window, now)?;
        if body.trim().is_empty() && posted.attachments.is_empty() {
            return Err(RuleError::EmptyMessage);
        }
        Ok(Edit {
            target,
            on: posted.kind,
            body: body.to_owned(),
            mentions,
        })
    }

    /// The deletion of the message at `target`: `poster`'s own (within `window` of posting),
    /// or anyone's when `moderator` (an admin).
    pub fn delete(
        &self,
        poster: Poster,
        target: u64,
        moderator: bool,
        window: Option<i64>,
        now: i64,
    ) -> Result<Deletion, RuleError> {
        let posted = if moderator {
            self.live(poster, target)?
        } else {
            self.own(poster, target, window, now)?
        };
        Ok(Deletion {
            target,
            on: posted.kind,
            attachments: posted.attachments.clone(),
        })
    }

    /// `poster` adds (`added`) or takes off an emoji on the message at `target`.
    pub fn react(
        &self,
        poster: Poster,
        target: u64,
        emoji: &str,
        added: bool,
    ) -> Result<Reacted, RuleError> {
        valid_emoji(emoji)?;
        let posted = self.live(poster, target)?;
        let author = poster.author();
        let mut reactions = posted.reactions.clone();
        let index = reactions.iter().position(|r| r.emoji == emoji);
        match (index, added) {
            (Some(i), true) if reactions[i].by.contains(&author) => {
                return Err(RuleError::AlreadyReacted)
            }
            (Some(i), true) => reactions[i].by.push(author),
            (None, true) if reactions.len() >= MAX_EMOJI_PER_MESSAGE => {
                return Err(RuleError::TooManyReactions)
            }
            (None, true) => reactions.push(Reaction {
                emoji: emoji.to_owned(),
                count: 0,
                by: vec![author],
            }),
            (Some(i), false) if reactions[i].by.contains(&author) => {
                reactions[i].by.retain(|a| *a != author)
            }
            (_, false) => return Err(RuleError::NotReacted),
        }
        reactions.retain(|r| !r.by.is_empty());
        for reaction in &mut reactions {
            reaction.count = reaction.by.len();
        }
        Ok(Reacted {
            target,
            on: posted.kind,
            emoji: emoji.to_owned(),
            added,
            reactions,
        })
    }

    /// `poster`'s own live message at `target`, still inside the edit `window` at `now`.
    fn own(
        &self,
        poster: Poster,
        target: u64,
        window: Option<i64>,
        now: i64,
    ) -> Result<&Posted, RuleError> {
        let posted = self.live(poster, target)?;
        if posted.author != poster.author() {
            return Err(RuleError::NotYourMessage);
        }
        if window.is_some_and(|window| now > posted.at + window) {
            return Err(RuleError::EditWindowPassed);
        }
        Ok(posted)
    }

    /// Moves the messages on by one event recorded at `seq`, by `author`, at `at`.
    pub fn apply(&mut self, seq: u64, author: Author, at: i64, event: MessageEvent<'_>) {
        match event {
            MessageEvent::Posted(kind, message) => {
                let posted = Posted::of(author, kind, at, message);
                self.posted.insert(
                    seq,
                    Held {
                        posted,
                        changed: seq,
                    },
                );
            }
            MessageEvent::Edited(edit) => {
                if let Some(posted) = self.changed(edit.target, seq) {
                    posted.snippet = snippet(&edit.body);
                }
            }
            MessageEvent::Deleted(deletion) => {
                if let Some(posted) = self.changed(deletion.target, seq) {
                    posted.deleted = true;
                    posted.snippet.clear();
                    posted.attachments.clear();
                    posted.reactions.clear();
                }
            }
            MessageEvent::Reacted(reacted) => {
                if let Some(posted) = self.changed(reacted.target, seq) {
                    posted.reactions = reacted.reactions.clone();
                }
            }
        }
    }

    /// The held message at `target`, to change by the event at `seq`.
    fn changed(&mut self, target: u64, seq: u64) -> Option<&mut Posted> {
        let held = self.posted.get_mut(&target)?;
        held.changed = seq;
        Some(&mut held.posted)
    }
}

/// The start of `body`, at most [`SNIPPET_CHARS`] characters.
pub fn snippet(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(SNIPPET_CHARS) {
        Some((end, _)) => format!("{}…", &body[..end]),
        None => body.to_owned(),
    }
}

/// Checks a reaction: an emoji (no letters, digits or spaces) or a `:short_code:`.
pub fn valid_emoji(emoji: &str) -> Result<(), RuleError> {
    let short_code = emoji.len() > 2
        && emoji.starts_with(':')
        && emoji.ends_with(':')
        && emoji[1..emoji.len() - 1]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+-".contains(c));
    let pictographic = !emoji.is_empty()
        && emoji
            .chars()
            .all(|c| !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control())
        && !emoji.is_ascii();
    if emoji.len() <= MAX_EMOJI_BYTES && (short_code || pictographic) {
        Ok(())
    } else {
        Err(RuleError::InvalidEmoji)
    }
}

/// The `@` mentions in a text, lowercased, each once, in order: `@alice` (the part of a
/// colleague's email before the `@`) or `@alice@example.com` (the whole email). An `@`
/// inside a word (an email address written out) is not a mention.
pub fn mention_tokens(body: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let starts = c == '@' && !previous.is_some_and(|p| p.is_alphanumeric() || p == '.');
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &body[i + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "._+-@".contains(c)))
            .unwrap_or(rest.len());
        // A sentence's full stop (or a second `@` with nothing after it) is not part of it.
        let token = rest[..end].trim_end_matches(['.', '@', '-']);
        if token.is_empty() || token.starts_with('@') || token.matches('@').count() > 1 {
            continue;
        }
        let token = token.to_ascii_lowercase();
        if !tokens.contains(&token) {
            tokens.push(token);
        }
        while chars.peek().is_some_and(|(j, _)| *j <= i + end) {
            previous = chars.next().map(|(_, c)| c);
        }
    }
    tokens
}
