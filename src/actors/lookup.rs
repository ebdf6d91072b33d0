//! What a command names, looked up before the rules decide it: the colleagues its `@`
//! names fit, the uploads it carries, and the older messages it quotes or changes that the
//! stream no longer holds in memory. Every kind of stream decides message commands through
//! this.

use super::timeline::{Caller, Live, Timeline};
use super::ActionError;
use crate::domain::message::mention_tokens;
use crate::domain::room::resolve_mentions;
use crate::domain::{AttachmentId, Staff, Upload};
use crate::protocol::RequestId;
use crate::store::{accounts, attachments, messages, StoreError};
use actix::prelude::*;

/// What a command names, to look up before it is decided.
#[derive(Default)]
pub struct Wanted {
    /// Its `@` names.
    pub names: Vec<String>,
    /// The uploads it carries.
    pub files: Vec<AttachmentId>,
    /// The messages it quotes or changes.
    pub messages: Vec<u64>,
}

impl Wanted {
    /// What `caller`'s message with `body` and `files` names (a customer's text mentions
    /// nobody).
    pub fn of(caller: &Caller, body: &str, files: Vec<AttachmentId>) -> Wanted {
        let names = match caller.who.staff() {
            Ok(_) => mention_tokens(body),
            Err(_) => Vec::new(),
        };
        Wanted {
            names,
            files,
            messages: Vec::new(),
        }
    }

    /// A command about the message at `seq` (a deletion, a reaction).
    pub fn message(seq: u64) -> Wanted {
        Wanted::default().naming(Some(seq))
    }

    /// This, also naming the message at `seq` (the one a post quotes, an edit changes).
    pub fn naming(mut self, seq: Option<u64>) -> Wanted {
        self.messages.extend(seq);
        self
    }
}

/// What was found of it.
pub struct Found {
    pub mentioned: Vec<Staff>,
    pub uploads: Vec<Upload>,
}

/// A decision to make once what a message names is found.
pub type Decide<S> = Box<
    dyn FnOnce(
        &mut Timeline<S>,
        &mut Context<Timeline<S>>,
        &Caller,
        RequestId,
        Found,
    ) -> Result<(), ActionError>,
>;

impl<S: Live> Timeline<S> {
    /// Decides a command about the message at `seq` (a deletion, a reaction) once the
    /// stream holds that message, and records the events `decide` makes of it.
    pub fn about_message(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        seq: u64,
        decide: impl FnOnce(&S, &Caller) -> Result<Vec<S::Kind>, ActionError> + 'static,
    ) {
        let decide: Decide<S> = Box::new(move |timeline, ctx, caller, request, _| {
            let events = decide(timeline.stream(), caller)?;
            timeline.act(ctx, caller, request, None, events);
            Ok(())
        });
        self.resolve(ctx, caller, request, Wanted::message(seq), decide);
    }

    /// Looks up what a command names, then decides with what was found (at once when it
    /// names nothing the stream lacks). The lookup holds the stream's other commands back,
    /// so the decision sees the stream as it is then.
    pub fn resolve(
        &mut self,
        ctx: &mut Context<Self>,
        caller: &Caller,
        request: RequestId,
        wanted: Wanted,
        decide: Decide<S>,
    ) {
        let caller = caller.clone();
        let recall = self.stream().messages().to_recall(wanted.messages);
        if wanted.names.is_empty() && wanted.files.is_empty() && recall.is_empty() {
            let found = Found {
                mentioned: Vec::new(),
                uploads: Vec::new(),
            };
            if let Err(error) = decide(self, ctx, &caller, request.clone(), found) {
                caller.refuse(&request, error);
            }
            return;
        }
        let store = self.registry().store().clone();
        let author = caller.who.author();
        let id = self.id();
        let (names, files) = (wanted.names, wanted.files);
        let lookup = async move {
            store
                .run(move |conn| {
                    let fits = names
                        .iter()
                        .map(|name| {
                            let users = accounts::staff_by_mention(conn, name)?;
                            Ok(users.iter().map(|u| u.staff()).collect())
                        })
                        .collect::<Result<Vec<Vec<Staff>>, StoreError>>()?;
                    let uploads = attachments::uploads(conn, &files, author)?;
                    let recalled = messages::recall::<S::Id, S::Kind>(conn, id, &recall)?;
                    Ok((fits, uploads, recalled))
                })
                .await
        };
        ctx.wait(lookup.into_actor(self).map(move |found, timeline, ctx| {
            // Decided here, after the lookup: contained like any handler's work.
            timeline.guarded(ctx, move |timeline, ctx| {
                let decided = found
                    .map_err(ActionError::from)
                    .and_then(|(fits, uploads, recalled)| {
                        timeline.recall(recalled);
                        Ok(Found {
                            mentioned: resolve_mentions(fits)?,
                            uploads,
                        })
                    })
                    .and_then(|found| decide(timeline, ctx, &caller, request.clone(), found));
                if let Err(error) = decided {
                    caller.refuse(&request, error);
                }
                // A message recalled for a command that was refused, in a stream that
                // writes nothing more, goes now rather than at the next durable event.
                timeline.settle();
            });
        }));
    }
}
