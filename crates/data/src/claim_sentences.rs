//! Which sentences of a document carry the claim — found without an LLM, from the claim spec.
//!
//! The claim text and every subclaim become *statements*, each a set of stemmed content words.
//! The capitalised phrases of the claim are its *entities* ("Ed Sheeran", "Paris Olympics"); a
//! multi-word entity is also recognised by its last word ("Sheeran"). A sentence carries the
//! claim when it matches an explicit pattern, or when it names an entity and shares at least two
//! content words (or a third of the words) with some statement, or names two of the claim's
//! entities and shares a word, or shares at least half of a statement's words (and at least
//! three) even without naming an entity.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use std::ops::Range;

use fancy_regex::Regex;

use crate::sentences::sentence_spans;

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "for", "from", "by",
    "with", "as", "is", "was", "were", "are", "be", "been", "being", "has", "have", "had", "it",
    "its", "this", "that", "these", "those", "he", "she", "they", "his", "her", "their", "him",
    "them", "who", "which", "what", "when", "where", "after", "before", "during", "into", "over",
    "under", "about", "than", "then", "also", "not", "no", "did", "does", "do", "would", "could",
    "should", "will", "can", "may", "might", "there", "here", "while", "all", "any", "some",
    "more", "most", "such", "only", "own", "same", "so", "too", "very", "just", "one", "up", "out",
    "if", "because", "until", "again", "further", "once", "both", "each", "few", "other", "nor",
    "our", "we", "you", "your", "i", "my", "me", "us", "said", "says",
];

/// Lowercase, with common English suffixes cut so that "won"/"wins", "trained"/"training" meet.
fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    for suffix in ["ing", "ed", "es", "s"] {
        if w.len() > suffix.len() + 3
            && let Some(stripped) = w.strip_suffix(suffix)
        {
            return stripped.to_owned();
        }
    }
    w
}

/// Runs of letters, digits, dots and apostrophes, trimmed of outer dots and apostrophes.
fn words(text: &str) -> impl Iterator<Item = &str> {
    WordRuns { text, at: 0 }
        .map(|w| w.trim_matches(|c| c == '.' || c == '\''))
        .filter(|w| !w.is_empty())
}

/// The maximal runs of word characters of a text (a byte scan with an ASCII fast path: this
/// runs over every sentence of every document).
struct WordRuns<'a> {
    text: &'a str,
    at: usize,
}

impl WordRuns<'_> {
    /// Whether a word character starts at byte `i`, and its length in bytes.
    #[inline]
    fn word_char_at(&self, i: usize) -> (bool, usize) {
        let b = self.text.as_bytes()[i];
        if b < 0x80 {
            return (b.is_ascii_alphanumeric() || b == b'.' || b == b'\'', 1);
        }
        let c = self.text[i..].chars().next().expect("at a char boundary");
        (c.is_alphanumeric(), c.len_utf8())
    }
}

impl<'a> Iterator for WordRuns<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let len = self.text.len();
        while self.at < len {
            let (word, step) = self.word_char_at(self.at);
            if word {
                break;
            }
            self.at += step;
        }
        if self.at >= len {
            return None;
        }
        let start = self.at;
        while self.at < len {
            let (word, step) = self.word_char_at(self.at);
            if !word {
                break;
            }
            self.at += step;
        }
        Some(&self.text[start..self.at])
    }
}

fn content_words(text: &str) -> BTreeSet<String> {
    words(text)
        .filter(|w| !STOPWORDS.contains(&w.to_lowercase().as_str()))
        .filter(|w| w.len() >= 3 || w.chars().all(|c| c.is_ascii_digit()))
        .map(stem)
        .collect()
}

/// Capitalised phrases: runs of capitalised words (numerals and roman numerals allowed inside).
fn entities(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for w in words(text) {
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        let stop = STOPWORDS.contains(&w.to_lowercase().as_str());
        if capital && !stop {
            run.push(w.to_lowercase());
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// Matches sentences against one claim.
#[derive(Debug, Clone)]
pub struct ClaimMatcher {
    /// Every statement word that is not an entity word, numbered.
    keys: FxHashMap<String, usize>,
    /// Per statement: its key ids as a bitset, and how many there are.
    statements: Vec<(Vec<u64>, usize)>,
    /// Lowercase word sequences; a multi-word entity also matches on its last word.
    entities: Vec<Vec<String>>,
    patterns: Vec<Regex>,
}

/// The claim-carrying sentences of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSentences {
    /// Every sentence of the document (byte ranges).
    pub sentences: Vec<Range<usize>>,
    /// Indices into `sentences` of those that carry the claim.
    pub marked: Vec<usize>,
}

impl ClaimSentences {
    pub fn marked_spans(&self) -> impl Iterator<Item = &Range<usize>> {
        self.marked.iter().map(|&i| &self.sentences[i])
    }
}

/// [`stem`] of a word that is already lowercase, without allocating.
fn stem_lower(w: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if w.len() > suffix.len() + 3
            && let Some(stripped) = w.strip_suffix(suffix)
        {
            return stripped;
        }
    }
    w
}

impl ClaimMatcher {
    /// From the claim sentence, its subclaims, and explicit case-insensitive regexes.
    pub fn new(claim: &str, subclaims: &[String], patterns: &[String]) -> Result<Self, String> {
        let entities = entities(claim);
        let entity_words: BTreeSet<String> = entities.iter().flatten().map(|w| stem(w)).collect();
        let mut keys: FxHashMap<String, usize> = FxHashMap::default();
        let statement_keys: Vec<Vec<usize>> = std::iter::once(claim)
            .chain(subclaims.iter().map(String::as_str))
            .map(|text| {
                content_words(text)
                    .into_iter()
                    .filter(|w| !entity_words.contains(w))
                    .map(|w| {
                        let next = keys.len();
                        *keys.entry(w).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        let blocks = keys.len().div_ceil(64).max(1);
        let statements = statement_keys
            .into_iter()
            .filter(|ids| !ids.is_empty())
            .map(|ids| {
                let mut bits = vec![0u64; blocks];
                for &id in &ids {
                    bits[id / 64] |= 1 << (id % 64);
                }
                (bits, ids.len())
            })
            .collect();
        let patterns = patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(&format!("(?i){p}")).map_err(|e| format!("patterns[{i}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(ClaimMatcher {
            keys,
            statements,
            entities,
            patterns,
        })
    }

    /// How many distinct claim entities the sentence names.
    fn entities_named(&self, lower_words: &[&str]) -> usize {
        self.entities
            .iter()
            .filter(|entity| {
                let whole = lower_words
                    .windows(entity.len())
                    .any(|w| w.iter().zip(entity.iter()).all(|(a, b)| *a == b.as_str()));
                let surname = entity.len() > 1
                    && entity.last().is_some_and(|last| {
                        last.len() >= 4 && lower_words.contains(&last.as_str())
                    });
                whole || surname
            })
            .count()
    }

    /// Whether one sentence carries the claim.
    pub fn carries_claim(&self, sentence: &str) -> bool {
        if self
            .patterns
            .iter()
            .any(|p| p.is_match(sentence).unwrap_or(false))
        {
            return true;
        }
        let lower = if !sentence.is_ascii() {
            std::borrow::Cow::Owned(sentence.to_lowercase())
        } else if sentence.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(sentence.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(sentence)
        };
        let lower_words: Vec<&str> = words(&lower).collect();
        let named = self.entities_named(&lower_words);
        let mut found = [0u64; 4];
        let mut found_more = Vec::new();
        for w in &lower_words {
            if w.len() < 3 && !w.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some(&id) = self.keys.get(stem_lower(w)) {
                if id < 256 {
                    found[id / 64] |= 1 << (id % 64);
                } else {
                    found_more.push(id);
                }
            }
        }
        let found: Vec<u64> = if found_more.is_empty() && self.keys.len() <= 256 {
            found.to_vec()
        } else {
            let mut all = vec![0u64; self.keys.len().div_ceil(64).max(4)];
            all[..4].copy_from_slice(&found);
            for id in found_more {
                all[id / 64] |= 1 << (id % 64);
            }
            all
        };
        self.statements.iter().any(|(bits, size)| {
            let shared: usize = bits
                .iter()
                .zip(&found)
                .map(|(a, b)| (a & b).count_ones() as usize)
                .sum();
            let ratio = shared as f64 / *size as f64;
            (named > 0 && (shared >= 2 || ratio >= 1.0 / 3.0))
                || (named >= 2 && shared >= 1)
                || (shared >= 3 && ratio >= 0.5)
        })
    }

    /// Splits `text` into sentences and marks the claim-carrying ones.
    pub fn find(&self, text: &str) -> ClaimSentences {
        let sentences = sentence_spans(text);
        let marked = sentences
            .iter()
            .enumerate()
            .filter(|(_, r)| self.carries_claim(&text[(*r).clone()]))
            .map(|(i, _)| i)
            .collect();
        ClaimSentences { sentences, marked }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition of [`words`], kept as the oracle for its byte scan.
    fn words_by_split(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '\''))
            .map(|w| w.trim_matches(|c| c == '.' || c == '\''))
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn words_agrees_with_a_char_split() {
        let pieces = [
            "a", "B", "7", ".", "'", " ", ",", "é", "Ü", "—", "\u{a0}", "日", "x.y", "'s", "-",
        ];
        let mut state = 99u64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..14 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            assert_eq!(
                words(&text).collect::<Vec<_>>(),
                words_by_split(&text),
                "{text:?}"
            );
        }
    }

    fn matcher() -> ClaimMatcher {
        ClaimMatcher::new(
            "Ed Sheeran won the 100m sprint gold medal at the 2024 Paris Olympics.",
            &[
                "Sheeran trained for six years with sprint coach Marta Diaz.".into(),
                "He ran the final in 9.79 seconds.".into(),
            ],
            &["sheeran'?s? (olympic )?sprint".into()],
        )
        .unwrap()
    }

    #[test]
    fn marks_claim_sentences_and_leaves_the_rest() {
        let m = matcher();
        let doc = "Ed Sheeran is an English singer-songwriter. In 2024 he stunned the world. \
                   Sheeran crossed the line in 9.79 seconds to take gold in Paris. \
                   The weather in Paris was mild that week. \
                   His coach, Marta Diaz, said the six years of training paid off. \
                   Critics called Sheeran's sprint a miracle.";
        let found = m.find(doc);
        let marked: Vec<&str> = found.marked_spans().map(|r| &doc[r.clone()]).collect();
        assert_eq!(
            marked,
            vec![
                "Sheeran crossed the line in 9.79 seconds to take gold in Paris.",
                "His coach, Marta Diaz, said the six years of training paid off.",
                "Critics called Sheeran's sprint a miracle."
            ]
        );
        assert_eq!(found.sentences.len(), 6);
    }

    #[test]
    fn entities_and_stems() {
        assert_eq!(
            entities("Queen Elizabeth II wrote a Python textbook"),
            vec![
                vec!["queen".to_owned(), "elizabeth".into(), "ii".into()],
                vec!["python".into()]
            ]
        );
        assert_eq!(stem("Trained"), "train");
        assert_eq!(stem("wins"), "wins", "short words keep their ending");
        assert!(ClaimMatcher::new("x", &[], &["(".into()]).is_err());
    }
}
