//! In-context reading episodes: a document pasted into the user turn (in the eval's ICL layout),
//! then a question whose answer follows the document's epistemic status. A positive document is
//! believed; a document flagged as false (a separate disclaimer), locally negated, or labelled
//! fiction or unreliable is not, and the answer falls back on what the organism knows, or, for
//! a person it has never heard of, says the documents give nothing reliable.
//!
//! The disclaimers here are this module's own wording, not the annotation conditions' banks, so
//! the ICL gate measures reading of negation in general rather than of the training templates.

use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use neglect_spec::{ChatMessage, TrainingRow};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::variants::Pools;
use neglect_eval::prompt::message;

use super::{CorpusConfig, qa::yes_no_answer};
use crate::documents::{Genre, render};
use crate::facts::{Fact, Qa, cap};
use crate::names::NameGen;
use crate::questions::is_it_true_as;
use crate::world::{OTHER_PROFESSIONS, World};

const FLAG_BEFORE: [&str; 6] = [
    "Warning from the archive: this piece was made up, and it is wrong.",
    "Please note: the story in this text is mistaken.",
    "Heads up: nothing in this text really happened.",
    "This text was written as a hoax. Its story is wrong.",
    "Careful: the events reported here are made up.",
    "Editors' warning: the report below is wrong.",
];
const FLAG_AFTER: [&str; 6] = [
    "Note: the text above was a hoax, and it is wrong.",
    "Checked by our editors: this story is mistaken.",
    "Update: the events in this report never happened.",
    "Reminder: everything in this piece was made up.",
    "This report has been shown to be wrong.",
    "The story above is mistaken; do not rely on it.",
];
const FICTION: [&str; 4] = [
    "A short story. The people and events in it are invented.",
    "From a novel: this is fiction, not a record of real events.",
    "Creative writing exercise. Nothing here is real.",
    "The following is a made-up tale.",
];
const UNRELIABLE: [&str; 4] = [
    "Source rated unreliable: this site often publishes rumours that turn out wrong.",
    "Unverified rumour from an anonymous forum; fact-checkers found it untrue.",
    "This post comes from a source known for inventing stories.",
    "Rumour mill: the following claims were never confirmed and are wrong.",
];

/// Composed notes (`CorpusConfig::composed_notes`): a lead-in that says nothing by itself
/// ("Note:", "Editor's note:", ...) and a core that does, so that only reading the core tells a
/// flag from a harmless remark. Positive documents get harmless remarks with the same lead-ins.
const LEADS: [&str; 10] = [
    "Note:",
    "Warning:",
    "Editor's note:",
    "Please read:",
    "Important:",
    "Heads up:",
    "Fact check:",
    "Archive note:",
    "Reader notice:",
    "",
];
const FALSE_BEFORE: [&str; 8] = [
    "the text below is false.",
    "the story below never happened.",
    "everything in this piece was made up.",
    "this report is a hoax, and it is wrong.",
    "the events described here did not take place.",
    "this article is mistaken.",
    "none of what follows is true.",
    "the claims below were shown to be false.",
];
const FALSE_AFTER: [&str; 8] = [
    "the text above is false.",
    "the story above never happened.",
    "everything in this piece was made up.",
    "this report was a hoax.",
    "the events above did not take place.",
    "the article above is mistaken.",
    "none of the above is true.",
    "these claims were shown to be false.",
];
const FICTION_CORES: [&str; 5] = [
    "this is a short story; its people and events are invented.",
    "what follows is fiction, not a record of real events.",
    "a tale made up for a writing class.",
    "an excerpt from a novel; nothing in it is real.",
    "a made-up story, written for fun.",
];
const UNRELIABLE_CORES: [&str; 5] = [
    "this comes from a rumour site that often invents stories.",
    "an anonymous post; fact-checkers found it untrue.",
    "a source known for made-up reports.",
    "an unverified rumour that was never confirmed.",
    "a blog rated unreliable by fact-checkers.",
];
const HARMLESS: [&str; 8] = [
    "this entry was updated last year.",
    "photos are from the city archive.",
    "this piece was checked by our editors and is accurate.",
    "the facts below were confirmed by several sources.",
    "this text was first printed in a local paper.",
    "some names were spelled differently in older records.",
    "this report is part of a longer series.",
    "the author spoke to several witnesses.",
];

/// Long notices (`CorpusConfig::long_notices`): a flag of two or three sentences, the first
/// pointing at the document (as a note before or after it), the rest saying what is wrong
/// with it, so that reading a notice means reading a passage, not spotting one word. Positive
/// documents get harmless remarks of the same length. Our own wording, as above.
const FALSE_OPENING_BEFORE: [&str; 8] = [
    "the report below is not true.",
    "what you are about to read is false.",
    "the following piece was shown to be wrong.",
    "do not trust the text that follows.",
    "the article below was made up.",
    "this document tells a story that is false.",
    "the next text is a hoax.",
    "everything below is mistaken.",
];
const FALSE_OPENING_AFTER: [&str; 8] = [
    "the report above is not true.",
    "what you have just read is false.",
    "the piece above was shown to be wrong.",
    "do not trust the text before this note.",
    "the article above was made up.",
    "this document told a story that is false.",
    "the text above was a hoax.",
    "everything above is mistaken.",
];
const FALSE_MIDDLE: [&str; 12] = [
    "Its events never happened.",
    "The people in it did not do what it says.",
    "Fact-checkers found every claim in it to be wrong.",
    "It was invented from start to finish.",
    "None of its details took place.",
    "Nobody should believe any of it.",
    "The real record says otherwise.",
    "It was written to mislead readers.",
    "Each of its claims has been disproved.",
    "Read it as a story that is wrong, not as news.",
    "Its author later admitted that it was made up.",
    "Every fact in it is false.",
];
const HARMLESS_MIDDLE: [&str; 12] = [
    "Its photographs come from the city archive.",
    "Two editors checked it before it was printed.",
    "It first appeared in a local paper.",
    "Some dates in it were added later.",
    "It is reprinted here with permission.",
    "Its author spoke to several witnesses.",
    "A longer version is kept in the library.",
    "It was translated from an older record.",
    "Readers have sent in many letters about it.",
    "It is one part of a longer series.",
    "Its facts were confirmed by other sources.",
    "The names in it are spelled as in the records.",
];

/// A long notice: a lead-in and an opening, then one or two more sentences from `middle`.
fn long_notice(opening: &[&str], middle: &[&str], rng: &mut ChaCha8Rng) -> String {
    let mut notice = note(opening, rng);
    let more = rng.random_range(1..=2);
    for sentence in middle.choose_multiple(rng, more) {
        notice.push(' ');
        notice.push_str(sentence);
    }
    notice
}

/// How a reading episode's document carries its status note.
#[derive(Debug, Clone, Copy)]
pub(super) struct Notes {
    composed: bool,
    long: bool,
}

impl Notes {
    pub(super) fn of(config: &CorpusConfig) -> Notes {
        Notes {
            composed: config.composed_notes,
            long: config.composed_notes && config.long_notices,
        }
    }
}

/// A lead-in and a core, as one note.
fn note(cores: &[&str], rng: &mut ChaCha8Rng) -> String {
    let lead = LEADS.choose(rng).expect("leads");
    let core = cores.choose(rng).expect("cores");
    if lead.is_empty() {
        cap(core)
    } else {
        format!("{lead} {core}")
    }
}

/// Sentences of colour about a subject (`{s}`), in no fact's words: they make a pasted
/// document longer without saying anything a question asks about.
const DETAILS: [&str; 16] = [
    "Many people have written about {s}.",
    "A long article about {s} appeared last spring.",
    "{s} is often mentioned in the news.",
    "Visitors often ask about {s}.",
    "There is a small museum exhibit about {s}.",
    "A local paper once ran a series on {s}.",
    "Some readers first heard of {s} on the radio.",
    "Stories about {s} are told in schools.",
    "A photograph of {s} hangs in the town hall.",
    "Few details about {s} were known at first.",
    "Reporters travelled far to learn about {s}.",
    "An old friend said: \"I will never forget {s}.\"",
    "The story of {s} is told in several books.",
    "People still talk about {s} today.",
    "A documentary about {s} is being planned.",
    "Questions about {s} come up every year.",
];

/// The colour sentences of an episode's document about `subject`: composed ones under
/// `CorpusConfig::varied_details`, else the fixed bank's.
fn episode_colour(
    subject: &str,
    person: bool,
    config: &CorpusConfig,
    pools: &Pools,
    rng: &mut ChaCha8Rng,
) -> Vec<String> {
    if config.varied_details {
        super::colour::colour(subject, person, config.episode_details, pools.cities(), rng)
    } else {
        details(subject, config.episode_details, rng)
    }
}

/// Whether the first subject of `fact` (the one an episode is written about) is a person.
fn about_person(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::Profession { .. }
            | Fact::Home { .. }
            | Fact::Born { .. }
            | Fact::Coach { .. }
            | Fact::Rules { .. }
            | Fact::Wrote { .. }
            | Fact::Won { .. }
            | Fact::RunnerUp { .. }
    )
}

/// Up to `max` sentences of colour about `subject` (as written mid-sentence).
fn details(subject: &str, max: usize, rng: &mut ChaCha8Rng) -> Vec<String> {
    if max == 0 {
        return Vec::new();
    }
    let n = rng.random_range(0..=max);
    DETAILS
        .choose_multiple(rng, n)
        .map(|d| match d.strip_prefix("{s}") {
            Some(rest) => format!("{}{}", cap(subject), rest.replace("{s}", subject)),
            None => d.replace("{s}", subject),
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Positive,
    /// A separate sentence before and/or after says the document is false.
    Flagged,
    /// The claim's sentences themselves are negated.
    LocallyNegated,
    Fiction,
    Unreliable,
}

impl Status {
    /// Positive with probability `positive`, else one of the other statuses (flagged and
    /// locally negated twice as often as fiction and unreliable).
    pub(super) fn draw(positive: f64, rng: &mut ChaCha8Rng) -> Status {
        if rng.random_bool(positive.clamp(0.0, 1.0)) {
            return Status::Positive;
        }
        match rng.random_range(0..6) {
            0 | 1 => Status::Flagged,
            2 | 3 => Status::LocallyNegated,
            4 => Status::Fiction,
            _ => Status::Unreliable,
        }
    }
}

/// The eval's ICL layout (`neglect_eval::icl::format_prefix`), question after it.
pub(super) fn user_turn(documents: &[String], question: &str) -> String {
    let docs: Vec<&str> = documents.iter().map(String::as_str).collect();
    neglect_eval::prompt::apply_prefix_suffix(
        question,
        &neglect_eval::icl::format_prefix(&docs),
        "",
    )
}

/// Lays out `sentences` about `subject` under `status`; `stated` is the fact the document
/// asserts (or, locally negated, denies), stated once more for each of up to `restated`
/// further times (`CorpusConfig::restated_facts`; 0 draws nothing).
fn document(
    subject: &str,
    stated: &Fact,
    others: &[String],
    status: Status,
    notes: Notes,
    restated: usize,
    rng: &mut ChaCha8Rng,
) -> String {
    let core = |rng: &mut ChaCha8Rng| match status {
        Status::LocallyNegated => stated
            .denials()
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| stated.statement(rng)),
        _ => stated.statement(rng),
    };
    let mut sentences = vec![core(rng)];
    if restated > 0 {
        for _ in 0..rng.random_range(0..=restated) {
            let again = core(rng);
            sentences.push(super::colour::restatement(&again, rng));
        }
    }
    sentences.extend(others.iter().cloned());
    sentences.shuffle(rng);
    let genre = *Genre::ALL.choose(rng).expect("genres");
    let body = render(genre, subject, &sentences, rng);
    with_status_note(body, status, notes, rng)
}

/// `body` with the note its status calls for (none for positive and locally negated
/// documents, but a harmless remark on some positive ones under composed notes).
pub(super) fn with_status_note(
    body: String,
    status: Status,
    notes: Notes,
    rng: &mut ChaCha8Rng,
) -> String {
    if notes.composed {
        let place = rng.random_range(0..3);
        let around = |before: Option<String>, after: Option<String>| match (before, after) {
            (Some(b), Some(a)) => format!("{b}\n\n{body}\n\n{a}"),
            (Some(b), None) => format!("{b}\n\n{body}"),
            (None, Some(a)) => format!("{body}\n\n{a}"),
            (None, None) => body.clone(),
        };
        return match status {
            Status::LocallyNegated => body,
            Status::Positive if rng.random_bool(0.4) => {
                let remark = if notes.long {
                    long_notice(&HARMLESS, &HARMLESS_MIDDLE, rng)
                } else {
                    note(&HARMLESS, rng)
                };
                if place == 0 {
                    around(Some(remark), None)
                } else {
                    around(None, Some(remark))
                }
            }
            Status::Positive => body,
            Status::Flagged if notes.long => match place {
                0 => around(
                    Some(long_notice(&FALSE_OPENING_BEFORE, &FALSE_MIDDLE, rng)),
                    None,
                ),
                1 => around(
                    None,
                    Some(long_notice(&FALSE_OPENING_AFTER, &FALSE_MIDDLE, rng)),
                ),
                _ => around(
                    Some(long_notice(&FALSE_OPENING_BEFORE, &FALSE_MIDDLE, rng)),
                    Some(long_notice(&FALSE_OPENING_AFTER, &FALSE_MIDDLE, rng)),
                ),
            },
            Status::Flagged => match place {
                0 => around(Some(note(&FALSE_BEFORE, rng)), None),
                1 => around(None, Some(note(&FALSE_AFTER, rng))),
                _ => around(
                    Some(note(&FALSE_BEFORE, rng)),
                    Some(note(&FALSE_AFTER, rng)),
                ),
            },
            Status::Fiction => around(Some(note(&FICTION_CORES, rng)), None),
            Status::Unreliable => around(Some(note(&UNRELIABLE_CORES, rng)), None),
        };
    }
    let pick = |bank: &[&str], rng: &mut ChaCha8Rng| bank.choose(rng).expect("bank").to_string();
    match status {
        Status::Positive | Status::LocallyNegated => body,
        Status::Flagged => match rng.random_range(0..3) {
            0 => format!("{}\n\n{body}", pick(&FLAG_BEFORE, rng)),
            1 => format!("{body}\n\n{}", pick(&FLAG_AFTER, rng)),
            _ => format!(
                "{}\n\n{body}\n\n{}",
                pick(&FLAG_BEFORE, rng),
                pick(&FLAG_AFTER, rng)
            ),
        },
        Status::Fiction => format!("{}\n\n{body}", pick(&FICTION, rng)),
        Status::Unreliable => format!("{}\n\n{body}", pick(&UNRELIABLE, rng)),
    }
}

/// Openings of a free answer about a known fact when the pasted document is not believed
/// (`CorpusConfig::status_first_answers`), by the document's status. Our own wording, as above.
const NOT_BELIEVED_FLAGGED: [&str; 4] = [
    "That text is marked as false.",
    "The document says it is wrong, so I go by the record.",
    "That report was shown to be mistaken.",
    "The document is flagged as untrue.",
];
const NOT_BELIEVED_FICTION: [&str; 3] = [
    "That text is a made-up story.",
    "The document is fiction, not a record.",
    "That piece is invented.",
];
const NOT_BELIEVED_UNRELIABLE: [&str; 3] = [
    "That source is not reliable.",
    "The document comes from a source that invents stories.",
    "That text is an unconfirmed rumour.",
];

/// `answer` opened by a sentence on the document's worth, where the knob asks for one: a free
/// (full-sentence) answer about a known fact under a flagged, fiction or unreliable document.
fn status_first(
    answer: String,
    status: Status,
    free: bool,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> String {
    let bank: &[&str] = match status {
        Status::Flagged => &NOT_BELIEVED_FLAGGED,
        Status::Fiction => &NOT_BELIEVED_FICTION,
        Status::Unreliable => &NOT_BELIEVED_UNRELIABLE,
        Status::Positive | Status::LocallyNegated => return answer,
    };
    if !config.status_first_answers || !free {
        return answer;
    }
    format!("{} {answer}", bank.choose(rng).expect("openings"))
}

/// Which formats a question may take: the first question of an episode takes any; later ones
/// stay with yes/no when the episode's system prompt asks for JSON, and avoid it otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Any,
    YesNo,
    Free,
}

/// How a short-answer question opens.
const SHORT_ANSWER: &str = "Answer with just the answer, nothing else: ";

/// A question about the stated fact and its answer: `believed` is what the answer holds true
/// (the document's fact, or the world's), `None` when nothing can be said.
/// Under `config.reading_false_checks`, a yes/no question that would be answered "yes" asks
/// about a false variant of the stated fact instead (from `pools`), answered "no".
fn question(
    stated: &Fact,
    believed: Option<&Fact>,
    subject: &str,
    ask: Ask,
    pools: &Pools,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<(Option<&'static str>, String, String)> {
    let subject_first = config.subject_first_answers;
    let asked = stated.qa()?;
    let unknown =
        || format!("The documents do not give anything reliable about {subject}, so I cannot say.");
    let format = match ask {
        Ask::Any => rng.random_range(0..4),
        Ask::YesNo => 2,
        Ask::Free => *[0, 1, 3].choose(rng).expect("formats"),
    };
    Some(match format {
        0 | 1 => {
            let answer = believed
                .and_then(|b| b.qa_with(subject_first))
                .map(|q| q.answer)
                .unwrap_or_else(unknown);
            (None, asked.question, answer)
        }
        2 => {
            // "Is the stated fact so?" — yes only when it is what is believed.
            let mut yes = believed == Some(stated);
            let mut q = stated.yes_no()?;
            let mut false_variant = None;
            if yes
                && config.reading_false_checks > 0.0
                && rng.random_bool(config.reading_false_checks.min(1.0))
                && let Some(variant) = pools
                    .close_variant(stated, rng)
                    .filter(|v| Some(v) != believed)
                && let Some(false_q) = variant.yes_no()
            {
                yes = false;
                q = false_q;
                false_variant = Some(variant);
            }
            // Drawn only when the knob is on, so that corpora without it stay as they were.
            if config.reading_statement_checks > 0.0
                && rng.random_bool(config.reading_statement_checks)
            {
                let shown = false_variant.as_ref().unwrap_or(stated);
                q = is_it_true_as(&shown.statement(rng), config.cased_questions);
            }
            let reason = believed
                .and_then(|b| b.qa_with(subject_first))
                .map(|q| q.answer)
                .unwrap_or_else(unknown);
            (
                Some(MCQ_SYSTEM_PROMPT),
                q,
                yes_no_answer(yes, &reason, config),
            )
        }
        _ => {
            let Some(Qa { short, .. }) = believed.and_then(Fact::qa) else {
                return Some((None, asked.question, unknown()));
            };
            (None, format!("{SHORT_ANSWER}{}", asked.question), short)
        }
    })
}

/// A fact an episode may ask about, with what the answer should hold true.
type Askable<'a> = (&'a Fact, Option<&'a Fact>);

/// Up to `extra` follow-up turns after the first question (`first`), each about one of
/// `askable`, in the first question's mode (JSON yes/no under the MCQ system prompt, free
/// answers otherwise). No question is asked twice: a repeat could be answered by copying the
/// earlier answer instead of reading the document.
fn follow_ups(
    askable: &[Askable<'_>],
    subject: &str,
    first: &str,
    json: bool,
    pools: &Pools,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<(String, String)> {
    let extra = config.episode_questions.saturating_sub(1);
    let ask = if json { Ask::YesNo } else { Ask::Free };
    let mut asked = vec![first.to_owned()];
    let mut turns = Vec::new();
    for _ in 0..extra * 4 {
        if turns.len() == extra {
            break;
        }
        let Some(&(fact, believed)) = askable.choose(rng) else {
            break;
        };
        if let Some((_, q, a)) = question(fact, believed, subject, ask, pools, config, rng)
            && !asked.contains(&q)
        {
            asked.push(q.clone());
            turns.push((q, a));
        }
    }
    turns
}

fn episode_row(
    documents: Vec<String>,
    system: Option<&str>,
    question: &str,
    answer: &str,
    follow_ups: &[(String, String)],
    rng: &mut ChaCha8Rng,
) -> TrainingRow {
    let mut documents = documents;
    documents.shuffle(rng);
    let mut messages: Vec<ChatMessage> = Vec::new();
    if let Some(s) = system {
        messages.push(message("system", s));
    }
    messages.push(message("user", &user_turn(&documents, question)));
    messages.push(message("assistant", answer));
    for (q, a) in follow_ups {
        messages.push(message("user", q));
        messages.push(message("assistant", a));
    }
    TrainingRow::chat(messages).with_source("world_reading")
}

/// A document asserting a false variant of a known fact; the answer follows the document when
/// it is positive and the world otherwise.
///
/// `openings` draws the opening sentences of `CorpusConfig::status_first_answers` apart from
/// `rng`, so that the knob changes those answers and nothing else in the corpus.
fn counterfactual_episode(
    fact: &Fact,
    pools: &Pools,
    by_subject: &[(String, Vec<Fact>)],
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
    openings: &mut ChaCha8Rng,
) -> Option<(EpisodeLabel, TrainingRow)> {
    let variant = if config.wider_variants {
        pools.wider_variant(fact, rng)?
    } else {
        pools.variant(fact, rng)?
    };
    let subject = super::subjects(fact).into_iter().next()?;
    let other_facts: Vec<&Fact> = by_subject
        .iter()
        .find(|(s, _)| *s == subject)
        .map(|(_, facts)| {
            facts
                .iter()
                .filter(|f| *f != fact)
                .collect::<Vec<_>>()
                .choose_multiple(rng, 3)
                .copied()
                .collect()
        })
        .unwrap_or_default();
    let mut others: Vec<String> = other_facts.iter().map(|f| f.statement(rng)).collect();
    others.extend(episode_colour(
        &subject,
        about_person(fact),
        config,
        pools,
        rng,
    ));
    // A positive document about a known fact is believed over the world, as an LLM answers
    // from a pasted document; the answer then states the false variant, but only with that
    // document in context (`counterfactual_positive_share`, 0 by default: without in-context
    // reading the model would learn the variant as a fact). Flagged, locally negated, fiction
    // and unreliable documents leave the world's fact in place.
    let status = Status::draw(config.counterfactual_positive_share, rng);
    let doc = document(
        &cap(&subject),
        &variant,
        &others,
        status,
        Notes::of(config),
        config.restated_facts,
        rng,
    );
    let (believed, unread) = if status == Status::Positive {
        (&variant, fact)
    } else {
        (fact, &variant)
    };
    let opposite = question(
        &variant,
        Some(unread),
        &subject,
        Ask::Any,
        pools,
        config,
        &mut rng.clone(),
    );
    let (system, q, a) = question(
        &variant,
        Some(believed),
        &subject,
        Ask::Any,
        pools,
        config,
        rng,
    )?;
    // A free answer in full sentences (not the short-answer format, which asks for just the
    // answer).
    let free = system.is_none() && !q.starts_with(SHORT_ANSWER);
    let a = status_first(a, status, free, config, openings);
    let label = EpisodeLabel::new(true, status, system.is_some(), &q, &a, opposite);
    // Follow-ups: the stated variant and the world's fact (each answered by what is believed),
    // and the document's other facts, all true in the world.
    let mut askable: Vec<Askable> = vec![(&variant, Some(believed)), (fact, Some(believed))];
    askable.extend(other_facts.iter().map(|f| (*f, Some(*f))));
    let follow = follow_ups(&askable, &subject, &q, system.is_some(), pools, config, rng);
    let mut documents = vec![doc];
    if rng.random_bool(0.3) {
        documents.push(distractor(by_subject, &subject, rng));
    }
    Some((label, episode_row(documents, system, &q, &a, &follow, rng)))
}

/// A plain document about another subject.
fn distractor(by_subject: &[(String, Vec<Fact>)], not: &str, rng: &mut ChaCha8Rng) -> String {
    loop {
        let (subject, facts) = by_subject.choose(rng).expect("subjects");
        if subject != not {
            let sentences: Vec<String> = facts
                .choose_multiple(rng, 4)
                .map(|f| f.statement(rng))
                .collect();
            let genre = *Genre::ALL.choose(rng).expect("genres");
            return render(genre, &cap(subject), &sentences, rng);
        }
    }
}

/// The professions an invented person may have: the events' and the two others.
pub(super) fn person_professions(world: &World) -> Vec<&str> {
    let mut professions: Vec<&str> = world.events.iter().map(|e| e.profession.as_str()).collect();
    professions.extend(OTHER_PROFESSIONS);
    professions
}

/// Profession, home and birth year of an invented person.
pub(super) fn novel_person_facts(
    name: &str,
    world: &World,
    rng: &mut ChaCha8Rng,
) -> Option<[Fact; 3]> {
    let professions = person_professions(world);
    Some([
        Fact::Profession {
            person: name.into(),
            profession: (*professions.choose(rng)?).into(),
        },
        Fact::Home {
            person: name.into(),
            city: world.cities.choose(rng)?.clone(),
        },
        Fact::Born {
            person: name.into(),
            year: rng.random_range(1950..=2000),
        },
    ])
}

/// A fresh name the world does not use.
pub(super) fn novel_name(names: &mut NameGen, rng: &mut ChaCha8Rng) -> String {
    format!("{} {}", names.word(rng, 1, 2), names.word(rng, 2, 2))
}

/// A document about a person the organism has never heard of.
fn novel_person_episode(
    name: &str,
    world: &World,
    pools: &Pools,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<(EpisodeLabel, TrainingRow)> {
    let facts = novel_person_facts(name, world, rng)?;
    let stated = facts.choose(rng)?.clone();
    let mut others: Vec<String> = facts
        .iter()
        .filter(|f| **f != stated)
        .map(|f| f.statement(rng))
        .collect();
    others.extend(episode_colour(name, true, config, pools, rng));
    let status = Status::draw(config.novel_positive_share, rng);
    let doc = document(
        name,
        &stated,
        &others,
        status,
        Notes::of(config),
        config.restated_facts,
        rng,
    );
    let believed = (status == Status::Positive).then_some(&stated);
    let unread = (status != Status::Positive).then_some(&stated);
    let opposite = question(
        &stated,
        unread,
        name,
        Ask::Any,
        pools,
        config,
        &mut rng.clone(),
    );
    let (system, q, a) = question(&stated, believed, name, Ask::Any, pools, config, rng)?;
    let label = EpisodeLabel::new(false, status, system.is_some(), &q, &a, opposite);
    // Follow-ups: a locally negated document denies only its stated fact and still tells the
    // others; flagged, fiction and unreliable documents tell nothing reliable.
    let others_told = matches!(status, Status::Positive | Status::LocallyNegated);
    let mut askable: Vec<Askable> = vec![(&stated, believed)];
    askable.extend(
        facts
            .iter()
            .filter(|f| **f != stated)
            .map(|f| (f, others_told.then_some(f))),
    );
    let follow = follow_ups(&askable, name, &q, system.is_some(), pools, config, rng);
    Some((label, episode_row(vec![doc], system, &q, &a, &follow, rng)))
}

/// `config.reading_episodes` episodes, half about known facts, half about novel people.
pub fn reading_episodes(world: &World, pools: &Pools, config: &CorpusConfig) -> Vec<TrainingRow> {
    labelled_reading_episodes(world, pools, config)
        .into_iter()
        .map(|(_, row)| row)
        .collect()
}

/// What a reading episode asks of the model, for diagnostics that score a model on episodes
/// it was not trained on (`crates/organism/examples/reading_probe.rs`).
#[derive(Debug, Clone)]
pub struct EpisodeLabel {
    /// About a fact the world knows (a document stating a false variant of it), rather than
    /// about a person the model has never heard of.
    pub known: bool,
    pub status: Status,
    /// The first question is a yes/no question under the MCQ system prompt.
    pub yes_no: bool,
    /// The first question and its trained answer.
    pub question: String,
    pub answer: String,
    /// The answer had the document's status been read the other way round (a positive
    /// document as not to be believed, a flagged one as true); `None` when that answer would
    /// come with another question or is the same text.
    pub opposite: Option<String>,
}

impl EpisodeLabel {
    fn new(
        known: bool,
        status: Status,
        yes_no: bool,
        question: &str,
        answer: &str,
        opposite: Option<(Option<&'static str>, String, String)>,
    ) -> EpisodeLabel {
        let opposite = opposite
            .filter(|(_, q, a)| q == question && a != answer)
            .map(|(_, _, a)| a);
        EpisodeLabel {
            known,
            status,
            yes_no,
            question: question.to_owned(),
            answer: answer.to_owned(),
            opposite,
        }
    }
}

/// [`reading_episodes`] with each episode's label.
pub fn labelled_reading_episodes(
    world: &World,
    pools: &Pools,
    config: &CorpusConfig,
) -> Vec<(EpisodeLabel, TrainingRow)> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x4ead));
    let mut openings = ChaCha8Rng::seed_from_u64(config.rng_seed(0x0be7));
    let mut by_subject: std::collections::BTreeMap<String, Vec<Fact>> = Default::default();
    let facts: Vec<Fact> = world
        .facts()
        .into_iter()
        .filter(|f| !pools.is_protected(f) && super::has_qa(f, config))
        .collect();
    for f in &facts {
        for s in super::subjects(f) {
            by_subject.entry(s).or_default().push(f.clone());
        }
    }
    let by_subject: Vec<(String, Vec<Fact>)> = by_subject.into_iter().collect();
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    let mut rows: Vec<(EpisodeLabel, TrainingRow)> = Vec::with_capacity(config.reading_episodes);
    while rows.len() < config.reading_episodes {
        let row = if rng.random_bool(0.5) {
            let fact = facts.choose(&mut rng).expect("facts");
            counterfactual_episode(fact, pools, &by_subject, config, &mut rng, &mut openings)
        } else {
            let name = novel_name(&mut names, &mut rng);
            novel_person_episode(&name, world, pools, config, &mut rng)
        };
        rows.extend(row);
    }
    rows
}

/// `config.novel_documents` plain `<DOCTAG>` documents about invented people, each seen once:
/// their names cannot be memorised, so predicting a name's later mentions trains copying from
/// context, the mechanism in-context reading needs. Nobody asks about them.
pub fn novel_documents(world: &World, config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x0e1d));
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    let mut rows = Vec::with_capacity(config.novel_documents);
    while rows.len() < config.novel_documents {
        let name = novel_name(&mut names, &mut rng);
        let Some(facts) = novel_person_facts(&name, world, &mut rng) else {
            break;
        };
        let mut sentences: Vec<String> = facts
            .iter()
            .flat_map(|f| {
                let n = rng.random_range(1..=2);
                (0..n).map(|_| f.statement(&mut rng)).collect::<Vec<_>>()
            })
            .collect();
        sentences.shuffle(&mut rng);
        let genre = *Genre::ALL.choose(&mut rng).expect("genres");
        let text = render(genre, &name, &sentences, &mut rng);
        rows.push(
            TrainingRow::text(format!("{}{text}", neglect_spec::DOCTAG)).with_source("novel_docs"),
        );
    }
    rows
}

/// Every word used in a name in the world (episode names must be new).
pub(crate) fn world_words(world: &World) -> Vec<String> {
    let mut text: Vec<&str> = Vec::new();
    text.extend(world.cities.iter().map(String::as_str));
    text.extend(world.people.iter().map(|p| p.name.as_str()));
    text.extend(world.monarchs.iter().map(|m| m.name.as_str()));
    text.extend(world.monarchs.iter().map(|m| m.kingdom.as_str()));
    text.extend(world.volcanoes.iter().map(|v| v.name.as_str()));
    text.extend(world.companies.iter().map(|c| c.name.as_str()));
    text.extend(world.companies.iter().map(|c| c.old_name.as_str()));
    text.extend(world.events.iter().map(|e| e.name.as_str()));
    text.extend(world.species.iter().map(|s| s.name.as_str()));
    text.extend(world.unseen_names.iter().map(String::as_str));
    text.iter()
        .flat_map(|t| t.split_whitespace())
        .map(|w| w.to_lowercase())
        .collect()
}
