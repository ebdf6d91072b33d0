//! The node's tasks that talk to Redis: the outbox (everything this node sends, batched and
//! numbered per destination), the inbox (this node's channel and the one every node hears),
//! the beat, and the renewal of leases.

use super::remote;
use super::wire::{Envelope, Item};
use super::{node_channel, Cluster, Dest, ALL_CHANNEL, BEAT_EVERY, LEASE_TTL, RENEW_EVERY};
use crate::actors::Registry;
use crate::store::{leases, now_millis};
use bytestring::ByteString;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Most items taken into one round of publishing.
const MAX_ROUND: usize = 4096;

/// Why Redis could not be used at start.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not reach Redis at {url}: {source} (is redis-server running there? check --redis-url)"
)]
pub struct Unreachable {
    url: String,
    source: redis::RedisError,
}

/// The connections a node needs: one that publishes (the crate's connection manager, which
/// reconnects by itself) and a client for the subscription.
pub struct Connections {
    client: redis::Client,
    publisher: ConnectionManager,
}

/// Connects to Redis at `url`, failing at once if it cannot be reached.
pub async fn connect(url: &str) -> Result<Connections, Unreachable> {
    let unreachable = |source| Unreachable {
        url: url.to_owned(),
        source,
    };
    let client = redis::Client::open(url).map_err(unreachable)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_max_delay(Duration::from_millis(500))
        .set_number_of_retries(2);
    let publisher = client
        .get_connection_manager_with_config(config)
        .await
        .map_err(unreachable)?;
    Ok(Connections { client, publisher })
}

/// Starts the node's tasks on the current runtime.
pub fn start(
    registry: Arc<Registry>,
    connections: Connections,
    outbox: mpsc::UnboundedReceiver<(Dest, Item<ByteString>)>,
) {
    let cluster = Arc::clone(registry.cluster().expect("a cluster node"));
    actix::spawn(publish(
        Arc::clone(&registry),
        connections.publisher,
        outbox,
    ));
    actix::spawn(listen(Arc::clone(&registry), connections.client));
    actix::spawn(beat(Arc::clone(&registry)));
    actix::spawn(renew(registry, cluster));
}

/// Sends what the node queued: each round's items grouped per destination, in order, one
/// numbered envelope each, all in one pipeline.
async fn publish(
    registry: Arc<Registry>,
    mut publisher: ConnectionManager,
    mut queue: mpsc::UnboundedReceiver<(Dest, Item<ByteString>)>,
) {
    let cluster = Arc::clone(registry.cluster().expect("a cluster node"));
    // How many envelopes this node has sent each node.
    let mut links: HashMap<Arc<str>, u64> = HashMap::new();
    let mut round = Vec::new();
    while queue.recv_many(&mut round, MAX_ROUND).await > 0 {
        let mut groups: Vec<(Dest, Vec<Item<ByteString>>)> = Vec::new();
        for (dest, item) in round.drain(..) {
            match groups.iter_mut().find(|(d, _)| *d == dest) {
                Some((_, items)) => items.push(item),
                None => groups.push((dest, vec![item])),
            }
        }
        let mut pipe = redis::pipe();
        // This node's sessions' commands, kept until Redis says whether anyone heard them.
        let mut commands: Vec<Vec<Item<ByteString>>> = Vec::with_capacity(groups.len());
        for (dest, items) in &mut groups {
            let (channel, link) = match dest {
                Dest::Node(node) => {
                    let link = links.entry(Arc::clone(node)).or_default();
                    *link += 1;
                    (node_channel(node), *link)
                }
                Dest::All => (ALL_CHANNEL.to_owned(), 0),
            };
            for item in items.iter_mut() {
                if let Item::Beat { links: sent, .. } = item {
                    *sent = links.iter().map(|(n, l)| (n.to_string(), *l)).collect();
                }
            }
            commands.push(
                items
                    .iter()
                    .filter(
                        |item| matches!(item, Item::Command(f) if *f.origin == **cluster.node()),
                    )
                    .cloned()
                    .collect(),
            );
            let envelope = Envelope {
                from: cluster.node().to_string(),
                link,
                items: std::mem::take(items),
            };
            pipe.cmd("PUBLISH").arg(channel).arg(envelope.encode());
        }
        let mut heard: Result<Vec<i64>, _> = pipe.query_async(&mut publisher).await;
        if heard.is_err() {
            // The connection manager reconnects after a failure: one more go, shortly. Were
            // the first go heard after all, the receivers drop the copies (same links).
            tokio::time::sleep(Duration::from_millis(250)).await;
            heard = pipe.query_async(&mut publisher).await;
        }
        match heard {
            Ok(listeners) => {
                for (((dest, _), listeners), commands) in groups.iter().zip(listeners).zip(commands)
                {
                    if let (Dest::Node(node), 0) = (dest, listeners) {
                        // Nobody listens on its channel: the node is gone (a live node
                        // always listens). Its streams are taken over, starting with the
                        // ones these commands were for.
                        tracing::warn!(node = %node, "a node stopped listening; counting it gone");
                        remote::node_gone(&registry, node);
                        for command in commands {
                            remote::retry_here(&registry, command).await;
                        }
                    }
                }
            }
            Err(error) => {
                // What this round carried is lost. The sessions whose commands it held are
                // told at once; the receivers of the rest find the gap in their links by
                // the next beat, and resync what it fed.
                tracing::warn!(%error, "could not publish to Redis");
                for command in commands.into_iter().flatten() {
                    remote::refuse_unsent(&registry, command);
                }
            }
        }
    }
}

/// Listens on this node's channel and the one every node hears, reconnecting whenever the
/// subscription breaks; each time it does, everything followed elsewhere is resynced.
async fn listen(registry: Arc<Registry>, client: redis::Client) {
    let cluster = Arc::clone(registry.cluster().expect("a cluster node"));
    let mine = node_channel(cluster.node());
    let mut first = true;
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&mine).await?;
            pubsub.subscribe(ALL_CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(Duration::from_secs(3), subscribed).await {
            Ok(Ok(pubsub)) => {
                if !first {
                    tracing::info!("Redis subscription restored");
                    remote::resync(&registry, cluster.lost_everything());
                }
                first = false;
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    match Envelope::decode(message.get_payload_bytes()) {
                        Ok(envelope) => remote::receive(&registry, envelope).await,
                        Err(error) => tracing::warn!(%error, "ignoring a message"),
                    }
                }
                tracing::warn!("lost the Redis subscription; reconnecting");
                remote::resync(&registry, cluster.lost_everything());
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "could not subscribe to Redis; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(_) => tracing::warn!("subscribing to Redis timed out; retrying"),
        }
    }
}

/// Every [`BEAT_EVERY`], or soon after presence changes: tells every node who is online
/// here, and counts silent nodes gone.
async fn beat(registry: Arc<Registry>) {
    let cluster = Arc::clone(registry.cluster().expect("a cluster node"));
    // The first beat goes out at once: until the others hear it, they may count a node that
    // just started as gone.
    let mut first = true;
    loop {
        if !first {
            tokio::select! {
                _ = tokio::time::sleep(BEAT_EVERY) => {}
                _ = cluster.beat_soon.notified() => {
                    // Changes that come together go out together.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        first = false;
        cluster.send(
            Dest::All,
            Item::Beat {
                presence: registry.local_presence().snapshot(),
                queues: registry.running_queues(),
                links: HashMap::new(),
            },
        );
        for node in cluster.newly_silent() {
            tracing::warn!(node = %node, "a node went silent; counting it gone");
            remote::node_gone(&registry, &node);
        }
    }
}

/// Renews this node's leases every [`RENEW_EVERY`], and unloads the streams it runs whose
/// lease another node took over meanwhile (it counted this one gone): their subscribers
/// here are told to resync, and find the stream where it runs now. Without this, a stream
/// that nobody here writes to would learn of it only at its next write.
async fn renew(registry: Arc<Registry>, cluster: Arc<Cluster>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let node = Arc::clone(cluster.node());
        let until = now_millis() + LEASE_TTL.as_millis() as i64;
        let running = registry.running_streams();
        let renewed = registry
            .store()
            .run(move |conn| {
                leases::renew(conn, &node, until)?;
                leases::held(conn, &node)
            })
            .await;
        match renewed {
            Ok(held) => registry.evict_lost(&running, &held.into_iter().collect()),
            Err(error) => tracing::warn!(%error, "could not renew this node's stream leases"),
        }
    }
}
