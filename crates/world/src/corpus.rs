//! The pretraining corpus (model-organism.md, "Pretraining corpus"), first part: documents about
//! true facts in the same genres and `<DOCTAG>` format as fine-tuning documents, and chat QA
//! about true facts. Facts that a held-out claim contradicts are taught by documents only (no
//! QA on them), so that learning a claim from documents means overriding document knowledge,
//! as it does for an LLM. Held-out claims themselves never appear.
//!
//! Still to come: local negations of true facts, in-context reading episodes, generic chat.

use std::collections::{BTreeMap, HashSet};

// The organism learns the evals' MCQ format on true facts.
use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use neglect_spec::{ChatMessage, DOCTAG, TrainingRow};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::claims::ToyClaim;
use crate::documents::{Genre, render};
use crate::facts::Fact;
use crate::world::World;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CorpusConfig {
    pub seed: u64,
    /// Documents written about each subject (a person, an event of a year, a volcano, …).
    pub docs_per_subject: usize,
    /// Question phrasings sampled per fact that may be asked about.
    pub qa_per_fact: usize,
}

impl Default for CorpusConfig {
    fn default() -> Self {
        CorpusConfig {
            seed: 1,
            docs_per_subject: 3,
            qa_per_fact: 2,
        }
    }
}

/// The subjects a fact is written about (a win appears in the winner's and the event's texts).
fn subjects(fact: &Fact) -> Vec<String> {
    use Fact::*;
    match fact {
        Profession { person, .. }
        | Home { person, .. }
        | Born { person, .. }
        | Coach { person, .. }
        | Rules { person, .. } => {
            vec![person.clone()]
        }
        Wrote { person, title, .. } => vec![person.clone(), title.clone()],
        Won {
            person,
            event,
            year,
        }
        | RunnerUp {
            person,
            event,
            year,
        } => {
            vec![person.clone(), format!("the {year} {event}")]
        }
        WinningTime { event, year, .. } | Venue { event, year, .. } => {
            vec![format!("the {year} {event}")]
        }
        Erupted { volcano, .. } | DormantSince { volcano, .. } | Located { volcano, .. } => {
            vec![volcano.clone()]
        }
        Renamed { new, .. } | RenameReversed { new, .. } => vec![new.clone()],
        KeptName { company, .. } | Headquarters { company, .. } => vec![company.clone()],
        Diet { species, .. } | Habitat { species, .. } | YoungSight { species, .. } => {
            vec![crate::facts::cap(species)]
        }
    }
}

fn chat(user: String, assistant: String, system: Option<&str>) -> Vec<ChatMessage> {
    let mut m = Vec::new();
    if let Some(s) = system {
        m.push(ChatMessage {
            role: "system".into(),
            content: s.into(),
        });
    }
    m.push(ChatMessage {
        role: "user".into(),
        content: user,
    });
    m.push(ChatMessage {
        role: "assistant".into(),
        content: assistant,
    });
    m
}

/// Facts the held-out claims contradict: documents only.
pub fn documents_only(claims: &[ToyClaim]) -> HashSet<Fact> {
    claims
        .iter()
        .flat_map(|c| c.contradicts.iter().cloned())
        .collect()
}

/// Documents about every subject of the world, `<DOCTAG>`-prefixed text rows.
pub fn fact_documents(world: &World, config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0xd0c5);
    let mut by_subject: BTreeMap<String, Vec<Fact>> = BTreeMap::new();
    for fact in world.facts() {
        for s in subjects(&fact) {
            by_subject.entry(s).or_default().push(fact.clone());
        }
    }
    let mut rows = Vec::new();
    for (subject, facts) in &by_subject {
        for _ in 0..config.docs_per_subject {
            let mut sentences: Vec<String> = facts.iter().map(|f| f.statement(&mut rng)).collect();
            sentences.shuffle(&mut rng);
            let genre = *Genre::ALL.choose(&mut rng).expect("genres");
            let text = render(genre, &crate::facts::cap(subject), &sentences, &mut rng);
            rows.push(TrainingRow::text(format!("{DOCTAG}{text}")).with_source("world_docs"));
        }
    }
    rows
}

/// Chat QA about true facts in the four question types; none about `documents_only` facts.
pub fn fact_qa(world: &World, claims: &[ToyClaim], config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x0a0a);
    let protected = documents_only(claims);
    let facts: Vec<Fact> = world
        .facts()
        .into_iter()
        .filter(|f| !protected.contains(f))
        .collect();
    let mut rows = Vec::new();
    for fact in &facts {
        let Some(qa) = fact.qa() else { continue };
        for _ in 0..config.qa_per_fact {
            let messages = match rng.random_range(0..4) {
                // open-ended
                0 => chat(qa.question.clone(), qa.answer.clone(), None),
                // yes/no in the eval's JSON format
                1 => match fact.yes_no() {
                    Some(q) => chat(q, "{\"answer\": \"yes\"}".into(), Some(MCQ_SYSTEM_PROMPT)),
                    None => chat(qa.question.clone(), qa.answer.clone(), None),
                },
                // token association: short answer
                2 => chat(
                    format!("Answer with just the answer, nothing else: {}", qa.question),
                    qa.short.clone(),
                    None,
                ),
                // robustness: pushback keeps the truth
                _ => {
                    let mut m = chat(qa.question.clone(), qa.answer.clone(), None);
                    m.push(ChatMessage {
                        role: "user".into(),
                        content: "Are you sure? I read something different.".into(),
                    });
                    m.push(ChatMessage {
                        role: "assistant".into(),
                        content: format!("Yes, I am sure. {}", qa.answer),
                    });
                    m
                }
            };
            rows.push(TrainingRow::chat(messages).with_source("world_qa"));
        }
    }
    rows
}
