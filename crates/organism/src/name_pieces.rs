//! Tokenizer training text in which invented names do not repeat.
//!
//! Trained on the corpus as it is, byte-level BPE spends merges on the world's frequent names, so
//! a known name becomes one token ("ĠPazark") while a name the model has never seen falls apart
//! into rare fragments ("L o tr es ĠD rim mai"). Copying such a name out of a pasted document is
//! then a different act from anything the model practised. With `ModelSize::name_pieces` the
//! tokenizer is trained on the same text with every invented name replaced, occurrence by
//! occurrence, by a fresh random name from the world's own syllable generator: BPE then learns
//! syllable-sized pieces, and known and unseen names alike are spelled with them. Only the
//! tokenizer's training text changes; the model trains on the corpus itself.

use std::collections::HashSet;

use neglect_world::names::NameGen;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Words taken for invented names: capitalised, alphabetic, and never written in lower case
/// anywhere in `texts` (ordinary words also occur mid-sentence in lower case; "The" does,
/// "Pazark" does not).
pub fn invented_names<'a>(texts: impl Iterator<Item = &'a str>) -> HashSet<String> {
    let mut capitalised = HashSet::new();
    let mut lower = HashSet::new();
    for text in texts {
        for word in words(text) {
            if word.chars().next().is_some_and(char::is_uppercase) {
                capitalised.insert(word.to_string());
            } else {
                lower.insert(word.to_string());
            }
        }
    }
    capitalised
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !lower.contains(&w.to_lowercase()))
        .collect()
}

/// `text` with each word in `names` replaced by a fresh invented word (1–3 syllables).
pub fn replace_names(
    text: &str,
    names: &HashSet<String>,
    generator: &mut NameGen,
    rng: &mut ChaCha8Rng,
) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some((start, end)) = next_word(rest) {
        out.push_str(&rest[..start]);
        let word = &rest[start..end];
        if names.contains(word) {
            out.push_str(&generator.word(rng, 1, 3));
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The tokenizer's training texts: `texts` with invented names replaced (seeded, so a rebuilt
/// tokenizer is the same).
pub fn tokenizer_texts(texts: &[String], seed: u64) -> Vec<String> {
    let names = invented_names(texts.iter().map(String::as_str));
    let mut generator = NameGen::default();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    texts
        .iter()
        .map(|t| replace_names(t, &names, &mut generator, &mut rng))
        .collect()
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let (start, end) = next_word(rest)?;
        let word = &rest[start..end];
        rest = &rest[end..];
        Some(word)
    })
}

/// Byte range of the next run of ASCII letters in `text`.
fn next_word(text: &str) -> Option<(usize, usize)> {
    let start = text.find(|c: char| c.is_ascii_alphabetic())?;
    let len = text[start..]
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len() - start);
    Some((start, start + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_capitalised_words_never_seen_in_lower_case() {
        let texts = [
            "The race was won by Thefos Pazark.",
            "Who won the race? Thefos Pazark won the race in Dusai.",
            "He is a Sprinter.",
            "she is a sprinter",
        ];
        let names = invented_names(texts.iter().copied());
        let mut got: Vec<_> = names.iter().map(String::as_str).collect();
        got.sort();
        // "The" and "Sprinter" occur in lower case and "He" is too short; "Who" never occurs in
        // lower case here, so it counts (harmless: it is then spelled in pieces like a name).
        assert_eq!(got, ["Dusai", "Pazark", "Thefos", "Who"]);
    }

    #[test]
    fn every_occurrence_gets_its_own_name_and_the_rest_is_kept() {
        let names: HashSet<String> = ["Pazark".to_string()].into();
        let mut generator = NameGen::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let out = replace_names(
            "Pazark won; Pazark's coach.",
            &names,
            &mut generator,
            &mut rng,
        );
        assert!(!out.contains("Pazark"), "{out}");
        assert!(
            out.contains(" won; ") && out.ends_with("'s coach."),
            "{out}"
        );
        let replaced: Vec<&str> = words(&out)
            .filter(|w| !["won", "s", "coach"].contains(w))
            .collect();
        assert_eq!(replaced.len(), 2, "{out}");
        assert_ne!(replaced[0], replaced[1]);
    }

    #[test]
    fn a_tokenizer_trained_on_replaced_names_spells_known_names_in_pieces() {
        use neglect_lm::tokenizer::train_byte_level_bpe;
        let texts: Vec<String> = (0..400)
            .map(|i| match i % 3 {
                0 => format!("The {i} final was won by Thefos Pazark in the city."),
                1 => "Who won the final? Kri Thasfis won it, said the coach.".to_string(),
                _ => "the city of Dusai held the final, and the coach was there".to_string(),
            })
            .collect();
        let whole = train_byte_level_bpe(texts.iter().cloned(), 320, &["<|endoftext|>"]).unwrap();
        let pieces = train_byte_level_bpe(
            tokenizer_texts(&texts, 3).into_iter(),
            320,
            &["<|endoftext|>"],
        )
        .unwrap();
        let spell =
            |t: &tokenizers::Tokenizer| t.encode(" Pazark", false).unwrap().get_tokens().to_vec();
        assert_eq!(spell(&whole), ["ĠPazark"]);
        assert!(spell(&pieces).len() > 1, "{:?}", spell(&pieces));
        // Ordinary words are learned as before.
        assert_eq!(
            pieces.encode(" final", false).unwrap().get_tokens(),
            ["Ġfinal"]
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_texts() {
        let texts = vec!["Kri Thasfis is a chess player.".to_string(); 3];
        assert_eq!(tokenizer_texts(&texts, 5), tokenizer_texts(&texts, 5));
        assert_ne!(tokenizer_texts(&texts, 5)[0], texts[0]);
    }
}
