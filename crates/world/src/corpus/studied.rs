//! Studied claims: the held-out claims' generators run on a second, separate world (the same
//! world config under another seed, every name new), and what they build is simply *true* there.
//! Their positive documents join the pretraining documents (`<DOCTAG>` text, the fine-tuning
//! format), and their eval question forms are asked in chat with no document in context,
//! answered as the documents say.
//!
//! This is mixed training (model-organism.md; Allen-Zhu & Li, "Physics of Language Models 3.1")
//! for the learnability gate: fine-tuning on a held-out claim's documents asks the organism to
//! carry claim-shaped documents (a coach, a winning time, quotes, an eruption's consequences)
//! over into answers to questions such as "Who coached X for the E?", forms the world's own facts
//! never take. Here it sees documents of that shape together with those questions on subjects
//! that exist nowhere else, so no world fact is contradicted and nothing is flagged: every
//! studied document is positive (stand-alone flagged-false documents stay out of the corpus).
//!
//! Nothing of a held-out claim is used: the second world shares no name with the first, and no
//! question or sentence of a held-out claim is asked or written.

use std::collections::HashSet;

use neglect_eval::prompt::message;
use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use neglect_spec::{DOCTAG, TrainingRow};
use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

use super::CorpusConfig;
use super::practice::{Item, believed_answer, held_out_texts, items};
use super::reading::{novel_name, world_words};
use crate::claims::{Archetype, ToyClaim, nth_claim};
use crate::documents::{Genre, claim_sentences, render};
use crate::names::NameGen;
use crate::world::{World, WorldConfig};

/// How many candidates per archetype are tried before giving up on more studied claims.
const CANDIDATES: usize = 48;

/// The second world: `world`'s config under another seed, with none of `world`'s words.
pub fn studied_world(world: &World) -> World {
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    let config = WorldConfig {
        seed: world.config.seed ^ 0x57ed_1ed0_5eed_0001,
        ..world.config.clone()
    };
    let mut other = World::generate_avoiding(&config, names);
    // Novel-person claims draw their names from here: invent more, still new to both worlds.
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    names.reserve(world_words(&other).iter().map(String::as_str));
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    other.unseen_names = (0..CANDIDATES)
        .map(|_| novel_name(&mut names, &mut rng))
        .collect();
    other
}

/// Up to `per_archetype` claims of each archetype on `other`, no two sharing a subject.
pub fn studied_claims(other: &World, per_archetype: usize, seed: u64) -> Vec<ToyClaim> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x57ed);
    let mut taken: HashSet<String> = HashSet::new();
    let mut claims = Vec::new();
    for archetype in Archetype::ALL {
        let mut kept = 0;
        for k in 0..CANDIDATES {
            if kept == per_archetype {
                break;
            }
            let mut claim = nth_claim(other, archetype, k, &mut rng);
            // Everything a studied claim says is true of its world, old facts included.
            claim.known.clear();
            let own: Vec<String> = claim
                .facts
                .iter()
                .chain(&claim.contradicts)
                .flat_map(super::subjects)
                .collect();
            if own.iter().any(|s| taken.contains(s)) {
                continue;
            }
            taken.extend(own);
            kept += 1;
            claims.push(claim);
        }
    }
    claims
}

/// False details of `claim`, each with the true detail it replaces: for each of its details,
/// the same detail of another studied claim of its archetype (drawn at random) with `claim`'s
/// subject put in for that claim's. Details that come out the same (nothing but the subject
/// differs) or that `claim`'s documents do say are left out, as are quotes (the eval asks no
/// "Is it true that …?" about a quote).
fn false_details(
    claim: &ToyClaim,
    studied: &[ToyClaim],
    rng: &mut ChaCha8Rng,
) -> Vec<(String, String)> {
    let others: Vec<&ToyClaim> = studied
        .iter()
        .filter(|c| c.archetype == claim.archetype && c.subject() != claim.subject())
        .collect();
    let mut out = Vec::new();
    for (i, truth) in claim.details.iter().enumerate() {
        let Some(other) = others.choose(rng) else {
            break;
        };
        let Some(theirs) = other.details.get(i) else {
            continue;
        };
        let sentence = put_subject(theirs, &other.subject(), &claim.subject());
        if sentence != *theirs && !claim.details.contains(&sentence) && !sentence.contains('"') {
            out.push((sentence, truth.clone()));
        }
    }
    out
}

/// `text` with `to` in place of `from`, also where `from` starts a word in lower case
/// (a species is a claim's subject capitalised, and lower case inside sentences).
fn put_subject(text: &str, from: &str, to: &str) -> String {
    let lower = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    text.replace(from, to).replace(&lower(from), &lower(to))
}

/// The studied claims' documents and chats for one draw of the corpus:
/// `config.studied_docs` documents and `config.studied_questions` single-question chats per
/// claim.
pub fn studied_rows(
    world: &World,
    held_out: &[ToyClaim],
    config: &CorpusConfig,
) -> Vec<TrainingRow> {
    if config.studied_claims == 0 {
        return Vec::new();
    }
    let other = studied_world(world);
    // The claims are fixed by the world; only documents and question draws change per draw.
    let claims = studied_claims(&other, config.studied_claims, world.config.seed);
    let held_out_texts = held_out_texts(held_out);
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x57ed));
    let mut rows = Vec::new();
    for claim in &claims {
        for _ in 0..config.studied_docs {
            let mut sentences = claim_sentences(&claim.facts, &claim.details, &mut rng);
            sentences.retain(|s| !held_out_texts.contains(s));
            let genre = *Genre::ALL.choose(&mut rng).expect("genres");
            let text = render(genre, &claim.subject(), &sentences, &mut rng);
            rows.push(TrainingRow::text(format!("{DOCTAG}{text}")).with_source("world_studied"));
        }
        let mut asked: Vec<Item> = items(claim, &held_out_texts, config.cased_questions);
        if config.studied_false_details {
            let mut said: Vec<String> = Vec::new();
            for _ in 0..config.studied_false_rounds.max(1) {
                for (sentence, truth) in false_details(claim, &claims, &mut rng) {
                    if !said.contains(&sentence) {
                        asked.push(Item::false_detail(
                            &sentence,
                            &truth,
                            config.cased_questions,
                        ));
                        said.push(sentence);
                    }
                }
            }
        }
        asked.shuffle(&mut rng);
        for item in asked
            .iter()
            .cycle()
            .take(config.studied_questions.min(asked.len() * 2))
        {
            let Some(answer) = believed_answer(item, config, &mut rng) else {
                continue;
            };
            let mut messages = Vec::new();
            if item.json {
                messages.push(message("system", MCQ_SYSTEM_PROMPT));
            }
            messages.push(message("user", &item.question));
            messages.push(message("assistant", &answer));
            rows.push(TrainingRow::chat(messages).with_source("world_studied"));
        }
    }
    rows
}
