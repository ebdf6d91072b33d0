//! The web console: static files embedded in the binary from `web/` (in debug builds too,
//! so tests serve exactly what ships), served with a strict Content-Security-Policy. The
//! console is one page; its paths (`/`, `/messages`…) are the page's own routes.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

/// The files under `web/`.
#[derive(rust_embed::Embed)]
#[folder = "web/"]
struct Assets;

/// Scripts, styles and fonts from this server only, no inline script or style attribute
/// that could carry an injection, pictures also from the web (avatars), and no framing.
const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob: https:; connect-src 'self'; font-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /` and the console's other routes: the console's page.
pub async fn page(req: HttpRequest) -> HttpResponse {
    file(&req, "console/index.html")
}

/// `GET /assets/{path}`: a file of `web/`.
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    file(&req, &path)
}

/// The embedded file at `path`, with its type and an `ETag` (answering `304` when the
/// browser has it), or `404`.
fn file(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(found) = Assets::get(path) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!(
        "\"{}\"",
        found
            .metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        // Revalidated every time: a new binary's files are seen at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONSOLE_CSP))
        .insert_header(("Referrer-Policy", "no-referrer"));
    if fresh {
        return response.finish();
    }
    response
        .content_type(found.metadata.mimetype())
        .body(found.data.into_owned())
}
