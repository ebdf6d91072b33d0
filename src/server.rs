//! Starting and stopping the server: storage, the registry, the HTTP listener and its
//! workers (which also run the conversations), and a graceful shutdown on SIGTERM or Ctrl-C.

use crate::actors::session::Disconnect;
use crate::actors::Registry;
use crate::config::Config;
use crate::files::DiskFiles;
use crate::http;
use crate::http::error::ApiError;
use crate::store::{accounts, Store};
use actix_cors::Cors;
use actix_web::http::header;
use actix_web::{middleware, web, App, HttpServer};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// How often uploads that never went on a message are looked for.
const UPLOAD_SWEEP_INTERVAL: Duration = Duration::from_secs(3600);
/// How often, at most, closed conversations past their retention are looked for.
const RETENTION_SWEEP_INTERVAL: Duration = Duration::from_secs(3600);
/// How often conversations due to wake or to close are looked for.
const DUE_SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// How old an upload that never went on a message gets before it is deleted.
const ABANDONED_UPLOAD_AGE: Duration =
    Duration::from_millis(crate::domain::message::UPLOAD_KEPT_MS as u64);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "could not open the database {url:?}: {source}{}",
        database_hint(source)
    )]
    Database {
        url: String,
        source: crate::store::StoreError,
    },
    #[error("could not use the files directory {dir:?}: {source} (set --files-dir to a writable directory)")]
    Files {
        dir: std::path::PathBuf,
        source: std::io::Error,
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
    #[error("--redis-url is for several nodes sharing one PostgreSQL database: set --database-url to a postgres:// URL (or leave --redis-url out to run alone on SQLite)")]
    RedisWithoutPostgres,
    #[error(transparent)]
    Redis(#[from] crate::cluster::link::Unreachable),
}

/// What to do about a database that will not open, where the error says.
fn database_hint(error: &crate::store::StoreError) -> &'static str {
    let text = error.to_string();
    if text.contains("readonly") || text.contains("read-only") {
        " (the database file, its directory or its filesystem is read-only: make them writable by the user running conclave)"
    } else if text.contains("disk is full") {
        " (the disk is full: free some space)"
    } else {
        ""
    }
}

/// Runs the server until SIGTERM or Ctrl-C. Prints the address it listens on once ready, as
/// `Conclave listening on http://ADDR`. On a signal it stops accepting connections, closes
/// every WebSocket with 1012 (reconnect and resume), flushes pending writes and returns.
pub async fn run(config: Config) -> Result<(), StartError> {
    let store = Store::open(
        &config.database_url,
        config.pool_size,
        config.commit_interval(),
    )
    .map_err(|source| StartError::Database {
        url: config.database_url.clone(),
        source,
    })?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = if config.workers == 0 {
        cores
    } else {
        config.workers
    };
    let backend = store.backend();
    let files_dir = config.files_dir();
    let files = DiskFiles::open(&files_dir).map_err(|source| StartError::Files {
        dir: files_dir.clone(),
        source,
    })?;
    // With Redis, this server is one node of several: named afresh at each start (a node
    // that restarts is a new member; the leases of the old one expire or are taken over).
    let mut cluster_link = None;
    let cluster = match &config.redis_url {
        Some(url) => {
            if backend != crate::store::Backend::Postgres {
                return Err(StartError::RedisWithoutPostgres);
            }
            let connections = crate::cluster::link::connect(url).await?;
            let id = uuid::Uuid::now_v7().simple().to_string();
            let node: Arc<str> = format!("node-{}", &id[id.len() - 10..]).into();
            let (outbox, queue) = tokio::sync::mpsc::unbounded_channel();
            cluster_link = Some((connections, queue));
            tracing::info!(%node, "joining the other nodes over Redis");
            Some(Arc::new(crate::cluster::Cluster::new(node, outbox)))
        }
        None => None,
    };
    let registry = Registry::new(store, Arc::new(files), Arc::new(config.clone()), cluster);
    if let Some((connections, queue)) = cluster_link {
        crate::cluster::link::start(Arc::clone(&registry), connections, queue);
    }
    let data = web::Data::new(registry);
    let max_json = config.max_frame_bytes;
    let shutdown_timeout = config.shutdown_timeout_secs;
    let allowed_origins = config.allowed_origins.clone();
    let app_data = data.clone();
    let login_guard = web::Data::new(http::login::LoginGuard::new(&config));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(app_data.clone())
            .app_data(login_guard.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_json)
                    .error_handler(|err, _| ApiError::BadRequest(err.to_string()).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| ApiError::BadRequest(err.to_string()).into()),
            )
            .wrap(middleware::from_fn(http::operations::observe))
            .configure(|cfg| http::routes(cfg, cors(&allowed_origins)))
    })
    .on_connect(|connection, _| {
        // Frames are small and latency matters: no Nagle delay (writes are already coalesced
        // per session).
        if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
            tcp.set_nodelay(true).ok();
        }
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(shutdown_timeout)
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
    let metrics_server = match config.metrics_bind {
        Some(addr) => {
            let metrics_data = data.clone();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(metrics_data.clone())
                    .route("/metrics", web::get().to(http::operations::metrics_open))
            })
            .workers(1)
            .disable_signals()
            .bind(addr)
            .map_err(|source| StartError::Bind { addr, source })?;
            for addr in server.addrs() {
                tracing::info!("Prometheus metrics at http://{addr}/metrics");
            }
            Some(server.run())
        }
        None => None,
    };
    std::io::stdout().flush().ok();
    tracing::info!(workers, database = backend.name(), "server started");
    // Teams that route automatically need their queue running from the start.
    let routed = data.clone();
    actix_web::rt::spawn(async move {
        match routed.store().run(accounts::auto_routed_teams).await {
            Ok(teams) => {
                for team in teams.iter().filter_map(|t| t.parse().ok()) {
                    routed.queue(team);
                }
            }
            Err(error) => tracing::error!(%error, "could not start the routing teams' queues"),
        }
    });
    // Snoozed conversations wake on time, and idle ones close, even when nobody has them
    // in memory: loading a conversation does what is due.
    let waker = data.clone();
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(DUE_SWEEP_INTERVAL);
        loop {
            every.tick().await;
            let now = crate::store::now_millis();
            let idle_before = waker
                .config()
                .auto_close_after_ms()
                .map(|after| now - after);
            let due = waker
                .store()
                .run(move |conn| crate::store::conversations::due(conn, now, idle_before))
                .await;
            match due {
                Ok(ids) => {
                    for id in ids {
                        if let Err(error) = waker.conversation(id).await {
                            tracing::warn!(conversation = %id, %error, "could not load a conversation that is due");
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "could not look for conversations due"),
            }
        }
    });
    let sweeper = data.clone();
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(UPLOAD_SWEEP_INTERVAL);
        loop {
            every.tick().await;
            sweeper.sweep_abandoned_uploads(ABANDONED_UPLOAD_AGE).await;
        }
    });
    if let Some(retention) = config.retention {
        let purger = data.get_ref().clone();
        // Often enough that nothing outlives its retention by more than a tenth of it.
        let every = (retention / 10).clamp(Duration::from_secs(1), RETENTION_SWEEP_INTERVAL);
        actix_web::rt::spawn(async move {
            let mut every = actix_web::rt::time::interval(every);
            loop {
                every.tick().await;
                if let Err(error) = purger.purge_closed(retention).await {
                    tracing::warn!(%error, "could not delete conversations past their retention");
                }
            }
        });
    }
    let server = server.run();
    let handle = server.handle();
    let metrics_handle = metrics_server.as_ref().map(|s| s.handle());
    if let Some(metrics_server) = metrics_server {
        actix_web::rt::spawn(metrics_server);
    }
    let registry = data.get_ref().clone();
    actix_web::rt::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: refusing new connections, closing sessions");
        registry.begin_shutdown();
        let stopped = handle.stop(true);
        registry.disconnect_all(Disconnect::RESTART);
        stopped.await;
        if let Some(metrics) = metrics_handle {
            metrics.stop(true).await;
        }
    });
    server.await.map_err(StartError::Run)?;
    let writer = data.store().writer().clone();
    let timeout = Duration::from_secs(shutdown_timeout);
    if web::block(move || writer.flush(timeout))
        .await
        .unwrap_or(false)
    {
        tracing::info!("pending writes flushed; stopped");
    } else {
        tracing::warn!("stopped without confirming every pending write");
    }
    Ok(())
}

/// Waits for SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    match terminate {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            tokio::signal::ctrl_c().await.ok();
        }
    }
}

/// CORS for the REST API: only the configured origins, only the methods and headers the API
/// uses.
fn cors(allowed_origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(3600);
    if allowed_origins.iter().any(|o| o == "*") {
        cors = cors.allow_any_origin();
    } else {
        for origin in allowed_origins {
            cors = cors.allowed_origin(origin);
        }
    }
    cors
}
