//! The few parts of the wire protocol the tool reads and writes on its hot path: a borrowed
//! view of a server frame, the `post` command and the `client_id` that carries the send
//! time.

use crate::checker::PostKind;
use serde::Deserialize;
use std::fmt::Write;

/// What the tool reads of a server frame; everything else is skipped unparsed.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct Incoming<'a> {
    #[serde(rename = "type")]
    pub frame: &'a str,
    pub id: Option<u64>,
    pub conversation: Option<&'a str>,
    pub seq: Option<u64>,
    /// The event's kind, for `event` frames.
    pub kind: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub code: Option<&'a str>,
    pub invitation: Option<&'a str>,
    /// In an `ok`: the command's events as this session receives them, in place of
    /// `event` frames of their own.
    #[serde(borrow, default)]
    pub events: Vec<Event<'a>>,
}

/// What the tool reads of an event carried inside an `ok`.
#[derive(Debug, Deserialize, PartialEq, Eq)]
pub struct Event<'a> {
    pub conversation: Option<&'a str>,
    pub seq: Option<u64>,
    pub kind: Option<&'a str>,
    pub client_id: Option<&'a str>,
}

impl<'a> Incoming<'a> {
    /// Reads a frame; `None` if it is not a frame the protocol describes.
    pub fn parse(text: &'a str) -> Option<Incoming<'a>> {
        serde_json::from_str(text).ok()
    }
}

/// The body of every message the tool posts.
const BODY: &str = "Conclave load test message: hello from the load generator";

/// Writes a `post` command into `out`, with a `client_id` made of the send time
/// (nanoseconds since the run started) and the request id, which makes it unique.
pub fn post(out: &mut String, id: u64, conversation: &str, kind: PostKind, sent_ns: u64) {
    out.clear();
    write!(
        out,
        r#"{{"id":{id},"type":"post","conversation":"{conversation}","kind":"{}","body":"{BODY}","client_id":"{sent_ns}-{id}"}}"#,
        kind.name()
    )
    .expect("writing to a String cannot fail");
}

/// Writes a `react` (or, when not `add`, `unreact`) command on message `seq` into `out`.
pub fn react(out: &mut String, id: u64, conversation: &str, seq: u64, add: bool) {
    out.clear();
    let command = if add { "react" } else { "unreact" };
    write!(
        out,
        r#"{{"id":{id},"type":"{command}","conversation":"{conversation}","seq":{seq},"emoji":"👍"}}"#
    )
    .expect("writing to a String cannot fail");
}

/// Writes an `edit` command of message `seq` into `out`.
pub fn edit(out: &mut String, id: u64, conversation: &str, seq: u64) {
    out.clear();
    write!(
        out,
        r#"{{"id":{id},"type":"edit","conversation":"{conversation}","seq":{seq},"body":"{BODY} (edited)"}}"#
    )
    .expect("writing to a String cannot fail");
}

/// The send time a `client_id` written by [`post`] carries.
pub fn sent_at(client_id: &str) -> Option<u64> {
    client_id.split_once('-')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_carries_its_send_time_in_its_client_id() {
        let mut out = String::from("left over");
        post(&mut out, 7, "c-1", PostKind::Note, 123_456);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["id"], 7);
        assert_eq!(value["type"], "post");
        assert_eq!(value["conversation"], "c-1");
        assert_eq!(value["kind"], "note");
        assert_eq!(value["body"], BODY);
        assert_eq!(sent_at(value["client_id"].as_str().unwrap()), Some(123_456));
        assert_eq!(sent_at("m-1"), None);
        assert_eq!(sent_at("42"), None);
    }

    #[test]
    fn frames_are_read_without_their_payload() {
        let event = r#"{"type":"event","conversation":"c","seq":9,"at":1,"author":{"kind":"staff","id":"u"},"client_id":"5-1","kind":"reply","body":"a \"quoted\" body"}"#;
        let frame = Incoming::parse(event).unwrap();
        assert_eq!(
            (frame.frame, frame.conversation, frame.seq, frame.kind),
            ("event", Some("c"), Some(9), Some("reply"))
        );
        assert_eq!(frame.client_id, Some("5-1"));
        let ok = Incoming::parse(r#"{"type":"ok","id":3,"seq":4,"invitation":"i"}"#).unwrap();
        assert_eq!(
            (ok.id, ok.seq, ok.invitation),
            (Some(3), Some(4), Some("i"))
        );
        assert!(ok.events.is_empty());
        let ok = r#"{"type":"ok","id":5,"conversation":"c","seq":9,"events":[{"conversation":"c","seq":9,"at":1,"author":{"kind":"staff","id":"u"},"client_id":"5-1","kind":"reply","body":"b"}]}"#;
        let ok = Incoming::parse(ok).unwrap();
        assert_eq!(
            ok.events,
            vec![Event {
                conversation: Some("c"),
                seq: Some(9),
                kind: Some("reply"),
                client_id: Some("5-1"),
            }]
        );
        let error = r#"{"type":"error","id":null,"code":"malformed_json","message":"x \"y\""}"#;
        let error = Incoming::parse(error).unwrap();
        assert_eq!((error.id, error.code), (None, Some("malformed_json")));
        let history = r#"{"type":"history","conversation":"c","events":[{"seq":1,"kind":"opened"}],"has_more":false}"#;
        assert_eq!(Incoming::parse(history).unwrap().frame, "history");
        assert_eq!(Incoming::parse("not json"), None);
    }
}
