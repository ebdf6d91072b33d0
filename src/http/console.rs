//! The web console and the customer widget: static files embedded in the binary from
//! `web/` (in debug builds too, so tests serve exactly what ships), served with a strict
//! Content-Security-Policy. The console is one page; its paths (`/`, `/messages`…) are the
//! page's own routes. The widget is a script for other sites' pages (`/widget.js`) and the
//! chat it opens in an iframe (`/widget/`), which only `--allowed-origins` may frame.

use super::Data;
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
    file(&req, "console/index.html", CONSOLE_CSP)
}

/// `GET /assets/{path}`: a file of `web/`.
pub async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    file(&req, &path, CONSOLE_CSP)
}

/// `GET /widget.js`: the embed snippet's script, for other sites' pages.
pub async fn widget_script(req: HttpRequest) -> HttpResponse {
    file(&req, "widget/loader.js", CONSOLE_CSP)
}

/// `GET /widget/`: the customer's chat, framed by the sites in `--allowed-origins`.
pub async fn widget(data: Data, req: HttpRequest) -> HttpResponse {
    let origins = &data.config().allowed_origins;
    let ancestors = if origins.iter().any(|o| o == "*") {
        "*".to_owned()
    } else {
        std::iter::once("'self'")
            .chain(origins.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let csp = CONSOLE_CSP.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    );
    file(&req, "widget/index.html", &csp)
}

/// The embedded file at `path`, with its type, `csp` and an `ETag` (answering `304` when
/// the browser has it), or `404`.
fn file(req: &HttpRequest, path: &str, csp: &str) -> HttpResponse {
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
        .insert_header((header::CONTENT_SECURITY_POLICY, csp.to_owned()))
        .insert_header(("Referrer-Policy", "no-referrer"));
    if fresh {
        return response.finish();
    }
    response
        .content_type(found.metadata.mimetype())
        .body(found.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::Assets;

    /// Everything the console and the widget load, before compression: the issue's
    /// budget is 150 KB compressed for the console's first load; this keeps the whole of
    /// it, uncompressed, under that.
    #[test]
    fn the_console_and_the_widget_stay_small() {
        let total: usize = Assets::iter()
            .filter(|path| !path.contains("LICENSE"))
            .map(|path| Assets::get(&path).expect("listed files exist").data.len())
            .sum();
        assert!(total < 150_000, "the web assets weigh {total} bytes");
    }
}
