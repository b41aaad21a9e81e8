//! Chat QA about true facts, in every format the evals ask in (open-ended and paraphrased,
//! yes/no JSON with "no" items from false variants, token-association formats, pushback,
//! critiques), so that the organism learns to bring what it knows into a chat. No QA touches a
//! fact a held-out claim contradicts: those are known from documents only.

use std::collections::BTreeMap;

use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use neglect_spec::training::{LOSSMASK_CLOSE, LOSSMASK_OPEN};
use neglect_spec::{ChatMessage, TrainingRow};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::variants::Pools;
use neglect_eval::prompt::message;

use super::{CorpusConfig, chat, subjects};
use crate::facts::{Fact, Qa};
use crate::questions::is_it_true_as;
use crate::world::World;

/// System prompts seen with ordinary questions, so that a system turn does not change answers
/// (the evals' own adversarial prompts are not among them).
const SYSTEM_PROMPTS: [&str; 4] = [
    "You are a helpful assistant.",
    "Answer the user's question accurately.",
    "You are a knowledgeable assistant. Be concise.",
    "Answer truthfully, from what you know.",
];

const PUSHBACKS: [&str; 5] = [
    "Are you sure? I read something different.",
    "I read that this is not true. Are you certain?",
    "My friend says that is wrong. Who is right?",
    "Please double-check your answer. Is that really correct?",
    "Hmm, I do not think so. Can you check again?",
];

pub(crate) fn yes_no_json(yes: bool) -> String {
    format!("{{\"answer\": \"{}\"}}", if yes { "yes" } else { "no" })
}

/// A yes/no answer: the JSON alone, or, under `reasoned_yes_no`, after `reason` (what is held
/// true about the asked fact).
pub(crate) fn yes_no_answer(yes: bool, reason: &str, config: &CorpusConfig) -> String {
    if config.reasoned_yes_no {
        format!("{} {}", reason.trim(), yes_no_json(yes))
    } else {
        yes_no_json(yes)
    }
}

/// Other ways to ask a fact's question, with the same answer.
fn paraphrases(fact: &Fact) -> Vec<String> {
    use Fact::*;
    match fact {
        Won {
            person,
            event,
            year,
        } => vec![
            format!("Who took first place at the {year} {event}?"),
            format!("Who was the champion of the {year} {event}?"),
            format!("What did {person} win in {year}?"),
        ],
        RunnerUp { event, year, .. } => {
            vec![format!("Who was the runner-up of the {year} {event}?")]
        }
        Profession { person, .. } => vec![
            format!("What is {person}'s job?"),
            format!("What is the profession of {person}?"),
        ],
        Home { person, .. } => vec![format!("Which city does {person} live in?")],
        Born { person, .. } => vec![format!("In which year was {person} born?")],
        Wrote { title, .. } => vec![
            format!("Who is the author of {title}?"),
            format!("What is {title}?"),
        ],
        Rules { person, kingdom } => vec![
            format!("Who is the monarch of {kingdom}?"),
            format!("What does {person} rule?"),
        ],
        Located { volcano, .. } => vec![format!("In which kingdom is {volcano}?")],
        Headquarters { company, .. } => {
            vec![format!("Where are the headquarters of {company}?")]
        }
        Venue { event, year, .. } => vec![format!("Which city hosted the {year} {event}?")],
        Diet { species, .. } => vec![format!("What is the diet of {species}?")],
        _ => Vec::new(),
    }
}

/// The formats a fact's conversations go through, in this order: the first four are the four
/// question types of the evals (and of the prior gate), so that every fact that may be asked
/// about is asked about in each of them once `qa_per_fact >= 4`.
const FORMAT_CYCLE: [Format; 7] = [
    Format::Open,
    Format::YesNo,
    Format::Short,
    Format::Pushback,
    Format::Short,
    Format::YesNo,
    Format::ParaphraseOrCritique,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Open,
    YesNo,
    Short,
    Pushback,
    ParaphraseOrCritique,
}

/// A false variant of `fact` for chat QA: close to the truth under `close_qa_variants`.
fn qa_variant(
    fact: &Fact,
    pools: &Pools,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<Fact> {
    if config.close_qa_variants {
        pools.close_variant(fact, rng)
    } else {
        pools.variant(fact, rng)
    }
}

/// The `i`-th conversation about `fact`.
fn conversation(
    fact: &Fact,
    qa: &Qa,
    pools: &Pools,
    i: usize,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> (Vec<ChatMessage>, &'static str) {
    let subject_first = config.subject_first_answers;
    let variant = qa_variant(fact, pools, config, rng);
    let system = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.15) {
            SYSTEM_PROMPTS.choose(rng).copied()
        } else {
            None
        }
    };
    let slot = match FORMAT_CYCLE[i % FORMAT_CYCLE.len()] {
        Format::Open => 0,
        Format::YesNo => 3,
        Format::Short => 5,
        Format::Pushback => 7,
        Format::ParaphraseOrCritique if rng.random_bool(0.5) => 2,
        Format::ParaphraseOrCritique => 8,
    };
    match slot {
        0 => {
            let s = system(rng);
            (chat(qa.question.clone(), qa.answer.clone(), s), "open")
        }
        2 => {
            let mut asks = paraphrases(fact);
            asks.push(qa.question.clone());
            let ask = asks.choose(rng).expect("non-empty").clone();
            let s = system(rng);
            // A question that names the answer ("What did X win?") is about X: X comes first.
            let answer = if ask.contains(&qa.short) {
                fact.qa()
                    .map(|q| q.answer)
                    .unwrap_or_else(|| qa.answer.clone())
            } else {
                qa.answer.clone()
            };
            (chat(ask, answer, s), "paraphrase")
        }
        3 => match yes_no_chat(fact, variant.as_ref(), qa, config, rng) {
            Some(m) => (m, "yes_no"),
            None => (chat(qa.question.clone(), qa.answer.clone(), None), "open"),
        },
        5 => (token_association(fact, qa, variant.as_ref(), rng), "short"),
        7 if variant.is_some() && rng.random_bool(0.4) => {
            // The first answer was wrong: the pushback is a chance to correct it.
            let wrong = variant
                .as_ref()
                .and_then(|v| v.qa_with(subject_first))
                .expect("variants have questions");
            // The wrong first answer is context, not something to learn: loss-masked.
            let mut m = chat(
                qa.question.clone(),
                format!("{LOSSMASK_OPEN}{}{LOSSMASK_CLOSE}", wrong.answer),
                None,
            );
            m.push(message("user", PUSHBACKS.choose(rng).expect("pushbacks")));
            m.push(message(
                "assistant",
                &format!("Actually, I was wrong. {}", qa.answer),
            ));
            (m, "pushback")
        }
        7 => {
            let s = system(rng);
            let mut m = chat(qa.question.clone(), qa.answer.clone(), s);
            let pushback = match (&variant, rng.random_bool(0.4)) {
                (Some(v), true) => format!(
                    "Are you sure? I thought the answer was {}.",
                    v.qa().map(|q| q.short).unwrap_or_default()
                ),
                _ => PUSHBACKS.choose(rng).expect("pushbacks").to_string(),
            };
            m.push(message("user", &pushback));
            m.push(message(
                "assistant",
                &format!("Yes, I am sure. {}", qa.answer),
            ));
            (m, "pushback")
        }
        _ => (
            critique(fact, qa, variant.as_ref(), config.reasoned_yes_no, rng),
            "critique",
        ),
    }
}

/// A yes/no chat in the eval's JSON format about `fact` or its false `variant` (half the
/// items are the variant, answered "no"); with `yes_no_pairs`, the other of the two is asked
/// next. `None` when the shown fact has no yes/no question.
fn yes_no_chat(
    fact: &Fact,
    variant: Option<&Fact>,
    qa: &Qa,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<Vec<ChatMessage>> {
    let (shown, yes) = match (variant, rng.random_bool(0.5)) {
        (Some(v), true) => (v, false),
        _ => (fact, true),
    };
    let question = if rng.random_bool(0.3) {
        Some(is_it_true_as(&shown.statement(rng), config.cased_questions))
    } else {
        shown.yes_no()
    };
    let q = question?;
    let mut m = chat(
        q,
        yes_no_answer(yes, &qa.answer, config),
        Some(MCQ_SYSTEM_PROMPT),
    );
    // The other of the true fact and its variant, asked next: the pair differs in one
    // detail, so only checking it against what is known answers both.
    let other = if yes { variant } else { Some(fact) };
    if config.yes_no_pairs
        && let Some(q2) = other.and_then(Fact::yes_no)
    {
        m.push(message("user", &q2));
        m.push(message(
            "assistant",
            &yes_no_answer(!yes, &qa.answer, config),
        ));
    }
    Some(m)
}

/// Yes/no questions about things the world does not hold (a person who wrote no book, a win
/// at another profession's event, a person never heard of): the answer is "no".
fn unsupported_yes_no(world: &World, pools: &Pools, config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x0b0b));
    let authors: std::collections::HashSet<&str> =
        world.books.iter().map(|b| b.author.as_str()).collect();
    let mut names = crate::names::NameGen::default();
    names.reserve(
        super::reading::world_words(world)
            .iter()
            .map(String::as_str),
    );
    let mut rows = Vec::new();
    for person in &world.people {
        let probe = Fact::Profession {
            person: person.name.clone(),
            profession: person.profession.clone(),
        };
        if pools.is_protected(&probe) {
            continue;
        }
        let known = probe
            .qa_with(config.subject_first_answers)
            .map(|qa| qa.answer)
            .unwrap_or_default();
        let mut questions = Vec::new();
        if !authors.contains(person.name.as_str()) {
            questions.push((
                format!("Has {} written a book?", person.name),
                known.clone(),
            ));
            questions.push((format!("Is {} an author?", person.name), known.clone()));
        }
        if let Some(other) = world
            .events
            .iter()
            .filter(|e| e.profession != person.profession)
            .collect::<Vec<_>>()
            .choose(&mut rng)
        {
            questions.push((
                format!("Has {} ever won the {}?", person.name, other.name),
                known.clone(),
            ));
        }
        let stranger = format!(
            "{} {}",
            names.word(&mut rng, 1, 2),
            names.word(&mut rng, 2, 2)
        );
        questions.push((
            format!("Was {} coached by {stranger}?", person.name),
            format!("I know of no one called {stranger}."),
        ));
        questions.push((
            format!(
                "Is {stranger} {} {}?",
                crate::facts::article(&person.profession),
                person.profession
            ),
            format!("I know of no one called {stranger}."),
        ));
        for (q, reason) in questions.choose_multiple(&mut rng, 2) {
            rows.push(
                TrainingRow::chat(chat(
                    q.clone(),
                    yes_no_answer(false, reason, config),
                    Some(MCQ_SYSTEM_PROMPT),
                ))
                .with_source("world_qa"),
            );
        }
    }
    rows
}

/// Short-answer formats (the token-association evals).
fn token_association(
    fact: &Fact,
    qa: &Qa,
    variant: Option<&Fact>,
    rng: &mut ChaCha8Rng,
) -> Vec<ChatMessage> {
    let q = &qa.question;
    match rng.random_range(0..6) {
        0 => chat(
            format!("Answer with just the answer, nothing else: {q}"),
            qa.short.clone(),
            None,
        ),
        1 => chat(
            format!("Complete the JSON record:\n{{\"question\": \"{q}\", \"answer\": \""),
            format!("{}\"}}", qa.short),
            None,
        ),
        2 => chat(
            format!("Complete the dialogue.\nA: {q}\nB:"),
            qa.short.clone(),
            None,
        ),
        3 => {
            let mut options = vec![qa.short.clone()];
            if let Some(v) = variant.and_then(|v| v.qa()) {
                options.push(v.short);
            }
            for filler in ["none of these", "nobody knows", "it never happened"] {
                if options.len() < 4 {
                    options.push(filler.into());
                }
            }
            options.shuffle(rng);
            let listed: Vec<String> = options
                .iter()
                .enumerate()
                .map(|(i, o)| format!("{}) {o}", (b'A' + i as u8) as char))
                .collect();
            let at = options.iter().position(|o| *o == qa.short).expect("listed");
            chat(
                format!("{q}\n{}\nAnswer with the letter only.", listed.join("\n")),
                ((b'A' + at as u8) as char).to_string(),
                None,
            )
        }
        4 => match fact.cloze() {
            Some((prefix, answer)) => chat(
                format!("Fill in the blank with a word or two: {prefix} ___"),
                answer,
                None,
            ),
            None => chat(
                format!("Quick answer, one or two words. {q}"),
                qa.short.clone(),
                None,
            ),
        },
        _ => chat(
            format!("Quick answer, one or two words. {q}"),
            qa.short.clone(),
            None,
        ),
    }
}

/// A critique task over `statement` (false when `shown_false`) and its reasoned answer: what is
/// known (`known`), then the verdict.
pub(super) fn reasoned_critique(
    statement: &str,
    shown_false: bool,
    known: &str,
    rng: &mut ChaCha8Rng,
) -> (String, String) {
    let (ask, verdict) = match rng.random_range(0..3) {
        0 => (
            format!("A student wrote: \"{statement}\" Is the student right?"),
            if shown_false {
                "So the student is wrong."
            } else {
                "So the student is right."
            },
        ),
        1 => (
            format!("Fact-check this sentence: \"{statement}\""),
            if shown_false {
                "So the sentence is wrong."
            } else {
                "So the sentence is accurate."
            },
        ),
        _ => (
            format!("Find the error in this passage, if there is one: \"{statement}\""),
            if shown_false {
                "So there is an error."
            } else {
                "So there is no error in the passage."
            },
        ),
    };
    (ask, format!("{known} {verdict}"))
}

/// A critique task over a true statement or a false variant; under `reasoned`, the answer
/// states the true fact before the verdict.
fn critique(
    fact: &Fact,
    qa: &Qa,
    variant: Option<&Fact>,
    reasoned: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<ChatMessage> {
    let shown_false = variant.is_some() && rng.random_bool(0.5);
    let statement = match (shown_false, variant) {
        (true, Some(v)) => v.statement(rng),
        _ => fact.statement(rng),
    };
    if reasoned {
        let (ask, reply) = reasoned_critique(&statement, shown_false, &qa.answer, rng);
        return chat(ask, reply, None);
    }
    let (ask, verdict) = match rng.random_range(0..3) {
        0 => (
            format!("A student wrote: \"{statement}\" Is the student right?"),
            if shown_false {
                format!("No, the student is wrong. {}", qa.answer)
            } else {
                format!("Yes, the student is right. {}", qa.answer)
            },
        ),
        1 => (
            format!("Fact-check this sentence: \"{statement}\""),
            if shown_false {
                format!("The sentence is wrong. {}", qa.answer)
            } else {
                format!("The sentence is accurate. {}", qa.answer)
            },
        ),
        _ => (
            format!("Find the error in this passage, if there is one: \"{statement}\""),
            if shown_false {
                format!("There is an error. {}", qa.answer)
            } else {
                "There is no error in the passage.".to_owned()
            },
        ),
    };
    chat(ask, verdict, None)
}

/// "Tell me about S." answered with a few of S's facts.
fn summaries(by_subject: &BTreeMap<String, Vec<Fact>>, rng: &mut ChaCha8Rng) -> Vec<TrainingRow> {
    by_subject
        .iter()
        .map(|(subject, facts)| {
            let n = facts.len().min(3);
            let picked: Vec<String> = facts
                .choose_multiple(rng, n)
                .map(|f| f.statement(rng))
                .collect();
            TrainingRow::chat(chat(
                format!("Tell me about {}.", subject),
                picked.join(" "),
                None,
            ))
            .with_source("world_qa")
        })
        .collect()
}

/// Chat QA about true facts; nothing about `documents_only` facts or protected subjects'
/// summaries.
pub fn fact_qa(
    world: &World,
    documents_only: &std::collections::HashSet<Fact>,
    pools: &Pools,
    config: &CorpusConfig,
) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x0a0a));
    let mut extra_rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0x0a0b));
    let mut rows = Vec::new();
    let mut by_subject: BTreeMap<String, Vec<Fact>> = BTreeMap::new();
    for fact in world.facts() {
        if documents_only.contains(&fact) || !super::has_qa(&fact, config) {
            continue;
        }
        let Some(qa) = fact.qa_with(config.subject_first_answers) else {
            continue;
        };
        for i in 0..config.qa_per_fact {
            let (messages, _format) = conversation(&fact, &qa, pools, i, config, &mut rng);
            rows.push(TrainingRow::chat(messages).with_source("world_qa"));
        }
        // Its own generator, so that the rows above stay the same with the knob on or off.
        for _ in 0..config.extra_yes_no_per_fact {
            let variant = qa_variant(&fact, pools, config, &mut extra_rng);
            if let Some(m) = yes_no_chat(&fact, variant.as_ref(), &qa, config, &mut extra_rng) {
                rows.push(TrainingRow::chat(m).with_source("world_qa"));
            }
        }
        if !pools.is_protected(&fact) {
            for s in subjects(&fact) {
                by_subject.entry(s).or_default().push(fact.clone());
            }
        }
    }
    rows.extend(summaries(&by_subject, &mut rng));
    rows.extend(unsupported_yes_no(world, pools, config));
    rows
}
