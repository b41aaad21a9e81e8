//! The response cache: one SQLite table, keyed by a hash of everything that changes an answer
//! (provider, base URL, model id, the full request body with every sampling parameter and the
//! whole conversation, and the sample's seed). A response is committed the moment it arrives,
//! so a killed run loses nothing it paid for. Several processes may share one file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Endpoint;
use crate::{ApiError, Reply};

pub struct ResponseCache {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// `value` with object keys sorted at every level, so equal requests hash equally.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The cache key of one call.
pub fn key(endpoint: &Endpoint, body: &Value, seed: u64) -> String {
    let material = serde_json::json!({
        "provider": endpoint.provider.name(),
        "base_url": endpoint.base_url,
        "model": endpoint.model,
        "body": canonical(body),
        "seed": seed,
    });
    let digest = Sha256::digest(material.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn open_db(path: &Path) -> Result<Connection, ApiError> {
    let fail = |e: &dyn std::fmt::Display| ApiError::Storage(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    }
    let conn = Connection::open(path).map_err(|e| fail(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| fail(&e))?;
    // WAL: readers never block the writer, and a committed row survives a killed process.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| fail(&e))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| fail(&e))?;
    Ok(conn)
}

impl ResponseCache {
    pub fn open(path: &Path) -> Result<ResponseCache, ApiError> {
        let conn = open_db(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS responses (
                key TEXT PRIMARY KEY,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                created_at TEXT NOT NULL,
                reply TEXT NOT NULL
            );",
        )
        .map_err(|e| ApiError::Storage(format!("{}: {e}", path.display())))?;
        Ok(ResponseCache {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, key: &str) -> Result<Option<Reply>, ApiError> {
        let conn = self.conn.lock().expect("cache lock");
        let text: Option<String> = conn
            .prepare_cached("SELECT reply FROM responses WHERE key = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row(params![key], |row| row.get(0))
                    .optional()
            })
            .map_err(|e| ApiError::Storage(format!("{}: {e}", self.path.display())))?;
        // A row this version cannot read is treated as absent (and overwritten on success).
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub fn put(&self, key: &str, endpoint: &Endpoint, reply: &Reply) -> Result<(), ApiError> {
        let text = serde_json::to_string(reply).expect("a reply serialises");
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        self.conn
            .lock()
            .expect("cache lock")
            .prepare_cached(
                "INSERT OR REPLACE INTO responses (key, provider, model, created_at, reply)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    key,
                    endpoint.provider.name(),
                    endpoint.model,
                    now,
                    text
                ])
            })
            .map_err(|e| ApiError::Storage(format!("{}: {e}", self.path.display())))?;
        Ok(())
    }

    pub fn len(&self) -> Result<usize, ApiError> {
        self.conn
            .lock()
            .expect("cache lock")
            .query_row("SELECT COUNT(*) FROM responses", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as usize)
            .map_err(|e| ApiError::Storage(format!("{}: {e}", self.path.display())))
    }

    pub fn is_empty(&self) -> Result<bool, ApiError> {
        Ok(self.len()? == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Usage;
    use crate::config::Provider;
    use neglect_spec::chat::ChatCompletion;

    #[test]
    fn keys_cover_every_input_and_replies_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = Endpoint::new(Provider::OpenAi, "m");
        let body = serde_json::json!({"b": 1, "a": {"y": 2, "x": 3}});
        let reordered = serde_json::json!({"a": {"x": 3, "y": 2}, "b": 1});
        let k = key(&endpoint, &body, 0);
        assert_eq!(k, key(&endpoint, &reordered, 0));
        assert_ne!(k, key(&endpoint, &body, 1));
        assert_ne!(k, key(&Endpoint::new(Provider::OpenAi, "m2"), &body, 0));
        let other_url = Endpoint::new(Provider::OpenAi, "m").with_base_url("http://localhost:1/v1");
        assert_ne!(k, key(&other_url, &body, 0));
        assert_ne!(k, key(&endpoint, &serde_json::json!({"b": 2}), 0));

        let path = dir.path().join("api/responses.sqlite");
        let reply = Reply {
            completion: ChatCompletion {
                text: "yes".into(),
                finish_reason: "stop".into(),
            },
            usage: Usage {
                input_tokens: 5,
                output_tokens: 1,
            },
            prompt_logprobs: None,
            extra_choices: Vec::new(),
            token_logprobs: None,
        };
        {
            let cache = ResponseCache::open(&path).unwrap();
            assert!(cache.get(&k).unwrap().is_none());
            cache.put(&k, &endpoint, &reply).unwrap();
        }
        let cache = ResponseCache::open(&path).unwrap();
        assert_eq!(cache.get(&k).unwrap(), Some(reply));
        assert_eq!(cache.len().unwrap(), 1);
    }
}
