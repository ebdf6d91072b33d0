//! Starting the server: storage, conversation arbiters, the registry and the HTTP listener.

use crate::actors::Registry;
use crate::config::Config;
use crate::http;
use crate::http::error::ApiError;
use crate::store::Store;
use actix::Arbiter;
use actix_web::{middleware, web, App, HttpServer};
use std::io::Write;
use std::sync::Arc;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not open the database {url:?}: {source}")]
    Database {
        url: String,
        source: crate::store::StoreError,
    },
    #[error(
        "could not listen on {addr}: {source} (is another server using that port? set --bind)"
    )]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Run(std::io::Error),
}

/// Runs the server until it is stopped (Ctrl-C or SIGTERM). Prints the address it listens
/// on once ready, as `Conclave listening on http://ADDR`.
pub async fn run(config: Config) -> Result<(), StartError> {
    let store = Store::open(&config.database_url, config.pool_size).map_err(|source| {
        StartError::Database {
            url: config.database_url.clone(),
            source,
        }
    })?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = if config.workers == 0 {
        cores
    } else {
        config.workers
    };
    let arbiters: Vec<_> = (0..cores).map(|_| Arbiter::new().handle()).collect();
    let backend = store.backend();
    let registry = Registry::new(store, Arc::new(config.clone()), arbiters);
    let data = web::Data::new(registry);
    let max_json = config.max_frame_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_json)
                    .error_handler(|err, _| ApiError::BadRequest(err.to_string()).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| ApiError::BadRequest(err.to_string()).into()),
            )
            .wrap(middleware::Logger::new("%a \"%r\" %s %Dms"))
            .configure(http::routes)
    })
    .workers(workers)
    .bind(config.bind)
    .map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    for addr in server.addrs() {
        println!(
            "Conclave listening on http://{addr} (database: {})",
            backend.name()
        );
    }
    std::io::stdout().flush().ok();
    tracing::info!(
        workers,
        arbiters = cores,
        database = backend.name(),
        "server started"
    );
    server.run().await.map_err(StartError::Run)
}
