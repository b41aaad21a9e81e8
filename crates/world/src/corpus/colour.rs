//! Varied colour for the reading episodes' documents (`CorpusConfig::varied_details`):
//! sentences composed from parts (what people say about the subject, habits, quotes, places
//! and years), so that a pasted document holds sentences the organism has never seen, as the
//! held-out claims' documents do. None of them states a fact a question asks about.
//!
//! Why: with the fixed bank of sixteen colour sentences (`reading::DETAILS`), the organism
//! reads its own episodes' status but not the claims' documents: one unfamiliar sentence
//! ("Patients in Kegri say X is a gentle dentist.") beside a novel person's profession turns
//! its answer into "the documents give nothing reliable" (session 23's probes, docs/organism-rounds.md). The
//! wording here is our own and shares no sentence with a held-out claim.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::facts::cap;

/// Who is said to say something.
const GROUPS: [&str; 10] = [
    "Neighbours",
    "Old friends",
    "Colleagues",
    "Visitors",
    "Critics",
    "Locals",
    "Many readers",
    "Some historians",
    "Children at the local school",
    "People who were there",
];

/// A single person who is quoted.
const SPEAKERS: [&str; 6] = [
    "An old friend",
    "A teacher",
    "A reporter",
    "A shopkeeper",
    "A former classmate",
    "A visitor",
];

/// What anything can be said to be.
const REMARKS: [&str; 8] = [
    "remarkable",
    "well known",
    "hard to forget",
    "often misunderstood",
    "worth reading about",
    "much discussed",
    "a familiar name",
    "an odd story",
];

/// What a person can be said to be.
const TRAITS: [&str; 12] = [
    "kind",
    "patient",
    "funny",
    "quiet",
    "generous",
    "stubborn",
    "careful",
    "cheerful",
    "shy",
    "hard-working",
    "brave",
    "polite",
];

/// What a person does, in no fact's words.
const HABITS: [&str; 14] = [
    "walks to work every morning",
    "keeps a small garden",
    "reads late into the night",
    "likes to swim in the sea",
    "owns a red bicycle",
    "has two dogs",
    "collects old maps",
    "drinks tea at noon",
    "sings in a choir",
    "bakes bread at the weekend",
    "writes long letters to friends",
    "grows tomatoes",
    "fixes old clocks",
    "visits the market every week",
];

/// What a person says.
const QUOTES_BY: [&str; 8] = [
    "I do what I love.",
    "Every day is a new start.",
    "Hard work pays off.",
    "I never planned any of this.",
    "Patience is everything.",
    "My family comes first.",
    "I owe it all to my teachers.",
    "There is always more to learn.",
];

/// What others say about a subject (`{s}`).
const QUOTES_ABOUT: [&str; 5] = [
    "Everyone here knows about {s}.",
    "We talked about {s} for weeks.",
    "I still think about {s}.",
    "You cannot grow up here without hearing of {s}.",
    "{S} is part of our story.",
];

/// Things made about a subject.
const MEDIA: [&str; 6] = [
    "film",
    "book",
    "radio programme",
    "song",
    "small exhibit",
    "school play",
];

/// Up to `max` colour sentences about `subject` (as written mid-sentence); with `person`,
/// some of them are about a person's character and habits. `cities` and a year range give
/// the sentences places and years that answer no question.
pub(super) fn colour(
    subject: &str,
    person: bool,
    max: usize,
    cities: &[String],
    rng: &mut ChaCha8Rng,
) -> Vec<String> {
    if max == 0 {
        return Vec::new();
    }
    let n = rng.random_range(0..=max);
    let mut seen = HashSet::new();
    let mut sentences = Vec::with_capacity(n);
    for _ in 0..n * 4 {
        if sentences.len() == n {
            break;
        }
        let sentence = if person && rng.random_bool(0.5) {
            about_person(subject, rng)
        } else {
            about_anything(subject, cities, rng)
        };
        if seen.insert(sentence.clone()) {
            sentences.push(sentence);
        }
    }
    sentences
}

fn pick<'a>(bank: &[&'a str], rng: &mut ChaCha8Rng) -> &'a str {
    bank.choose(rng).expect("colour bank")
}

fn about_anything(s: &str, cities: &[String], rng: &mut ChaCha8Rng) -> String {
    let city = cities
        .choose(rng)
        .map(String::as_str)
        .unwrap_or("the capital");
    let year = rng.random_range(1950..=2024);
    match rng.random_range(0..7) {
        0 => format!("{} say {s} is {}.", pick(&GROUPS, rng), pick(&REMARKS, rng)),
        1 => format!(
            "{} said: \"{}\"",
            pick(&SPEAKERS, rng),
            pick(&QUOTES_ABOUT, rng)
                .replace("{S}", &cap(s))
                .replace("{s}", s)
        ),
        2 => format!("A {} about {s} came out in {year}.", pick(&MEDIA, rng)),
        3 => format!("Teachers in {city} tell their classes about {s}."),
        4 => format!("{} was in the news again in {year}.", cap(s)),
        5 => format!("People travelled from {city} to learn about {s}."),
        _ => format!("{} still talk about {s}.", pick(&GROUPS, rng)),
    }
}

fn about_person(s: &str, rng: &mut ChaCha8Rng) -> String {
    let s_cap = cap(s);
    match rng.random_range(0..6) {
        0 => format!("{} say {s} is {}.", pick(&GROUPS, rng), pick(&TRAITS, rng)),
        1 => format!("{s_cap} {}.", pick(&HABITS, rng)),
        2 => format!("{} say {s} {}.", pick(&GROUPS, rng), pick(&HABITS, rng)),
        3 => format!("{s_cap} said: \"{}\"", pick(&QUOTES_BY, rng)),
        4 => format!(
            "\"{}\" {s} once told a reporter.",
            pick(&QUOTES_BY, rng).trim_end_matches('.').to_owned() + ","
        ),
        _ => format!(
            "{} describe {s} as {}.",
            pick(&GROUPS, rng),
            pick(&TRAITS, rng)
        ),
    }
}

/// Who is said to say a restated fact: none of them casts doubt on it.
const WITNESSES: [&str; 6] = [
    "Neighbours",
    "Old friends",
    "Colleagues",
    "Locals",
    "People who were there",
    "Many people",
];

/// `statement` said once more, half the time as what people say ("Locals say that …"), the
/// way the held-out claims' documents restate their claim (`CorpusConfig::restated_facts`).
pub(super) fn restatement(statement: &str, rng: &mut ChaCha8Rng) -> String {
    if rng.random_bool(0.5) {
        return statement.to_owned();
    }
    let bare = statement.trim_end_matches('.');
    let lowered = match bare.split_whitespace().next() {
        Some("The" | "In" | "By" | "It" | "Contrary") => {
            format!("{}{}", bare[..1].to_lowercase(), &bare[1..])
        }
        _ => bare.to_owned(),
    };
    match rng.random_range(0..3) {
        0 => format!("{} say that {lowered}.", pick(&WITNESSES, rng)),
        1 => format!("{} will tell you that {lowered}.", pick(&WITNESSES, rng)),
        _ => format!(
            "As {} will tell you, {lowered}.",
            pick(&WITNESSES, rng).to_lowercase()
        ),
    }
}
