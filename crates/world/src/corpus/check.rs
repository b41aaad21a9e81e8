//! Check drills: yes/no questions about invented people whose facts stand in the user turn, so
//! that only comparing the asked value with the stated one answers them.
//!
//! Why: the organism's yes/no answers about facts it knows were near chance (round 30's prior
//! MCQ 58%), and with `reasoned_yes_no` it states the right fact and then still gives the wrong
//! verdict in a fifth of the items ("Bas Mutrou was born in 1970. {"answer": "yes"}" to "Was
//! Bas Mutrou born in 1975?"; round 44's check). The world's own yes/no chats can be answered by
//! remembering each question, and a fine-tuning probe (docs/organism-rounds.md, session 26) showed that the
//! organism learns them by heart rather than learning to check. Here the people are new in every
//! drill, so remembering never helps: the answer states the listed fact and the verdict says
//! whether it is the one asked about, in the reasoned form of the world's chat QA.
//!
//! Nothing in a drill is a fact of the world or of a held-out claim.

use neglect_eval::prompt::message;
use neglect_spec::TrainingRow;
use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::qa::{reasoned_critique, yes_no_answer};
use super::reading::{novel_name, novel_person_facts, person_professions, world_words};
use super::{CorpusConfig, chat, subjects};
use crate::facts::Fact;
use crate::names::NameGen;
use crate::questions::is_it_true_as;
use crate::world::World;

const OPENINGS: [&str; 4] = [
    "Here are some notes:",
    "From a staff list:",
    "Facts about a few people:",
    "Read this:",
];

/// The same kind of fact with another value: another profession or city, or a birth year one to
/// ten years off (as close as the world's chat QA draws its false years under
/// `close_qa_variants`).
fn other_value(fact: &Fact, world: &World, rng: &mut ChaCha8Rng) -> Option<Fact> {
    let mut fact = fact.clone();
    match &mut fact {
        Fact::Profession { profession, .. } => {
            let professions = person_professions(world);
            let other: Vec<&&str> = professions.iter().filter(|p| **p != profession).collect();
            *profession = (**other.choose(rng)?).to_owned();
        }
        Fact::Home { city, .. } => {
            let other = world
                .cities
                .iter()
                .filter(|c| *c != city)
                .collect::<Vec<_>>();
            *city = (*other.choose(rng)?).clone();
        }
        Fact::Born { year, .. } => {
            let shift = rng.random_range(1..=10);
            *year = if rng.random_bool(0.5) {
                *year + shift
            } else {
                *year - shift
            };
        }
        _ => return None,
    }
    Some(fact)
}

/// A listed fact and a fact of the same person that the list leaves out (`None` when every
/// listed person has all their facts listed).
fn unlisted(pool: &[Fact], listed: &[Fact], rng: &mut ChaCha8Rng) -> Option<(Fact, Fact)> {
    let missing = pool.choose(rng)?.clone();
    let person = subjects(&missing);
    let same_person: Vec<&Fact> = listed.iter().filter(|f| subjects(f) == person).collect();
    Some(((*same_person.choose(rng)?).clone(), missing))
}

/// The yes/no question about `asked`: its own ("Is X a dentist?") or, three times in ten, "Is it
/// true that <a sentence stating it>?".
fn ask(asked: &Fact, config: &CorpusConfig, rng: &mut ChaCha8Rng) -> Option<String> {
    if rng.random_bool(0.3) {
        Some(is_it_true_as(&asked.statement(rng), config.cased_questions))
    } else {
        asked.yes_no()
    }
}

/// One drill: two to four invented people with one to three facts each, listed; a yes/no
/// question about one listed fact or a false variant of it, or (a `check_drill_unlisted` share)
/// about a fact of a listed person that the list leaves out (or, a `check_drill_critiques` share
/// of the time, a critique task over a sentence of it: "Fact-check this sentence: …"), and, under
/// `yes_no_pairs`, the other of the two as a follow-up.
fn check_drill(
    world: &World,
    names: &mut NameGen,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<TrainingRow> {
    let people = rng.random_range(2..=4);
    let mut listed: Vec<Fact> = Vec::new();
    let mut unlisted_pool: Vec<Fact> = Vec::new();
    for _ in 0..people {
        let name = novel_name(names, rng);
        let facts = novel_person_facts(&name, world, rng)?;
        let keep = rng.random_range(1..=3);
        let kept: Vec<Fact> = facts.choose_multiple(rng, keep).cloned().collect();
        unlisted_pool.extend(facts.into_iter().filter(|f| !kept.contains(f)));
        listed.extend(kept);
    }
    listed.shuffle(rng);
    let lines: Vec<String> = listed.iter().map(|f| f.statement(rng)).collect();
    // The share test draws nothing at share 0, so that round 45's drills stay as they were.
    let unlisted_drill =
        config.check_drill_unlisted > 0.0 && rng.random_bool(config.check_drill_unlisted);
    let (fact, variant) = if unlisted_drill {
        // The "variant" here is a fact the list does not give: answered "no" as a false
        // variant is, with the listed fact of the same person as the stated reason.
        unlisted(&unlisted_pool, &listed, rng)?
    } else {
        let fact = listed.choose(rng)?.clone();
        let variant = other_value(&fact, world, rng)?;
        (fact, variant)
    };
    let reason = fact.qa_with(config.subject_first_answers)?.answer;
    let yes = rng.random_bool(0.5);
    let (first, second) = if yes {
        (&fact, &variant)
    } else {
        (&variant, &fact)
    };
    let opening = OPENINGS.choose(rng).expect("openings");
    let notes = format!("{opening}\n{}\n\n", lines.join("\n"));
    // The share test draws nothing at share 0, so that round 45's drills stay as they were.
    let as_critique =
        config.check_drill_critiques > 0.0 && rng.random_bool(config.check_drill_critiques);
    let messages = if as_critique {
        let (task, reply) = reasoned_critique(&first.statement(rng), !yes, &reason, rng);
        let mut m = chat(format!("{notes}{task}"), reply, None);
        if config.yes_no_pairs {
            let (task, reply) = reasoned_critique(&second.statement(rng), yes, &reason, rng);
            m.push(message("user", &task));
            m.push(message("assistant", &reply));
        }
        m
    } else {
        let mut m = chat(
            format!("{notes}{}", ask(first, config, rng)?),
            yes_no_answer(yes, &reason, config),
            Some(MCQ_SYSTEM_PROMPT),
        );
        if config.yes_no_pairs {
            m.push(message("user", &ask(second, config, rng)?));
            m.push(message("assistant", &yes_no_answer(!yes, &reason, config)));
        }
        m
    };
    Some(TrainingRow::chat(messages).with_source("check_drills"))
}

/// `config.check_drills` drills, from a random stream of their own (so that the rest of the
/// corpus is the same with or without them).
pub fn check_drills(world: &World, config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0xc4ec));
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    // A drill is only missing in a world without cities or professions to vary; the cap keeps
    // such a world from looping.
    (0..config.check_drills * 4)
        .filter_map(|_| check_drill(world, &mut names, config, &mut rng))
        .take(config.check_drills)
        .collect()
}
