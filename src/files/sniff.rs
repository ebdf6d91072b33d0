//! What an uploaded file really is, told from its bytes (never from its name or the type
//! the uploader claimed), and whether it is on the allow-list.

use std::io::Read;
use std::path::Path;

/// The types Conclave accepts: images, PDF and plain text. Nothing a browser would run
/// (HTML, SVG, scripts) is on it, and downloads are never shown inline anyway.
pub const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
];

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    /// Pixel size, for images.
    pub size: Option<(u32, u32)>,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this kind of file is not accepted ({0}): send an image (PNG, JPEG, GIF, WebP), a PDF or plain text")]
    Unsupported(&'static str),
    #[error("the file could not be read")]
    Unreadable,
}

/// Tells what the file at `path` is, reading as much of it as that takes.
pub fn sniff(path: &Path) -> Result<Sniffed, Refused> {
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)
        .and_then(|f| f.take(512).read_to_end(&mut head))
        .map_err(|_| Refused::Unreadable)?;
    let image = match imagesize::image_type(&head) {
        Ok(imagesize::ImageType::Png) => Some("image/png"),
        Ok(imagesize::ImageType::Jpeg) => Some("image/jpeg"),
        Ok(imagesize::ImageType::Gif) => Some("image/gif"),
        Ok(imagesize::ImageType::Webp) => Some("image/webp"),
        _ => None,
    };
    if let Some(content_type) = image {
        let size = imagesize::size(path).map_err(|_| Refused::Unsupported("a damaged image"))?;
        return Ok(Sniffed {
            content_type,
            size: Some((size.width as u32, size.height as u32)),
        });
    }
    if head.starts_with(b"%PDF-") {
        return Ok(Sniffed {
            content_type: "application/pdf",
            size: None,
        });
    }
    if looks_like_markup(&head) {
        return Err(Refused::Unsupported("HTML, SVG or XML"));
    }
    let text = std::fs::read(path).map_err(|_| Refused::Unreadable)?;
    if std::str::from_utf8(&text).is_ok() && !text.contains(&0) {
        return Ok(Sniffed {
            content_type: "text/plain",
            size: None,
        });
    }
    Err(Refused::Unsupported("an unknown binary type"))
}

/// Whether text starts like a document a browser would render or run (the signatures of the
/// WHATWG MIME sniffing standard, after leading whitespace and a byte order mark).
fn looks_like_markup(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    // Element names must end where they do (`<a>` or `<a href`, not `<apple`).
    const ELEMENTS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<svg",
    ];
    const OPENINGS: &[&[u8]] = &[b"<!--", b"<?xml"];
    let starts =
        |tag: &[u8]| head.len() >= tag.len() && head[..tag.len()].eq_ignore_ascii_case(tag);
    OPENINGS.iter().any(|tag| starts(tag))
        || ELEMENTS.iter().any(|tag| {
            starts(tag)
                && head
                    .get(tag.len())
                    .is_none_or(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    /// A 3 × 2 PNG.
    pub const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x9D, 0x74, 0x66, 0x1A,
    ];

    #[test]
    fn images_pdf_and_text_are_told_from_their_bytes() {
        let png = sniff(file(PNG).path()).unwrap();
        assert_eq!(png.content_type, "image/png");
        assert_eq!(png.size, Some((3, 2)));
        let gif = sniff(file(b"GIF89a\x05\x00\x04\x00\x00\x00\x00;").path()).unwrap();
        assert_eq!((gif.content_type, gif.size), ("image/gif", Some((5, 4))));
        assert_eq!(
            sniff(file(b"%PDF-1.7\n...").path()).unwrap().content_type,
            "application/pdf"
        );
        assert_eq!(
            sniff(file("order #5, déjà vu <3\n".as_bytes()).path())
                .unwrap()
                .content_type,
            "text/plain"
        );
    }

    #[test]
    fn markup_and_unknown_binaries_are_refused_whatever_their_name() {
        for markup in [
            &b"<!DOCTYPE html><p>hi"[..],
            b"  <html>",
            b"\xEF\xBB\xBF<script>alert(1)</script>",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"<?xml version='1.0'?>",
            b"<a href=x>",
            b"<!-- c -->",
        ] {
            assert_eq!(
                sniff(file(markup).path()),
                Err(Refused::Unsupported("HTML, SVG or XML")),
                "{}",
                String::from_utf8_lossy(markup)
            );
        }
        assert!(sniff(file(b"<apple> is not a tag").path()).is_ok());
        assert!(matches!(
            sniff(file(&[0x7F, b'E', b'L', b'F', 0, 1, 2]).path()),
            Err(Refused::Unsupported(_))
        ));
        assert!(matches!(
            sniff(file(&PNG[..12]).path()),
            Err(Refused::Unsupported(_))
        ));
    }
}
