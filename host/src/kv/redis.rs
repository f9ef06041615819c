//! Redis key-value storage, as Spin's `type = "redis"` store: keys as they
//! are, counters via `INCRBY` (decimal strings), so that any number of host
//! processes (or real Spin instances) can share one server.

use super::{KvError, KvResult};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;

/// A connection to one Redis server, shared by all requests.
#[derive(Clone)]
pub struct RedisStore {
    conn: MultiplexedConnection,
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port[/db]`).
    pub async fn connect(url: &str) -> anyhow::Result<RedisStore> {
        let client = redis::Client::open(url)?;
        let conn = client.get_multiplexed_async_connection().await?;
        Ok(RedisStore { conn })
    }

    fn conn(&self) -> MultiplexedConnection {
        // Cloning shares the one multiplexed connection.
        self.conn.clone()
    }

    pub async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        self.conn().get(key).await.map_err(KvError::other)
    }

    pub async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.conn().set(key, value).await.map_err(KvError::other)
    }

    pub async fn delete(&self, key: &str) -> KvResult<()> {
        self.conn().del(key).await.map_err(KvError::other)
    }

    pub async fn exists(&self, key: &str) -> KvResult<bool> {
        self.conn().exists(key).await.map_err(KvError::other)
    }

    pub async fn keys(&self) -> KvResult<Vec<String>> {
        self.conn().keys("*").await.map_err(KvError::other)
    }

    pub async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        self.conn().incr(key, delta).await.map_err(KvError::other)
    }

    pub async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> KvResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.conn().mset(&entries).await.map_err(KvError::other)
    }

    pub async fn delete_many(&self, keys: Vec<String>) -> KvResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        self.conn().del(keys).await.map_err(KvError::other)
    }
}
