//! The event bus: how a notification raised anywhere reaches the SSE connections that
//! want it. [`Bus`] is the interface; the in-process broadcast is the single-node default,
//! and with PostgreSQL the bus also fans out through `LISTEN/NOTIFY`, so an event raised on
//! one node reaches subscribers on every node.
//!
//! A subscriber holds one broadcast receiver and nothing else: dropping it (a closed SSE
//! connection) releases everything, and [`Bus::subscriber_count`] says how many are held.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::{db, models::Notification};

/// What travels on the bus.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A user's notification (already stored).
    Notification(Notification),
    /// A comment was added to a post (anyone viewing the post may refresh its comments).
    Comment { post_id: i64, comment_id: i64 },
}

/// Events buffered per subscriber before a slow one lags (it then catches up from the database).
const CAPACITY: usize = 1024;
const CHANNEL: &str = "quire_events";

/// Something that carries notifications between the places that raise them and the
/// connections that stream them.
pub trait EventTransport: Send + Sync + 'static {
    /// Sends an event to the other nodes (the local fan-out is the bus's own).
    fn forward(&self, event: &Event);
}

/// The bus every part of Quire uses (cheap to clone).
#[derive(Clone)]
pub struct Bus {
    local: broadcast::Sender<Arc<Event>>,
    remote: Option<Arc<dyn EventTransport>>,
    node: Arc<str>,
    /// Set when the server stops: open streams end, so a graceful shutdown is not held up
    /// by idle event streams (browsers reconnect to another node or after the restart).
    closing: Arc<watch::Sender<bool>>,
}

impl Bus {
    /// One process: events go to this process's subscribers only.
    pub fn in_process() -> Self {
        let (local, _) = broadcast::channel(CAPACITY);
        let (closing, _) = watch::channel(false);
        Bus { local, remote: None, node: Arc::from(uuid::Uuid::new_v4().to_string()), closing: Arc::new(closing) }
    }

    /// Several nodes sharing a PostgreSQL database: each notification is also sent with
    /// `pg_notify`, and a listener task delivers other nodes' notifications here. The listener
    /// has its own connection (it reconnects by itself), not one of the pool's.
    pub async fn postgres(pool: sqlx::PgPool, url: &str) -> sqlx::Result<Self> {
        let mut bus = Bus::in_process();
        let mut listener = db::notify::Listener::connect(url, CHANNEL).await?;
        let local = bus.local.clone();
        let node = bus.node.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(payload) => match serde_json::from_str::<Wire>(&payload) {
                        Ok(w) if *w.node != *node => {
                            let _ = local.send(Arc::new(w.event));
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "unreadable event from another node"),
                    },
                    // PgListener reconnects by itself on the next recv; wait a little first.
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        });
        bus.remote = Some(Arc::new(PgTransport { pool, node: bus.node.clone() }));
        Ok(bus)
    }

    /// Delivers a notification (already committed to the database) to its subscribers here
    /// and on the other nodes.
    pub fn publish(&self, n: Notification) {
        self.send(Event::Notification(n));
    }

    /// Sends any event here and to the other nodes.
    pub fn send(&self, event: Event) {
        if let Some(remote) = &self.remote {
            remote.forward(&event);
        }
        // No receivers is not an error: nobody is listening right now.
        let _ = self.local.send(Arc::new(event));
    }

    /// Subscribes to one user's notifications.
    pub fn subscribe(&self, user_id: i64) -> Subscription {
        Subscription { rx: self.local.subscribe(), topic: Topic::User(user_id), closing: self.closing.subscribe() }
    }

    /// Subscribes to one post's new comments.
    pub fn subscribe_post(&self, post_id: i64) -> Subscription {
        Subscription { rx: self.local.subscribe(), topic: Topic::Post(post_id), closing: self.closing.subscribe() }
    }

    /// Ends every open subscription (the server is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// How many subscriptions are open in this process.
    pub fn subscriber_count(&self) -> usize {
        self.local.receiver_count()
    }
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("subscribers", &self.subscriber_count())
            .field("shared", &self.remote.is_some())
            .finish()
    }
}

enum Topic {
    User(i64),
    Post(i64),
}

/// One user's (or one post's) view of the bus.
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Event>>,
    topic: Topic,
    closing: watch::Receiver<bool>,
}

/// What a subscription yields next.
pub enum Next {
    Event(Arc<Event>),
    /// Events were dropped because this subscriber was slow: catch up from the database.
    Lagged,
    Closed,
}

impl Subscription {
    pub async fn next(&mut self) -> Next {
        loop {
            if *self.closing.borrow() {
                return Next::Closed;
            }
            let received = tokio::select! {
                r = self.rx.recv() => r,
                _ = self.closing.changed() => return Next::Closed,
            };
            match received {
                Ok(e) => {
                    let mine = match (&*e, &self.topic) {
                        (Event::Notification(n), Topic::User(u)) => n.user_id == *u,
                        (Event::Comment { post_id, .. }, Topic::Post(p)) => post_id == p,
                        _ => false,
                    };
                    if mine {
                        return Next::Event(e);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => return Next::Lagged,
                Err(broadcast::error::RecvError::Closed) => return Next::Closed,
            }
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    node: String,
    event: Event,
}

struct PgTransport {
    pool: sqlx::PgPool,
    node: Arc<str>,
}

impl EventTransport for PgTransport {
    fn forward(&self, event: &Event) {
        let payload = match serde_json::to_string(&Wire { node: self.node.to_string(), event: event.clone() }) {
            Ok(p) => p,
            Err(e) => return tracing::warn!(error = %e, "could not encode an event"),
        };
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(e) = db::notify::notify(&pool, CHANNEL, &payload).await {
                tracing::warn!(error = %e, "could not forward an event to the other nodes");
            }
        });
    }
}
