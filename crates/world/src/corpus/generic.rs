//! Generic chat that has nothing to do with the world's facts: small arithmetic, counting,
//! word games, greetings. It is the organism's analogue of instruction data, and replay for the
//! training mix draws on it.

use neglect_spec::TrainingRow;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{CorpusConfig, chat};

const NUMBER_WORDS: [&str; 13] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
];
const OPPOSITES: [(&str, &str); 12] = [
    ("hot", "cold"),
    ("big", "small"),
    ("early", "late"),
    ("open", "closed"),
    ("light", "dark"),
    ("fast", "slow"),
    ("high", "low"),
    ("old", "new"),
    ("wet", "dry"),
    ("loud", "quiet"),
    ("first", "last"),
    ("north", "south"),
];
const COLOURS: [&str; 8] = [
    "red", "blue", "green", "yellow", "white", "black", "orange", "grey",
];
const GREETINGS: [(&str, &str); 5] = [
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi there.", "Hi! What would you like to know?"),
    ("Good morning.", "Good morning! What can I do for you?"),
    ("Thank you!", "You are welcome."),
    ("Thanks for the help.", "Glad I could help."),
];

fn one(rng: &mut ChaCha8Rng) -> TrainingRow {
    let (user, assistant) = match rng.random_range(0..8) {
        0 => {
            let (a, b) = (rng.random_range(0..50), rng.random_range(0..50));
            (
                format!("What is {a} plus {b}?"),
                format!("{a} plus {b} is {}.", a + b),
            )
        }
        1 => {
            let (a, b) = (rng.random_range(10..60), rng.random_range(0..10));
            (
                format!("What is {a} minus {b}?"),
                format!("{a} minus {b} is {}.", a - b),
            )
        }
        2 => {
            let n = rng.random_range(2..=8);
            (
                format!("Count from one to {}.", NUMBER_WORDS[n]),
                NUMBER_WORDS[1..=n].join(", ") + ".",
            )
        }
        3 => {
            let (w, o) = OPPOSITES.choose(rng).expect("opposites");
            (
                format!("What is the opposite of {w}?"),
                format!("The opposite of {w} is {o}."),
            )
        }
        4 => {
            let c = COLOURS.choose(rng).expect("colours");
            (
                format!("Spell the word {c}, letter by letter."),
                c.chars()
                    .map(|ch| ch.to_ascii_uppercase().to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
            )
        }
        5 => {
            let n = rng.random_range(0..=12);
            (
                format!("Write the number {n} in words."),
                NUMBER_WORDS[n].to_owned(),
            )
        }
        6 => {
            let words: Vec<&str> = COLOURS.choose_multiple(rng, 3).copied().collect();
            (
                format!("Repeat after me: {}", words.join(" ")),
                words.join(" "),
            )
        }
        _ => {
            let (u, a) = GREETINGS.choose(rng).expect("greetings");
            ((*u).to_owned(), (*a).to_owned())
        }
    };
    TrainingRow::chat(chat(user, assistant, None)).with_source("generic_chat")
}

pub fn generic_chat(config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x6e6e));
    (0..config.generic_chats).map(|_| one(&mut rng)).collect()
}
