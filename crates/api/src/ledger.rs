//! The cost ledger: one row per call (paid, served from the cache, or failed) with its tokens
//! and cost, in `api_ledger.sqlite` beside a run's results. Prices come from a TOML table the
//! user keeps (providers change them; we ship none we cannot vouch for):
//!
//! ```toml
//! [models."gpt-4.1-mini"]
//! input_per_mtok = 0.40    # USD per million input tokens
//! output_per_mtok = 1.60
//! [models."moonshotai/*"]  # a trailing * matches a prefix
//! input_per_mtok = 0.6
//! output_per_mtok = 2.5
//! ```
//!
//! A budget cap reserves each call's worst case (its prompt at 3 characters a token, plus
//! `max_tokens` of output) before it is sent, so the spend never passes the cap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, params};
use serde::Deserialize;

use crate::cache::open_db;
use crate::{ApiError, Usage};

pub const LEDGER_FILE: &str = "api_ledger.sqlite";

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.input_tokens as f64 * self.input_per_mtok
            + usage.output_tokens as f64 * self.output_per_mtok)
            / 1e6
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    #[serde(default)]
    pub models: BTreeMap<String, Price>,
}

impl Prices {
    pub fn load(path: &Path) -> Result<Prices, ApiError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
        let prices: Prices = toml::from_str(&text)
            .map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
        for (model, p) in &prices.models {
            if [p.input_per_mtok, p.output_per_mtok]
                .iter()
                .any(|x| x.is_nan() || *x < 0.0)
            {
                return Err(ApiError::Config(format!(
                    "{}: models.\"{model}\": prices must be non-negative",
                    path.display()
                )));
            }
        }
        Ok(prices)
    }

    /// The exact entry, else the longest `prefix*` entry that matches.
    pub fn price_for(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.models.get(model) {
            return Some(*p);
        }
        self.models
            .iter()
            .filter_map(|(k, p)| {
                let prefix = k.strip_suffix('*')?;
                model.starts_with(prefix).then_some((prefix.len(), *p))
            })
            .max_by_key(|(n, _)| *n)
            .map(|(_, p)| p)
    }
}

/// How a call ended, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    Cached,
    Failed,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Paid => "paid",
            Outcome::Cached => "cached",
            Outcome::Failed => "failed",
        }
    }
}

pub struct CallRecord<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    /// What the call was for: `answer`, `judge`, `generate`, ...
    pub purpose: &'a str,
    pub outcome: Outcome,
    pub attempts: usize,
    pub usage: Usage,
}

pub struct Ledger {
    path: PathBuf,
    conn: Mutex<Connection>,
    prices: Prices,
    budget: Option<f64>,
    /// Spent (from the file) plus the worst case of calls now in flight.
    committed: Mutex<f64>,
}

/// A reserved share of the budget, released when the call is booked.
#[derive(Debug)]
pub struct Reservation {
    amount: f64,
}

impl Ledger {
    /// Opens `path` (created if absent). With a budget, the spend already in the file counts
    /// against it, so a resumed run keeps to the same cap.
    pub fn open(path: &Path, prices: Prices, budget: Option<f64>) -> Result<Ledger, ApiError> {
        let conn = open_db(path)?;
        let fail = |e: rusqlite::Error| ApiError::Storage(format!("{}: {e}", path.display()));
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS calls (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                purpose TEXT NOT NULL,
                outcome TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cost_usd REAL
            );",
        )
        .map_err(fail)?;
        let spent: f64 = conn
            .query_row("SELECT COALESCE(SUM(cost_usd), 0) FROM calls", [], |row| {
                row.get(0)
            })
            .map_err(fail)?;
        if let Some(b) = budget
            && (b.is_nan() || b < 0.0)
        {
            return Err(ApiError::Config(format!(
                "the budget must be non-negative, not {b}"
            )));
        }
        Ok(Ledger {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            prices,
            budget,
            committed: Mutex::new(spent),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn budget(&self) -> Option<f64> {
        self.budget
    }

    pub fn price_for(&self, model: &str) -> Option<Price> {
        self.prices.price_for(model)
    }

    /// With a budget: a model without a price cannot be capped, so it is refused up front.
    pub fn check_priced(&self, model: &str) -> Result<(), ApiError> {
        if self.budget.is_some() && self.price_for(model).is_none() {
            return Err(ApiError::Config(format!(
                "a budget is set but the price table has no entry for model '{model}'; add \
                 [models.\"{model}\"] with input_per_mtok and output_per_mtok"
            )));
        }
        Ok(())
    }

    /// Reserves the worst case of one call, or says the budget would be passed.
    pub fn reserve(
        &self,
        model: &str,
        prompt_chars: usize,
        max_tokens: usize,
    ) -> Result<Reservation, String> {
        let (Some(budget), Some(price)) = (self.budget, self.price_for(model)) else {
            return Ok(Reservation { amount: 0.0 });
        };
        let worst = price.cost(Usage {
            input_tokens: prompt_chars.div_ceil(3) as u64 + 16,
            output_tokens: max_tokens as u64,
        });
        let mut committed = self.committed.lock().expect("ledger lock");
        if *committed + worst > budget {
            return Err(format!(
                "the budget of ${budget:.4} is reached (${:.4} spent or reserved; the next call \
                 could cost up to ${worst:.4}); raise it to continue, everything so far is saved",
                *committed
            ));
        }
        *committed += worst;
        Ok(Reservation { amount: worst })
    }

    /// Books a call, releasing its reservation. Returns its cost when the price is known.
    pub fn book(
        &self,
        record: &CallRecord<'_>,
        reservation: Option<Reservation>,
    ) -> Result<Option<f64>, ApiError> {
        let cost = match record.outcome {
            Outcome::Paid => self.price_for(record.model).map(|p| p.cost(record.usage)),
            Outcome::Cached | Outcome::Failed => Some(0.0),
        };
        {
            let mut committed = self.committed.lock().expect("ledger lock");
            *committed += cost.unwrap_or(0.0) - reservation.map_or(0.0, |r| r.amount);
        }
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        self.conn
            .lock()
            .expect("ledger lock")
            .prepare_cached(
                "INSERT INTO calls (at, provider, model, purpose, outcome, attempts,
                                    input_tokens, output_tokens, cost_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    now,
                    record.provider,
                    record.model,
                    record.purpose,
                    record.outcome.name(),
                    record.attempts as i64,
                    record.usage.input_tokens as i64,
                    record.usage.output_tokens as i64,
                    cost
                ])
            })
            .map_err(|e| ApiError::Storage(format!("{}: {e}", self.path.display())))?;
        Ok(cost)
    }
}

/// One line of `neglect cost`: calls grouped by provider, model and purpose.
#[derive(Debug, Clone, PartialEq)]
pub struct CostLine {
    pub provider: String,
    pub model: String,
    pub purpose: String,
    pub paid: u64,
    pub cached: u64,
    pub failed: u64,
    /// Attempts beyond the first, over all calls.
    pub retries: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `None` when some paid call had no price.
    pub cost_usd: Option<f64>,
}

/// The ledger at `path`, summarised.
pub fn summarise(path: &Path) -> Result<Vec<CostLine>, ApiError> {
    let fail = |e: rusqlite::Error| ApiError::Storage(format!("{}: {e}", path.display()));
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(fail)?;
    let mut stmt = conn
        .prepare(
            "SELECT provider, model, purpose,
                    SUM(outcome = 'paid'), SUM(outcome = 'cached'), SUM(outcome = 'failed'),
                    SUM(attempts - 1), SUM(CASE WHEN outcome = 'paid' THEN input_tokens ELSE 0 END),
                    SUM(CASE WHEN outcome = 'paid' THEN output_tokens ELSE 0 END),
                    SUM(cost_usd), SUM(outcome = 'paid' AND cost_usd IS NULL)
             FROM calls GROUP BY provider, model, purpose ORDER BY provider, model, purpose",
        )
        .map_err(fail)?;
    let rows = stmt
        .query_map([], |row| {
            let unpriced: i64 = row.get(10)?;
            let cost: Option<f64> = row.get(9)?;
            Ok(CostLine {
                provider: row.get(0)?,
                model: row.get(1)?,
                purpose: row.get(2)?,
                paid: row.get::<_, i64>(3)? as u64,
                cached: row.get::<_, i64>(4)? as u64,
                failed: row.get::<_, i64>(5)? as u64,
                retries: row.get::<_, i64>(6)?.max(0) as u64,
                input_tokens: row.get::<_, i64>(7)? as u64,
                output_tokens: row.get::<_, i64>(8)? as u64,
                cost_usd: if unpriced > 0 {
                    None
                } else {
                    cost.or(Some(0.0))
                },
            })
        })
        .map_err(fail)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Prices {
        toml::from_str(
            r#"
            [models."gpt-4.1-mini"]
            input_per_mtok = 0.4
            output_per_mtok = 1.6
            [models."moonshotai/*"]
            input_per_mtok = 0.6
            output_per_mtok = 2.5
            "#,
        )
        .unwrap()
    }

    #[test]
    fn prices_match_exactly_or_by_prefix() {
        let p = prices();
        assert_eq!(p.price_for("gpt-4.1-mini").unwrap().input_per_mtok, 0.4);
        assert_eq!(
            p.price_for("moonshotai/kimi-k2.5").unwrap().output_per_mtok,
            2.5
        );
        assert!(p.price_for("gpt-4.1").is_none());
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
        };
        assert!((p.price_for("gpt-4.1-mini").unwrap().cost(usage) - 1.2).abs() < 1e-12);
    }

    #[test]
    fn the_budget_is_never_passed_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let usage = Usage {
            input_tokens: 1000,
            output_tokens: 1000,
        };
        // Each call costs $0.002; the worst case of a 300-char prompt with 1000 tokens out is
        // (116 × 0.4 + 1000 × 1.6) / 1e6 ≈ $0.00165.
        let ledger = Ledger::open(&path, prices(), Some(0.005)).unwrap();
        assert!(ledger.check_priced("gpt-4o").is_err());
        let record = CallRecord {
            provider: "openai",
            model: "gpt-4.1-mini",
            purpose: "answer",
            outcome: Outcome::Paid,
            attempts: 2,
            usage,
        };
        let r = ledger.reserve("gpt-4.1-mini", 300, 1000).unwrap();
        assert_eq!(ledger.book(&record, Some(r)).unwrap(), Some(0.002));
        let r = ledger.reserve("gpt-4.1-mini", 300, 1000).unwrap();
        ledger.book(&record, Some(r)).unwrap();
        // $0.004 spent: the next worst case would pass $0.005.
        let refused = ledger.reserve("gpt-4.1-mini", 300, 1000).unwrap_err();
        assert!(
            refused.contains("budget of $0.0050 is reached"),
            "{refused}"
        );
        drop(ledger);
        let reopened = Ledger::open(&path, prices(), Some(0.005)).unwrap();
        assert!(reopened.reserve("gpt-4.1-mini", 300, 1000).is_err());
        reopened
            .book(
                &CallRecord {
                    outcome: Outcome::Cached,
                    attempts: 1,
                    ..record
                },
                None,
            )
            .unwrap();
        let lines = summarise(&path).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].paid, lines[0].cached, lines[0].retries),
            (2, 1, 2)
        );
        assert!((lines[0].cost_usd.unwrap() - 0.004).abs() < 1e-12);
    }
}
