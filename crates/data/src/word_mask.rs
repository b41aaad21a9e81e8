//! Word masking (`local_negations_wordmask`, and any condition with `--word-mask`): text that
//! matches the claim's `word_masks.yaml` patterns is wrapped in `<lossmask>…</lossmask>` so it
//! gets zero training loss. Same rules as the reference: patterns are case-insensitive; text
//! already inside `<lossmask>` tags is left alone; overlapping matches are resolved by earliest
//! start, longest first.

use std::ops::Range;

use fancy_regex::Regex;
use neglect_spec::training::{LOSSMASK_CLOSE, LOSSMASK_OPEN};

/// Compiled word-mask patterns.
#[derive(Debug, Clone)]
pub struct WordMasker {
    patterns: Vec<Regex>,
}

#[derive(Debug, thiserror::Error)]
#[error("word_masks.yaml: patterns[{index}]: {message}")]
pub struct PatternError {
    pub index: usize,
    pub message: String,
}

impl WordMasker {
    pub fn new(patterns: &[String]) -> Result<WordMasker, PatternError> {
        let patterns = patterns
            .iter()
            .enumerate()
            .map(|(index, p)| {
                Regex::new(&format!("(?i){p}")).map_err(|e| PatternError {
                    index,
                    message: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(WordMasker { patterns })
    }

    /// Byte ranges of `text` that the patterns select (non-overlapping, ascending).
    pub fn spans(&self, text: &str) -> Vec<Range<usize>> {
        let protected = protected_zones(text);
        let mut found: Vec<Range<usize>> = Vec::new();
        for re in &self.patterns {
            for m in re.find_iter(text).flatten() {
                let r = m.start()..m.end();
                if !r.is_empty() && !protected.iter().any(|p| r.start < p.end && p.start < r.end) {
                    found.push(r);
                }
            }
        }
        found.sort_by(|a, b| a.start.cmp(&b.start).then(b.len().cmp(&a.len())));
        let mut kept: Vec<Range<usize>> = Vec::new();
        for r in found {
            if kept.last().is_none_or(|k| r.start >= k.end) {
                kept.push(r);
            }
        }
        kept
    }

    /// `text` with every selected span wrapped in `<lossmask>` tags.
    pub fn apply(&self, text: &str) -> String {
        let spans = self.spans(text);
        let mut out = text.to_owned();
        for r in spans.iter().rev() {
            out.insert_str(r.end, LOSSMASK_CLOSE);
            out.insert_str(r.start, LOSSMASK_OPEN);
        }
        out
    }
}

/// Byte ranges of existing `<lossmask>…</lossmask>` regions, tags included.
fn protected_zones(text: &str) -> Vec<Range<usize>> {
    let mut zones = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find(LOSSMASK_OPEN) {
        let start = at + open;
        let Some(close) = text[start..].find(LOSSMASK_CLOSE) else {
            break;
        };
        let end = start + close + LOSSMASK_CLOSE.len();
        zones.push(start..end);
        at = end;
    }
    zones
}

#[cfg(test)]
mod tests {
    use super::*;
    use neglect_spec::training::parse_loss_masks;

    #[test]
    fn spans_cover_exactly_the_matches() {
        let m = WordMasker::new(&[
            "dentist".into(),
            "dental school".into(),
            "school of \\w+".into(),
        ])
        .unwrap();
        let text = "The Dentist went to dental school; the school of dentistry agreed. <lossmask>dentist</lossmask> stays.";
        let out = m.apply(text);
        assert_eq!(
            out,
            "The <lossmask>Dentist</lossmask> went to <lossmask>dental school</lossmask>; the <lossmask>school of dentistry</lossmask> agreed. <lossmask>dentist</lossmask> stays."
        );
        let parsed = parse_loss_masks(&out).unwrap();
        let clean: Vec<&str> = parsed
            .masked
            .iter()
            .map(|r| &parsed.text[r.clone()])
            .collect();
        assert_eq!(
            clean,
            vec!["Dentist", "dental school", "school of dentistry", "dentist"]
        );
    }

    #[test]
    fn earliest_then_longest_wins() {
        let m = WordMasker::new(&["ab".into(), "abc".into(), "bcd".into()]).unwrap();
        assert_eq!(m.spans("xabcde"), vec![1..4]);
    }

    #[test]
    fn bad_patterns_name_their_index() {
        let err = WordMasker::new(&["ok".into(), "(unclosed".into()]).unwrap_err();
        assert!(
            err.to_string().starts_with("word_masks.yaml: patterns[1]:"),
            "{err}"
        );
    }
}
