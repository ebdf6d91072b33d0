//! What a team channel (or direct message) adds to the generic [`Timeline`]: its commands,
//! decided by the pure rules of [`Channel`], and the notices membership changes send to
//! those they concern. Delivery, resume, history, typing and read markers are the
//! timeline's, exactly as for a conversation.

use super::conversation::common;
use super::lookup::{Decide, Wanted};
use super::registry::{Directory, Registry};
use super::timeline::{Caller, Common, Live, Timeline};
use super::ActionError;
use crate::domain::channel::ChannelPost;
use crate::domain::{Channel, ChannelEventKind, PostKind, RuleError, Staff, UserId};
use crate::protocol::{Command, RequestId, ServerFrame};
use crate::store::{accounts, channels, now_millis, StoreError};
use actix::prelude::*;

/// The actor of one live channel.
pub type ChannelTimeline = Timeline<Channel>;

impl Live for Channel {
    type Command = Command;

    fn common(command: Command) -> Result<Common, Command> {
        common(command)
    }

    fn decide(
        timeline: &mut ChannelTimeline,
        ctx: &mut Context<ChannelTimeline>,
        caller: &Caller,
        request: RequestId,
        command: Command,
    ) -> Result<(), ActionError> {
        // Customers never reach a channel: to them none exists.
        let staff = caller
            .who
            .staff()
            .map_err(|_| RuleError::UnknownChannel)?
            .clone();
        let now = now_millis();
        let channel = timeline.stream();
        match command {
            Command::Post {
                kind,
                body,
                client_id,
                quote,
                attachments,
                ..
            } => {
                if kind == PostKind::Note {
                    return Err(RuleError::InvalidPostKind.into());
                }
                if timeline.duplicate(caller, &request, caller.who.author(), client_id.as_deref()) {
                    return Ok(());
                }
                let wanted = Wanted::of(caller, &body, attachments.clone()).naming(quote);
                let decide: Decide<Channel> = Box::new(move |t, ctx, caller, request, found| {
                    let channel = t.stream();
                    let post = ChannelPost {
                        body,
                        quote,
                        attachments: channel.attachments(
                            &staff,
                            &attachments,
                            &found.uploads,
                            now,
                        )?,
                    };
                    let event = channel.post(&staff, post, &found.mentioned, now)?;
                    t.act(ctx, caller, request, client_id, vec![event]);
                    t.notify_mentions(caller);
                    Ok(())
                });
                timeline.resolve(ctx, caller, request, wanted, decide);
            }
            Command::Edit { seq, body, .. } => {
                let wanted = Wanted::of(caller, &body, Vec::new()).naming(Some(seq));
                let decide: Decide<Channel> = Box::new(move |t, ctx, caller, request, found| {
                    let events = t.stream().edit(&staff, seq, &body, &found.mentioned, now)?;
                    t.act(ctx, caller, request, None, events);
                    Ok(())
                });
                timeline.resolve(ctx, caller, request, wanted, decide);
            }
            Command::Delete { seq, .. } => {
                timeline.about_message(ctx, caller, request, seq, move |channel, _| {
                    Ok(channel.delete_message(&staff, seq, now)?)
                })
            }
            Command::React { seq, emoji, .. } => {
                timeline.about_message(ctx, caller, request, seq, move |channel, _| {
                    Ok(channel.react(&staff, seq, &emoji, true)?)
                })
            }
            Command::Unreact { seq, emoji, .. } => {
                timeline.about_message(ctx, caller, request, seq, move |channel, _| {
                    Ok(channel.react(&staff, seq, &emoji, false)?)
                })
            }
            Command::Join { .. } => {
                // Checked before the lookup too, so a refusal needs no database.
                channel.join(&staff, 0)?;
                let user = staff.id;
                timeline.with_memberships(ctx, caller, request, user, move |channel, count| {
                    channel.join(&staff, count)
                });
            }
            Command::Leave { .. } => {
                let events = channel.leave(&staff)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::AddMember { user, .. } => timeline.add(ctx, caller, request, staff, user),
            Command::RemoveMember { user, .. } => {
                let events = channel.remove(&staff, user)?;
                let frame = ServerFrame::ChannelRemoved {
                    channel: channel.id,
                    name: &channel.name,
                }
                .encode();
                timeline.act(ctx, caller, request, None, events);
                timeline.notify_when_durable(vec![user], frame);
            }
            Command::RenameChannel { name, .. } => {
                channel.rename(&staff, &name)?;
                timeline.rename(ctx, caller, request, staff, name);
            }
            Command::DescribeChannel { description, .. } => {
                let events = channel.describe(&staff, &description)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::ArchiveChannel { archived, .. } => {
                let events = channel.archive(&staff, archived)?;
                timeline.act(ctx, caller, request, None, events);
            }
            Command::PickUp { .. } => return Err(ActionError::NotForChannels("pick_up")),
            Command::Monitor { .. } => return Err(ActionError::NotForChannels("monitor")),
            Command::Invite { .. } => return Err(ActionError::NotForChannels("invite")),
            Command::Accept { .. } => return Err(ActionError::NotForChannels("accept")),
            Command::Decline { .. } => return Err(ActionError::NotForChannels("decline")),
            Command::CancelInvitation { .. } => {
                return Err(ActionError::NotForChannels("cancel_invitation"))
            }
            Command::Transfer { .. } => return Err(ActionError::NotForChannels("transfer")),
            Command::Close { .. } => return Err(ActionError::NotForChannels("close")),
            Command::Reopen { .. } => return Err(ActionError::NotForChannels("reopen")),
            Command::Assign { .. } => return Err(ActionError::NotForChannels("assign")),
            Command::Unassign { .. } => return Err(ActionError::NotForChannels("unassign")),
            Command::SetViewers { .. } => return Err(ActionError::NotForChannels("set_viewers")),
            Command::Link { .. } => return Err(ActionError::NotForChannels("link")),
            Command::Unlink { .. } => return Err(ActionError::NotForChannels("unlink")),
            Command::Snooze { .. } => return Err(ActionError::NotForChannels("snooze")),
            Command::WatchQueue { .. }
            | Command::UnwatchQueue { .. }
            | Command::SetAvailability { .. } => {
                unreachable!("the session answers commands about the staff member")
            }
            Command::Subscribe { .. }
            | Command::History { .. }
            | Command::Typing { .. }
            | Command::Read { .. } => {
                unreachable!("common commands are answered by the timeline")
            }
        }
        Ok(())
    }

    fn directory(registry: &Registry) -> &Directory<Channel> {
        registry.channels()
    }

    fn unknown() -> ActionError {
        RuleError::UnknownChannel.into()
    }
}

impl ChannelTimeline {
    /// Counts the channels `user` belongs to, then decides their joining with that count (the limit on
    /// memberships spans channels, so storage knows it, not this one).
    fn with_memberships(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        user: UserId,
        decide: impl FnOnce(&Channel, usize) -> Result<Vec<ChannelEventKind>, RuleError> + 'static,
    ) {
        let store = self.registry().store().clone();
        let lookup = async move {
            store
                .run(move |conn| channels::memberships(conn, user))
                .await
        };
        let caller = caller.clone();
        ctx.wait(lookup.into_actor(self).map(move |found, timeline, ctx| {
            timeline.guarded(ctx, move |timeline, ctx| {
                let decided = found
                    .map_err(ActionError::from)
                    .and_then(|count| Ok(decide(timeline.stream(), count)?));
                match decided {
                    Ok(events) => timeline.join(ctx, &caller, request, events),
                    Err(error) => caller.refuse(&request, error),
                }
            });
        }));
    }

    /// Looks the colleague up (and how many channels they are in), then decides adding
    /// them; they hear of it once it is durable.
    fn add(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        by: Staff,
        user: UserId,
    ) {
        let store = self.registry().store().clone();
        let lookup = async move {
            store
                .run(move |conn| {
                    let found = accounts::user_by_id(conn, &user.to_string())?;
                    let count = channels::memberships(conn, user)?;
                    Ok::<_, StoreError>((found, count))
                })
                .await
        };
        let caller = caller.clone();
        ctx.wait(lookup.into_actor(self).map(move |found, timeline, ctx| {
            timeline.guarded(ctx, move |timeline, ctx| {
                let decided = found.map_err(ActionError::from).and_then(|(user, count)| {
                    let colleague = user.ok_or(RuleError::NotChannelMember)?.staff();
                    Ok(timeline.stream().add(&by, &colleague, count)?)
                });
                match decided {
                    Ok(events) => {
                        let channel = timeline.stream();
                        let frame = ServerFrame::ChannelAdded {
                            channel: channel.id,
                            name: &channel.name,
                            visibility: channel.visibility,
                            by: &by.display_name,
                        }
                        .encode();
                        timeline.act(ctx, &caller, request, None, events);
                        timeline.notify_when_durable(vec![user], frame);
                    }
                    Err(error) => caller.refuse(&request, error),
                }
            });
        }));
    }

    /// Gives the channel's row its name back after a claim that was not used.
    fn restore_name(&self) {
        let store = self.registry().store().clone();
        let (id, name) = (self.id(), self.stream().name.clone());
        actix::spawn(async move {
            let restored = store
                .run(move |conn| channels::claim_name(conn, id, &name))
                .await;
            if let Err(error) = restored {
                tracing::warn!(channel = %id, %error, "could not give a channel its name back");
            }
        });
    }

    /// Claims the new name in storage (it must be unique), then records the rename.
    fn rename(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        by: Staff,
        name: String,
    ) {
        let store = self.registry().store().clone();
        let (id, wanted) = (self.id(), name.clone());
        let claim = async move {
            store
                .run(move |conn| channels::claim_name(conn, id, &wanted))
                .await
        };
        let caller = caller.clone();
        ctx.wait(claim.into_actor(self).map(move |claimed, timeline, ctx| {
            timeline.guarded(ctx, move |timeline, ctx| {
                let decided = match claimed {
                    Ok(()) => match timeline.stream().rename(&by, &name) {
                        Ok(events) => Ok(events),
                        Err(refused) => {
                            // Things moved on during the claim (the admin was removed):
                            // the channel keeps its name.
                            timeline.restore_name();
                            Err(refused.into())
                        }
                    },
                    Err(StoreError::Conflict(_)) => Err(ActionError::NameTaken),
                    Err(error) => Err(error.into()),
                };
                match decided {
                    Ok(events) => timeline.act(ctx, &caller, request, None, events),
                    Err(error) => caller.refuse(&request, error),
                }
            });
        }));
    }
}
