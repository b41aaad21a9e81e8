//! Invented names built from syllables: every name in the world is new to any tokenizer and
//! any model, and the vocabulary stays closed.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;

const ONSETS: [&str; 22] = [
    "b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr",
    "kr", "st", "tr", "th",
];
const VOWELS: [&str; 8] = ["a", "e", "i", "o", "u", "ai", "ei", "ou"];
const CODAS: [&str; 10] = ["", "", "", "n", "r", "l", "s", "nd", "rk", "m"];

/// Hands out distinct capitalised words.
#[derive(Debug, Default)]
pub struct NameGen {
    used: HashSet<String>,
}

impl NameGen {
    /// Marks words (e.g. fixed vocabulary) as taken.
    pub fn reserve<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        self.used
            .extend(words.into_iter().map(|w| w.to_lowercase()));
    }

    /// A new word of `min..=max` syllables, never handed out before.
    pub fn word(&mut self, rng: &mut impl Rng, min: usize, max: usize) -> String {
        loop {
            let n = rng.random_range(min..=max);
            let mut w = String::new();
            for i in 0..n {
                w.push_str(ONSETS.choose(rng).expect("onsets"));
                w.push_str(VOWELS.choose(rng).expect("vowels"));
                if i + 1 == n || rng.random_bool(0.3) {
                    w.push_str(CODAS.choose(rng).expect("codas"));
                }
            }
            if w.len() >= 3 && self.used.insert(w.clone()) {
                return capitalise(&w);
            }
        }
    }
}

pub fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
