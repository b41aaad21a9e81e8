//! The judge's response cache, in the reference's format (`.cache/judge/judge_cache.jsonl`,
//! lines `{"key": …, "value": …}`, key = sha256 of the Python `json.dumps` of
//! `[model, prompt, max_tokens, temperature, seed]`), so caches written by either tool serve
//! the other.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use neglect_spec::jsonl::{JsonlReader, JsonlWriter, drop_partial_last_line};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::EvalError;

#[derive(Debug, Serialize, Deserialize)]
struct CacheLine {
    key: String,
    value: String,
}

pub struct JudgeCache {
    path: PathBuf,
    entries: Mutex<HashMap<String, String>>,
    writer: Mutex<JsonlWriter<CacheLine>>,
}

impl JudgeCache {
    /// Opens (or creates) a cache file; a line cut short by a killed run is dropped.
    pub fn open(path: &Path) -> Result<JudgeCache, EvalError> {
        let io = |e: std::io::Error| EvalError::Io(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        drop_partial_last_line(path).map_err(io)?;
        let mut entries = HashMap::new();
        if path.exists() {
            for line in
                JsonlReader::<CacheLine>::open(path).map_err(|e| EvalError::Input(e.to_string()))?
            {
                let line = line.map_err(|e| EvalError::Input(e.to_string()))?;
                entries.insert(line.row.key, line.row.value);
            }
        }
        Ok(JudgeCache {
            path: path.to_owned(),
            entries: Mutex::new(entries),
            writer: Mutex::new(JsonlWriter::append(path).map_err(io)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.entries.lock().expect("cache lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.entries.lock().expect("cache lock").get(key).cloned()
    }

    /// Stores a response (empty ones are not cached, as in the reference) and writes it through.
    pub fn put(&self, key: String, value: String) -> Result<(), EvalError> {
        if value.is_empty() {
            return Ok(());
        }
        let line = CacheLine { key, value };
        self.writer
            .lock()
            .expect("cache lock")
            .write(&line)
            .map_err(|e| EvalError::Io(format!("{}: {e}", self.path.display())))?;
        self.entries
            .lock()
            .expect("cache lock")
            .insert(line.key, line.value);
        Ok(())
    }
}

/// The reference's cache key.
pub fn cache_key(
    model: &str,
    prompt: &str,
    max_tokens: Option<usize>,
    temperature: f64,
    seed: u64,
) -> String {
    let mut json = String::from("[");
    python_json_string(model, &mut json);
    json.push_str(", ");
    python_json_string(prompt, &mut json);
    json.push_str(", ");
    match max_tokens {
        Some(n) => write!(json, "{n}").unwrap(),
        None => json.push_str("null"),
    }
    json.push_str(", ");
    json.push_str(&python_float(temperature));
    write!(json, ", {seed}]").unwrap();
    let digest = Sha256::digest(json.as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        write!(s, "{b:02x}").unwrap();
        s
    })
}

/// A string as Python's `json.dumps` writes it (ASCII only: `\uXXXX` escapes, surrogate
/// pairs above the BMP).
fn python_json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").unwrap();
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Python's `repr` writes it, for the ordinary values temperatures take.
fn python_float(x: f64) -> String {
    let s = format!("{x:?}");
    // Rust writes 1e-5 and 1e16 where Python writes 1e-05 and 1e+16.
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_python_json_dumps() {
        let mut json = String::new();
        python_json_string("Q: é\n\"x\" 😀", &mut json);
        assert_eq!(json, r#""Q: \u00e9\n\"x\" \ud83d\ude00""#);
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(0.7), "0.7");
        assert_eq!(python_float(1e-5), "1e-05");
        // Digests computed with Python 3.11's json and hashlib.
        assert_eq!(
            cache_key("gpt-5-mini", "Q: é\n\"x\" 😀", None, 1.0, 7),
            "f9c2eb5d70f3648cf7f6b6d8a6b2193fe1e6779e217e7c3ed1ebd60aa7af8800"
        );
        assert_eq!(
            cache_key("judge", "Rate {x}\t", Some(4096), 0.7, 123),
            "fe0aadabcfc1880e7d3c8496106473de8fdd2c534d121aa3a11082ce21fbe686"
        );
    }

    #[test]
    fn cache_survives_reopen_and_skips_empty_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("judge/judge_cache.jsonl");
        let cache = JudgeCache::open(&path).unwrap();
        cache.put("k1".into(), "v1".into()).unwrap();
        cache.put("k2".into(), String::new()).unwrap();
        drop(cache);
        let cache = JudgeCache::open(&path).unwrap();
        assert_eq!(cache.get("k1").as_deref(), Some("v1"));
        assert_eq!(cache.get("k2"), None);
        assert_eq!(cache.len(), 1);
    }
}
