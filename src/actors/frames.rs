//! The WebSocket message layer under a session: reassembles fragmented messages (with a
//! size cap), checks their UTF-8, validates close frames, and says which close code ends the
//! connection on a protocol violation (RFC 6455: 1002 protocol error, 1007 invalid payload,
//! 1009 too big).

use actix_http::ws::Item;
use actix_web_actors::ws::{CloseCode, CloseReason, Message, ProtocolError};
use bytestring::ByteString;
use std::io::ErrorKind;

/// A whole message, or a control frame, to act on.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    Text(ByteString),
    Binary(Vec<u8>),
    /// Answer with a pong carrying this payload.
    Ping(Vec<u8>),
    /// The client closes; answer with this close frame and stop.
    Close(CloseReason),
    /// Nothing to do (a pong, or a fragment of an unfinished message).
    Nothing,
}

/// The connection must end with this close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub CloseReason);

impl Violation {
    fn new(code: CloseCode, description: &str) -> Violation {
        Violation(CloseReason {
            code,
            description: Some(description.to_owned()),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// Turns the codec's messages into whole messages, one connection's worth of state.
#[derive(Debug)]
pub struct Assembler {
    limit: usize,
    kind: Option<Kind>,
    buffer: Vec<u8>,
}

impl Assembler {
    /// An assembler refusing messages larger than `limit` bytes.
    pub fn new(limit: usize) -> Assembler {
        Assembler {
            limit,
            kind: None,
            buffer: Vec::new(),
        }
    }

    /// Takes the next item from the codec.
    pub fn accept(&mut self, item: Result<Message, ProtocolError>) -> Result<Inbound, Violation> {
        match item {
            Ok(Message::Text(text)) => Ok(Inbound::Text(text)),
            Ok(Message::Binary(bytes)) => Ok(Inbound::Binary(bytes.to_vec())),
            Ok(Message::Continuation(item)) => self.fragment(item),
            Ok(Message::Ping(payload)) => Ok(Inbound::Ping(payload.to_vec())),
            Ok(Message::Pong(_)) | Ok(Message::Nop) => Ok(Inbound::Nothing),
            Ok(Message::Close(reason)) => close_answer(reason),
            Err(ProtocolError::Overflow) => {
                Err(Violation::new(CloseCode::Size, "message too large"))
            }
            // The codec reports text that is not UTF-8 as an I/O error of kind `Other`.
            Err(ProtocolError::Io(e)) if e.kind() == ErrorKind::Other => Err(Violation::new(
                CloseCode::Invalid,
                "text is not valid UTF-8",
            )),
            Err(error) => Err(Violation::new(CloseCode::Protocol, &error.to_string())),
        }
    }

    fn fragment(&mut self, item: Item) -> Result<Inbound, Violation> {
        let (bytes, last) = match item {
            Item::FirstText(bytes) => {
                self.start(Kind::Text)?;
                (bytes, false)
            }
            Item::FirstBinary(bytes) => {
                self.start(Kind::Binary)?;
                (bytes, false)
            }
            Item::Continue(bytes) => (bytes, false),
            Item::Last(bytes) => (bytes, true),
        };
        let Some(kind) = self.kind else {
            return Err(Violation::new(
                CloseCode::Protocol,
                "continuation without a first fragment",
            ));
        };
        if self.buffer.len() + bytes.len() > self.limit {
            return Err(Violation::new(CloseCode::Size, "message too large"));
        }
        self.buffer.extend_from_slice(&bytes);
        if kind == Kind::Text && !utf8_so_far(&self.buffer, last) {
            return Err(Violation::new(
                CloseCode::Invalid,
                "text is not valid UTF-8",
            ));
        }
        if !last {
            return Ok(Inbound::Nothing);
        }
        self.kind = None;
        let whole = std::mem::take(&mut self.buffer);
        Ok(match kind {
            Kind::Text => Inbound::Text(ByteString::from(
                String::from_utf8(whole).expect("checked as UTF-8 above"),
            )),
            Kind::Binary => Inbound::Binary(whole),
        })
    }

    fn start(&mut self, kind: Kind) -> Result<(), Violation> {
        if self.kind.is_some() {
            return Err(Violation::new(
                CloseCode::Protocol,
                "a new message began inside a fragmented one",
            ));
        }
        self.kind = Some(kind);
        self.buffer.clear();
        Ok(())
    }
}

/// Whether `bytes` is valid UTF-8, or (when more may follow) a valid prefix of it, so that
/// invalid text fails as soon as it arrives.
fn utf8_so_far(bytes: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// The close frame answering a client's close: the same code when it is one a peer may send,
/// 1000 when it gave none, and a protocol error for codes that may not appear on the wire.
fn close_answer(reason: Option<CloseReason>) -> Result<Inbound, Violation> {
    let Some(reason) = reason else {
        return Ok(Inbound::Close(CloseReason {
            code: CloseCode::Normal,
            description: None,
        }));
    };
    let code = u16::from(reason.code);
    let allowed = matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999);
    if allowed {
        Ok(Inbound::Close(CloseReason {
            code: reason.code,
            description: None,
        }))
    } else {
        Err(Violation::new(CloseCode::Protocol, "invalid close code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::web::Bytes;

    fn text(assembler: &mut Assembler, item: Item) -> Result<Inbound, Violation> {
        assembler.accept(Ok(Message::Continuation(item)))
    }

    #[test]
    fn fragments_are_reassembled_and_control_frames_pass_between_them() {
        let mut a = Assembler::new(64);
        assert_eq!(
            text(&mut a, Item::FirstText(Bytes::from_static(b"hel"))),
            Ok(Inbound::Nothing)
        );
        assert_eq!(
            a.accept(Ok(Message::Ping(Bytes::from_static(b"p")))),
            Ok(Inbound::Ping(b"p".to_vec()))
        );
        assert_eq!(
            text(&mut a, Item::Continue(Bytes::from_static(b"lo "))),
            Ok(Inbound::Nothing)
        );
        assert_eq!(
            text(&mut a, Item::Last(Bytes::from_static(b"world"))),
            Ok(Inbound::Text("hello world".into()))
        );
        assert_eq!(
            a.accept(Ok(Message::Continuation(Item::FirstBinary(
                Bytes::from_static(&[1])
            )))),
            Ok(Inbound::Nothing)
        );
        assert_eq!(
            text(&mut a, Item::Last(Bytes::from_static(&[2]))),
            Ok(Inbound::Binary(vec![1, 2]))
        );
    }

    #[test]
    fn violations_get_the_right_close_code() {
        let code = |r: Result<Inbound, Violation>| r.unwrap_err().0.code;
        let mut a = Assembler::new(4);
        assert_eq!(
            code(text(&mut a, Item::FirstText(Bytes::from_static(b"12345")))),
            CloseCode::Size
        );
        let mut a = Assembler::new(64);
        assert_eq!(
            code(text(&mut a, Item::Continue(Bytes::from_static(b"x")))),
            CloseCode::Protocol
        );
        let mut a = Assembler::new(64);
        text(&mut a, Item::FirstText(Bytes::from_static(b"a"))).unwrap();
        assert_eq!(
            code(text(&mut a, Item::FirstText(Bytes::from_static(b"b")))),
            CloseCode::Protocol
        );
        let mut a = Assembler::new(64);
        // The first two bytes of a three-byte character are a valid prefix…
        assert_eq!(
            text(&mut a, Item::FirstText(Bytes::from_static(&[0xe2, 0x82]))),
            Ok(Inbound::Nothing)
        );
        // …but the message may not end there.
        assert_eq!(
            code(text(&mut a, Item::Last(Bytes::new()))),
            CloseCode::Invalid
        );
        let mut a = Assembler::new(64);
        assert_eq!(
            code(text(&mut a, Item::FirstText(Bytes::from_static(&[0xff])))),
            CloseCode::Invalid
        );
        let not_utf8 = std::io::Error::other("invalid utf-8 sequence");
        assert_eq!(
            code(a.accept(Err(ProtocolError::Io(not_utf8)))),
            CloseCode::Invalid
        );
        assert_eq!(
            code(a.accept(Err(ProtocolError::Overflow))),
            CloseCode::Size
        );
    }

    #[test]
    fn a_close_is_answered_with_its_code_unless_the_code_is_not_allowed() {
        let mut a = Assembler::new(64);
        let close = |code: u16| {
            Message::Close(Some(CloseReason {
                code: code.into(),
                description: None,
            }))
        };
        assert_eq!(
            a.accept(Ok(close(1001))),
            Ok(Inbound::Close(CloseReason {
                code: CloseCode::Away,
                description: None
            }))
        );
        assert_eq!(
            a.accept(Ok(Message::Close(None))),
            Ok(Inbound::Close(CloseReason {
                code: CloseCode::Normal,
                description: None
            }))
        );
        for bad in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            assert_eq!(
                a.accept(Ok(close(bad))).unwrap_err().0.code,
                CloseCode::Protocol,
                "{bad}"
            );
        }
    }
}
