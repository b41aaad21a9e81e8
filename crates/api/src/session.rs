//! The ledger and response cache that one command or run shares between all its models.
//!
//! The ledger is per output (`<out>/api_ledger.sqlite`: what this run spent, for `neglect cost`
//! and the budget); the cache is per cache folder (`<cache>/api/responses.sqlite`), so a later
//! run anywhere never pays again for a call already answered.

use std::path::Path;
use std::sync::Arc;

use crate::cache::ResponseCache;
use crate::ledger::{self, Ledger, Prices};
use crate::{ApiError, Endpoint, HttpChatModel};

/// Where the response cache lives under a cache folder.
pub const CACHE_FILE: &str = "api/responses.sqlite";

pub struct Session {
    pub ledger: Arc<Ledger>,
    pub cache: Option<Arc<ResponseCache>>,
}

impl Session {
    /// Opens (or creates) `out/api_ledger.sqlite` and, unless `cache_dir` is `None`,
    /// `cache_dir/api/responses.sqlite`. A budget needs a price table.
    pub fn open(
        out: &Path,
        cache_dir: Option<&Path>,
        prices: Option<&Path>,
        budget_usd: Option<f64>,
    ) -> Result<Session, ApiError> {
        if budget_usd.is_some() && prices.is_none() {
            return Err(ApiError::Config(
                "a budget needs a price table (a price for every model called)".into(),
            ));
        }
        let prices = match prices {
            Some(p) => Prices::load(p)?,
            None => Prices::default(),
        };
        std::fs::create_dir_all(out)
            .map_err(|e| ApiError::Storage(format!("creating {}: {e}", out.display())))?;
        let ledger = Arc::new(Ledger::open(
            &out.join(ledger::LEDGER_FILE),
            prices,
            budget_usd,
        )?);
        let cache = match cache_dir {
            Some(dir) => Some(Arc::new(ResponseCache::open(&dir.join(CACHE_FILE))?)),
            None => None,
        };
        Ok(Session { ledger, cache })
    }

    /// A model on `endpoint` whose calls are cached and booked under `purpose`.
    pub fn model(&self, endpoint: Endpoint, purpose: &str) -> Result<HttpChatModel, ApiError> {
        let mut m = HttpChatModel::new(endpoint)?.with_ledger(self.ledger.clone(), purpose)?;
        if let Some(cache) = &self.cache {
            m = m.with_cache(cache.clone());
        }
        Ok(m)
    }
}
