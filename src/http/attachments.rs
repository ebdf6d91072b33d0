//! Uploading files to a conversation and downloading them.
//!
//! An upload is checked by the room's rules (whoever may post there), streamed to a scratch
//! file with the size limit enforced as it arrives, typed from its bytes and kept in the
//! [`FileStore`](crate::files::FileStore); a `post` then carries it. A download is allowed
//! exactly when the message that carries it may be read: a customer never gets a note's
//! file, nor another conversation's, and is told "not found" either way.

use super::auth::Caller;
use super::error::ApiError;
use super::Data;
use crate::actors::timeline::{Live, Who};
use crate::auth::Principal;
use crate::domain::{
    AttachmentId, Channel, ChannelEventKind, ChannelId, ConversationId, EventKind, Kind,
    MessageEvent, Party, Recorded, Room, RuleError, StreamId,
};
use crate::files::sniff::{self, Refused};
use crate::store::attachments::{self, AttachmentRow};
use crate::store::events::{self, Page};
use crate::store::{accounts::parse_id, channels, conversations, now_millis};
use crate::store::{DbConnection, StoreError};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use std::io::{Read, Write};
use std::path::PathBuf;

/// What a form may carry beyond its file: its framing, and any other (ignored) fields.
const FORM_OVERHEAD: u64 = 16 * 1024;

/// Bytes read from storage per chunk of a download.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

/// `POST /api/conversations/{id}/attachments`: a `multipart/form-data` body whose `file`
/// field is the file. Answers `201` with the attachment to put in a `post`'s `attachments`.
pub async fn upload(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    upload_to::<Room>(data, caller, &path, "conversation", req, payload).await
}

/// `POST /api/channels/{id}/attachments`: the same for a team channel's members.
pub async fn upload_to_channel(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
    req: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    upload_to::<Channel>(data, caller, &path, "channel", req, payload).await
}

/// Receives a file for stream `raw_id` of kind `S` (`what` names the kind in errors).
async fn upload_to<S: Live>(
    data: Data,
    caller: Caller,
    raw_id: &str,
    what: &'static str,
    req: HttpRequest,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let stream: S::Id = raw_id.parse().map_err(|_| ApiError::NotFound(what))?;
    let who = Who::of(&caller.0);
    let allowed = data
        .may_upload::<S>(stream, who.clone())
        .await
        .map_err(|_| ApiError::NotFound(what))?;
    match (allowed, &who) {
        // Another customer's conversation is not there, as far as a customer can tell.
        (Err(RuleError::Forbidden), Who::Customer(_)) => return Err(ApiError::NotFound(what)),
        (Err(rule), _) => return Err(rule.into()),
        (Ok(()), _) => {}
    }
    let max = data.config().max_upload_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max + FORM_OVERHEAD) {
        return Err(too_large(max));
    }
    let id = AttachmentId::generate();
    let scratch = Scratch(data.files().scratch().join(format!("{id}.part")));
    let mut name = None;
    let mut size = 0u64;
    let mut other_fields = 0u64;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("the form: {e}")))?;
        if field.name() != Some("file") {
            // Read past it, counting it toward the form's limit all the same.
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the form: {e}")))?;
                other_fields += chunk.len() as u64;
                if other_fields > FORM_OVERHEAD {
                    return Err(too_large(max));
                }
            }
            continue;
        }
        name = Some(file_name(
            field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .unwrap_or("file"),
        ));
        let mut out = Some(open_scratch(scratch.0.clone()).await?);
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the file: {e}")))?;
            size += chunk.len() as u64;
            if size > max {
                return Err(too_large(max));
            }
            let mut file = out.take().expect("the scratch file is open");
            out = Some(
                web::block(move || file.write_all(&chunk).map(|()| file))
                    .await
                    .map_err(|_| disk_trouble())?
                    .map_err(|_| disk_trouble())?,
            );
        }
        break;
    }
    let Some(name) = name else {
        return Err(ApiError::BadRequest(
            "send the file as a multipart/form-data field named `file`".into(),
        ));
    };
    let sniffed_path = scratch.0.clone();
    let sniffed = web::block(move || sniff::sniff(&sniffed_path))
        .await
        .map_err(|_| disk_trouble())?
        .map_err(|refused| match refused {
            Refused::Unsupported(_) => ApiError::UnsupportedType(refused.to_string()),
            Refused::Unreadable => disk_trouble(),
        })?;
    let uploader = match &caller.0 {
        Principal::Staff(user) => user.id.to_string(),
        Principal::Customer { customer, .. } => customer.to_string(),
    };
    let row = AttachmentRow {
        id: id.to_string(),
        stream_id: stream.to_string(),
        uploader_id: uploader,
        name,
        content_type: sniffed.content_type.to_owned(),
        size: size as i64,
        width: sniffed.size.map(|(w, _)| w as i32),
        height: sniffed.size.map(|(_, h)| h as i32),
        seq: None,
        created_at: now_millis(),
    };
    let attachment = row.attachment()?;
    // The row first: should the client go away while the bytes move in, a row without
    // bytes is swept with the other unsent uploads, where bytes without a row would stay.
    let stored = row.clone();
    data.store()
        .run(move |conn| attachments::insert(conn, &stored))
        .await?;
    let files = std::sync::Arc::clone(data.files());
    let key = row.id.clone();
    let from = scratch.0.clone();
    let put = web::block(move || files.put(&key, &from)).await;
    if !matches!(put, Ok(Ok(()))) {
        let id = row.id.clone();
        data.store()
            .run(move |conn| attachments::forget(conn, &id))
            .await
            .ok();
        return Err(disk_trouble());
    }
    Ok(HttpResponse::Created().json(attachment))
}

/// `GET /api/attachments/{id}`: the file, to whoever may read the message that carries it
/// (before it is posted, to its uploader only). Always a download, never shown inline.
pub async fn download(
    data: Data,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound("attachment");
    let id: AttachmentId = path.parse().map_err(|_| not_found())?;
    let principal = caller.0.clone();
    let allowed = data
        .store()
        .run(move |conn| {
            let Some(row) = attachments::by_id(conn, id)? else {
                return Ok(None);
            };
            let readable = match readable_in_conversation(conn, &row, &principal)? {
                Some(readable) => readable,
                None => readable_in_channel(conn, &row, &principal)?,
            };
            Ok(readable.then_some(row))
        })
        .await?
        .ok_or_else(not_found)?;
    let files = std::sync::Arc::clone(data.files());
    let key = allowed.id.clone();
    let reader = web::block(move || files.open(&key))
        .await
        .map_err(|_| disk_trouble())?
        .map_err(|_| not_found())?;
    let body = futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let read = web::block(move || {
            let mut chunk = vec![0; DOWNLOAD_CHUNK];
            let n = reader.read(&mut chunk)?;
            chunk.truncate(n);
            Ok::<_, std::io::Error>((chunk, reader))
        })
        .await;
        match read {
            Ok(Ok((chunk, _))) if chunk.is_empty() => None,
            Ok(Ok((chunk, reader))) => Some((Ok(web::Bytes::from(chunk)), Some(reader))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(_) => Some((Err(std::io::Error::other("the read was cancelled")), None)),
        }
    });
    let content_type = match allowed.content_type.as_str() {
        "text/plain" => "text/plain; charset=utf-8".to_owned(),
        other => other.to_owned(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_LENGTH, allowed.size.to_string()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&allowed.name),
        ))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .streaming(body))
}

/// Whether the file of `row`, uploaded to a conversation, may be downloaded by `principal`;
/// `None` when its stream is not a conversation.
fn readable_in_conversation(
    conn: &mut DbConnection,
    row: &AttachmentRow,
    principal: &Principal,
) -> Result<Option<bool>, StoreError> {
    let conversation: ConversationId = parse_id(&row.stream_id)?;
    let Some(stored) = conversations::conversation(conn, conversation)? else {
        return Ok(None);
    };
    let room = conversations::gate(conn, &stored)?;
    let (party, uploader) = match principal {
        Principal::Staff(user) => (Party::Staff(&user.staff()), user.id.to_string()),
        Principal::Customer { customer, .. } => (Party::Customer(*customer), customer.to_string()),
    };
    let Ok(view) = room.transcript_view(party) else {
        return Ok(Some(false));
    };
    let customer_only = view == crate::domain::View::Customer;
    let carried = carried_at::<_, EventKind>(conn, conversation, row, customer_only)?;
    Ok(Some(carried.unwrap_or(row.uploader_id == uploader)))
}

/// Whether the file of `row`, uploaded to a team channel, may be downloaded by
/// `principal`: a staff member who may read the channel (and before it is posted, its
/// uploader only).
fn readable_in_channel(
    conn: &mut DbConnection,
    row: &AttachmentRow,
    principal: &Principal,
) -> Result<bool, StoreError> {
    let id: ChannelId = parse_id(&row.stream_id)?;
    let (Some(stored), Principal::Staff(user)) = (channels::channel(conn, id)?, principal) else {
        return Ok(false);
    };
    if channels::gate(conn, &stored)?
        .may_read(&user.staff())
        .is_err()
    {
        return Ok(false);
    }
    let carried = carried_at::<_, ChannelEventKind>(conn, id, row, false)?;
    Ok(carried.unwrap_or(row.uploader_id == user.id.to_string()))
}

/// Whether the message that carries the file of `row` carries it as this reader sees it
/// (`customer_only`); `None` when the file is not on a message yet.
fn carried_at<Id: StreamId, K: Kind>(
    conn: &mut DbConnection,
    stream: Id,
    row: &AttachmentRow,
    customer_only: bool,
) -> Result<Option<bool>, StoreError> {
    let Some(seq) = row.seq else {
        return Ok(None);
    };
    let page = Page {
        after_seq: Some(seq as u64 - 1),
        before_seq: Some(seq as u64 + 1),
        limit: 1,
        customer_only,
    };
    let id: AttachmentId = parse_id(&row.id)?;
    let message: Vec<Recorded<Id, K>> = events::page(conn, stream, page)?;
    Ok(Some(message.iter().any(|e| {
        matches!(e.kind.message_event(), Some(MessageEvent::Posted(_, m))
            if m.attachments.iter().any(|a| a.id == id))
    })))
}

/// A scratch file that is removed unless it was moved into the store.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

async fn open_scratch(path: PathBuf) -> Result<std::fs::File, ApiError> {
    web::block(move || std::fs::File::create(path))
        .await
        .map_err(|_| disk_trouble())?
        .map_err(|_| disk_trouble())
}

fn too_large(max: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "the file is larger than the {max} bytes allowed (--max-upload-bytes)"
    ))
}

fn disk_trouble() -> ApiError {
    tracing::error!("could not store or read an uploaded file");
    ApiError::Storage(crate::store::StoreError::Corrupt(
        "the files directory could not be written or read".into(),
    ))
}

/// An uploaded file's name as kept: its last path part, without control characters or
/// quotes, at most 200 characters.
fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    if clean.is_empty() {
        "file".to_owned()
    } else {
        clean
    }
}

/// `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_always_downloaded() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("C:\\Users\\me\\shot.png"), "shot.png");
        assert_eq!(file_name("a\"b\u{7}.txt"), "ab.txt");
        assert_eq!(file_name(".."), "file");
        assert_eq!(
            content_disposition("reçu 5.pdf"),
            "attachment; filename=\"re_u 5.pdf\"; filename*=UTF-8''re%C3%A7u%205.pdf"
        );
    }
}
