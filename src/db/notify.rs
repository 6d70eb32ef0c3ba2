//! PostgreSQL's `LISTEN/NOTIFY`: how nodes sharing a database tell each other of events.

use sqlx::postgres::{PgListener, PgNotification, PgPool};

/// Sends `payload` on `channel` to every node listening.
pub async fn notify(pool: &PgPool, channel: &str, payload: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(pool).await.map(|_| ())
}

/// A connection of its own (not one of the pool's) listening on one channel; it reconnects
/// by itself on the next `recv` after losing the server.
pub struct Listener(PgListener);

impl Listener {
    pub async fn connect(url: &str, channel: &str) -> sqlx::Result<Self> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(channel).await?;
        Ok(Listener(listener))
    }

    /// The next notification's payload.
    pub async fn recv(&mut self) -> sqlx::Result<String> {
        self.0.recv().await.map(|n: PgNotification| n.payload().to_string())
    }
}
