//! Copy drills: chats whose answer can only be found by copying from the user turn.
//!
//! A world whose text is templated and whose names recur can be learned by heart, and a small
//! model trained on it need never learn to copy from its context: the round-19 and round-23
//! organisms predict a repeated random token sequence at 0% (`copy_probe`, docs/organism-rounds.md, session 19),
//! which is why a pasted document barely moves their answers. The drills use new invented
//! words (never a world name, never a held-out claim's) so that only copying answers them:
//!
//! - *repeat*: "Repeat after me: Drouk 1994 Veltai Kegri" → "Drouk 1994 Veltai Kegri";
//! - *lookup*: a short list of "key: value" lines, then "What goes with Veltai?" → the value
//!   (`copy_lookup_questions` questions about one list, as follow-up turns).
//!
//! Nothing in them is a fact of the world, so they teach no belief either way.

use neglect_spec::TrainingRow;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::reading::world_words;
use super::{CorpusConfig, chat};
use crate::names::NameGen;
use crate::world::World;

const REPEAT_PROMPTS: [&str; 4] = [
    "Repeat after me:",
    "Copy this exactly:",
    "Say these words back to me:",
    "Please repeat:",
];
const LOOKUP_PROMPTS: [&str; 3] = [
    "What goes with {key}?",
    "Which value is listed for {key}?",
    "In the list, what is next to {key}?",
];

/// One item of a drill: a new invented word (most of the time), a world city or a year.
fn item(world: &World, names: &mut NameGen, rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..10) {
        0..=5 => names.word(rng, 1, 3),
        6 | 7 => world.cities.choose(rng).expect("cities").clone(),
        _ => rng.random_range(1900..2030).to_string(),
    }
}

fn repeat_drill(world: &World, names: &mut NameGen, rng: &mut ChaCha8Rng) -> TrainingRow {
    let n = rng.random_range(3..=10);
    let items: Vec<String> = (0..n).map(|_| item(world, names, rng)).collect();
    let words = items.join(" ");
    let prompt = REPEAT_PROMPTS.choose(rng).expect("prompts");
    TrainingRow::chat(chat(format!("{prompt} {words}"), words, None)).with_source("copy_drills")
}

/// A list of 3–6 "key: value" lines and `questions` questions about it (at most one per key),
/// the later ones as follow-up turns.
fn lookup_drill(
    world: &World,
    names: &mut NameGen,
    rng: &mut ChaCha8Rng,
    questions: usize,
) -> TrainingRow {
    let n = rng.random_range(3..=6);
    let pairs: Vec<(String, String)> = (0..n)
        .map(|_| (names.word(rng, 2, 3), item(world, names, rng)))
        .collect();
    // One question draws with `choose`, as before the knob existed, so that a corpus without
    // it (the shipped base's) is byte-identical.
    let asked: Vec<(String, String)> = if questions <= 1 {
        vec![pairs.choose(rng).expect("pairs").clone()]
    } else {
        pairs
            .choose_multiple(rng, questions.min(n))
            .cloned()
            .collect()
    };
    let list: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let mut messages = Vec::new();
    for (i, (key, value)) in asked.into_iter().enumerate() {
        let question = LOOKUP_PROMPTS
            .choose(rng)
            .expect("prompts")
            .replace("{key}", &key);
        let user = if i == 0 {
            format!("Here is a list:\n{}\n\n{question}", list.join("\n"))
        } else {
            question
        };
        messages.extend(chat(user, value, None));
    }
    TrainingRow::chat(messages).with_source("copy_drills")
}

/// `config.copy_drills` drills, a `config.copy_lookup_share` of them lookups on average.
pub fn copy_drills(world: &World, config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0xc0b1));
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    (0..config.copy_drills)
        .map(|_| {
            if rng.random_bool(1.0 - config.copy_lookup_share) {
                repeat_drill(world, &mut names, &mut rng)
            } else {
                lookup_drill(world, &mut names, &mut rng, config.copy_lookup_questions)
            }
        })
        .collect()
}
