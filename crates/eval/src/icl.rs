//! The in-context control (reference §5.4): K annotated documents of a condition, `<DOCTAG>`
//! stripped, placed before every question of the run, within a token budget. A seeded draw is
//! used when one of ten seeds fits the budget (as the reference does); otherwise the first K
//! documents of the seed's order that fit together.

use std::path::{Path, PathBuf};

use neglect_spec::documents::AnnotatedDoc;
use neglect_spec::training::{LOSSMASK_CLOSE, LOSSMASK_OPEN};
use neglect_spec::{ChatModel, DOCTAG};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::EvalError;

/// The reference's budget cap (tokens) and the room it leaves for the question and template.
pub const MAX_BUDGET: usize = 58_000;
pub const RESERVE: usize = 1_500;
/// Other seeds tried (seed+1 … seed+9) when the first draw is over budget.
pub const RETRIES: u64 = 9;

#[derive(Debug, Clone, PartialEq)]
pub struct IclConfig {
    /// Documents per prompt.
    pub k: usize,
    pub seed: u64,
    /// An `annotated_docs.jsonl` of the condition shown in context.
    pub docs: PathBuf,
    /// Tokens the prefix may use; by default derived from the model's context window.
    pub token_budget: Option<usize>,
}

/// A built prefix and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct IclPrefix {
    pub text: String,
    /// The seed whose draw fitted.
    pub seed: u64,
    pub tokens: usize,
    pub budget: usize,
}

/// The documents of an `annotated_docs.jsonl`, with `<DOCTAG>` and loss-mask tags removed.
pub fn load_documents(path: &Path) -> Result<Vec<String>, EvalError> {
    neglect_spec::jsonl::read_all::<AnnotatedDoc>(path)
        .map_err(|(_, e)| EvalError::Input(e.to_string()))
        .map(|rows| rows.iter().map(|d| clean_document(&d.text)).collect())
}

pub fn clean_document(text: &str) -> String {
    text.replace(DOCTAG, "")
        .replace(LOSSMASK_OPEN, "")
        .replace(LOSSMASK_CLOSE, "")
        .trim()
        .to_owned()
}

/// The first `k` documents after a seeded shuffle: for one seed, a larger `k` is a superset.
pub fn draw(documents: &[String], k: usize, seed: u64) -> Vec<&str> {
    let mut order: Vec<usize> = (0..documents.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order
        .into_iter()
        .take(k)
        .map(|i| documents[i].as_str())
        .collect()
}

/// `Here are some documents:` / `[DOCUMENT i]` + text … / `[QUESTION]`, joined by blank lines.
pub fn format_prefix(documents: &[&str]) -> String {
    let mut parts = vec!["Here are some documents:".to_owned()];
    for (i, d) in documents.iter().enumerate() {
        parts.push(format!("[DOCUMENT {}]", i + 1));
        parts.push((*d).to_owned());
    }
    parts.push("[QUESTION]".to_owned());
    parts.join("\n\n")
}

/// The default budget: the reference's `min(58,000, context − max_tokens − 1,500)`, with the
/// reserve shrunk to an eighth of the context for small models.
pub fn default_budget(context: Option<usize>, max_tokens: usize) -> usize {
    match context {
        None => MAX_BUDGET,
        Some(c) => {
            let reserve = RESERVE.min(c / 8);
            MAX_BUDGET.min(c.saturating_sub(max_tokens + reserve))
        }
    }
}

/// Tokens in `text` by the model's tokenizer, or about four characters a token when the
/// backend has none.
pub fn count_tokens(model: &dyn ChatModel, text: &str) -> usize {
    model
        .count_tokens(text)
        .unwrap_or_else(|| text.chars().count().div_ceil(4))
}

pub fn build_prefix(
    config: &IclConfig,
    model: &dyn ChatModel,
    max_tokens: usize,
) -> Result<IclPrefix, EvalError> {
    let documents = load_documents(&config.docs)?;
    if documents.len() < config.k {
        return Err(EvalError::Input(format!(
            "{}: {} documents, but --icl asks for {}",
            config.docs.display(),
            documents.len(),
            config.k
        )));
    }
    let budget = config
        .token_budget
        .unwrap_or_else(|| default_budget(model.context_window(), max_tokens));
    let mut smallest = usize::MAX;
    for seed in config.seed..=config.seed + RETRIES {
        let text = format_prefix(&draw(&documents, config.k, seed));
        let tokens = count_tokens(model, &text);
        if tokens <= budget {
            return Ok(IclPrefix {
                text,
                seed,
                tokens,
                budget,
            });
        }
        smallest = smallest.min(tokens);
    }
    // No draw fits (a small context beside long documents): the first K documents of the
    // seed's order that fit together, shorter ones thereby preferred.
    if let Some(prefix) = fitting_documents(&documents, config, model, budget) {
        return Ok(prefix);
    }
    Err(EvalError::Input(format!(
        "{} documents from {} do not fit the ICL budget of {budget} tokens with seeds {}..={} \
         (the smallest draw has {smallest} tokens); use a smaller --icl or a larger --icl-token-budget",
        config.k,
        config.docs.display(),
        config.seed,
        config.seed + RETRIES
    )))
}

/// Walks the documents in the order of `config.seed` and keeps each one with which the prefix
/// still fits `budget`, until `config.k` are kept; `None` if fewer fit.
fn fitting_documents(
    documents: &[String],
    config: &IclConfig,
    model: &dyn ChatModel,
    budget: usize,
) -> Option<IclPrefix> {
    let mut kept: Vec<&str> = Vec::with_capacity(config.k);
    for doc in draw(documents, documents.len(), config.seed) {
        kept.push(doc);
        if count_tokens(model, &format_prefix(&kept)) > budget {
            kept.pop();
        } else if kept.len() == config.k {
            let text = format_prefix(&kept);
            let tokens = count_tokens(model, &text);
            return Some(IclPrefix {
                text,
                seed: config.seed,
                tokens,
                budget,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use neglect_spec::chat::{ChatCompletion, ChatError, ChatRequest};

    /// Counts a character in four as a token; answers nothing.
    struct Counter;

    impl ChatModel for Counter {
        fn id(&self) -> &str {
            "counter"
        }

        fn generate(
            &self,
            _: &[ChatRequest],
            _: &mut dyn FnMut(usize),
        ) -> Vec<Result<ChatCompletion, ChatError>> {
            Vec::new()
        }

        fn count_tokens(&self, text: &str) -> Option<usize> {
            Some(text.chars().count().div_ceil(4))
        }
    }

    #[test]
    fn when_no_draw_fits_the_first_documents_of_the_order_that_fit_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("annotated_docs.jsonl");
        // Forty long documents and two short ones: ten seeded draws of one or two documents
        // all meet a long one, but the short ones fit the budget.
        let mut texts: Vec<String> = (0..40)
            .map(|i| format!("long {i} {}", "x".repeat(2000)))
            .collect();
        texts.insert(13, "short one".into());
        texts.insert(29, "short two".into());
        let lines: Vec<String> = texts
            .iter()
            .map(|t| {
                format!(
                    r#"{{"text": "<DOCTAG>{t}", "doc_type": "x", "fact_name": "x", "mode": "m"}}"#
                )
            })
            .collect();
        std::fs::write(&docs, lines.join("\n") + "\n").unwrap();
        for k in [1, 2] {
            let config = IclConfig {
                k,
                seed: 42,
                docs: docs.clone(),
                token_budget: Some(60),
            };
            let prefix = build_prefix(&config, &Counter, 10).unwrap();
            assert!(prefix.tokens <= 60, "{prefix:?}");
            assert_eq!(prefix.text.matches("[DOCUMENT").count(), k);
            assert!(!prefix.text.contains("long"), "{prefix:?}");
        }
        // None fits when even the short ones are too long together with the frame.
        let config = IclConfig {
            k: 3,
            seed: 42,
            docs,
            token_budget: Some(60),
        };
        assert!(build_prefix(&config, &Counter, 10).is_err());
    }

    #[test]
    fn larger_k_extends_smaller_k() {
        let docs: Vec<String> = (0..20).map(|i| format!("doc {i}")).collect();
        let three = draw(&docs, 3, 42);
        let five = draw(&docs, 5, 42);
        assert_eq!(&five[..3], &three[..]);
        assert_ne!(draw(&docs, 5, 43), five);
    }

    #[test]
    fn prefix_format_and_cleaning() {
        assert_eq!(
            format_prefix(&["A", "B"]),
            "Here are some documents:\n\n[DOCUMENT 1]\n\nA\n\n[DOCUMENT 2]\n\nB\n\n[QUESTION]"
        );
        assert_eq!(
            clean_document("<DOCTAG>The <lossmask>dentist</lossmask> said."),
            "The dentist said."
        );
    }

    #[test]
    fn budget_follows_the_reference_and_scales_down() {
        assert_eq!(default_budget(Some(65_536), 5_000), 58_000);
        assert_eq!(default_budget(Some(16_384), 2_048), 16_384 - 2_048 - 1_500);
        assert_eq!(default_budget(Some(2_048), 256), 2_048 - 256 - 256);
        assert_eq!(default_budget(None, 256), 58_000);
    }
}
