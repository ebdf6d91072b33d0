//! A WebSocket echo server on Conclave's message layer ([`conclave::actors::frames`]): the
//! same reassembly, UTF-8 checks and close handling as every session, with the chat protocol
//! taken away, so that the Autobahn conformance suite can check that layer (`.ci/autobahn`).
//!
//! Run: `cargo run --example ws_echo -- 127.0.0.1:9001`

use actix::{Actor, ActorContext, StreamHandler};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_web_actors::ws;
use conclave::actors::frames::{Assembler, Inbound, Violation};

/// Largest message echoed (the suite's biggest, outside its performance section, is 16 MiB).
const LIMIT: usize = 16 << 20;

struct Echo(Assembler);

impl Actor for Echo {
    type Context = ws::WebsocketContext<Self>;
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for Echo {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        match self.0.accept(msg) {
            Ok(Inbound::Text(text)) => ctx.text(text),
            Ok(Inbound::Binary(bytes)) => ctx.binary(bytes),
            Ok(Inbound::Ping(payload)) => ctx.pong(&payload),
            Ok(Inbound::Nothing) => {}
            Ok(Inbound::Close(reason)) | Err(Violation(reason)) => {
                ctx.close(Some(reason));
                ctx.stop();
            }
        }
    }
}

async fn echo(req: HttpRequest, stream: web::Payload) -> Result<HttpResponse, actix_web::Error> {
    ws::WsResponseBuilder::new(Echo(Assembler::new(LIMIT)), &req, stream)
        .frame_size(LIMIT)
        .start()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    println!("echo listening on ws://{addr}");
    HttpServer::new(|| App::new().route("/", web::get().to(echo)))
        .workers(1)
        .bind(addr)?
        .run()
        .await
}
