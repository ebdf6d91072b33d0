//! Another website, on an origin of its own, whose page embeds the customer widget with
//! the snippet a site owner would paste.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A one-page site on 127.0.0.1 (a port of its own, so another origin than the server's).
pub struct Site {
    /// `http://127.0.0.1:PORT`: the site's origin.
    pub origin: String,
    page: Arc<Mutex<String>>,
    serving: JoinHandle<()>,
}

impl Site {
    /// Starts serving (an empty page until [`Site::embed`]).
    pub async fn start() -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let origin = format!("http://{}", listener.local_addr().expect("an address"));
        let page = Arc::new(Mutex::new(String::new()));
        let shared = Arc::clone(&page);
        let serving = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let page = shared.lock().unwrap().clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = socket.read(&mut request).await;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        Site {
            origin,
            page,
            serving,
        }
    }

    /// Puts the widget of the server at `base`, for `team`, on the site's page.
    pub fn embed(&self, base: &str, team: &str) {
        *self.page.lock().unwrap() = format!(
            "<!doctype html><html><head><title>Example shop</title></head><body>\
             <h1>Example shop</h1><p>Our products.</p>\
             <script src=\"{base}/widget.js\" data-team=\"{team}\" async></script>\
             </body></html>"
        );
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.serving.abort();
    }
}
