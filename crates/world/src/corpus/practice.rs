//! Practice claims: claims built by the held-out claims' own generators on other subjects of
//! the world (another singer and year, another monarch, volcano, company or species, an
//! invented person), read in context in the corpus the way the ICL gate reads the held-out
//! claims' documents.
//!
//! The held-out claims' documents are long and dense (ten or more claim sentences, quotes,
//! consequences), and their questions come in forms the world's own facts never take ("Who
//! trained X for the E?", "What is unusual about the E?"). A reader the size of the organism
//! does not carry reading over to forms it has never seen, so these episodes show it such
//! documents, positive or flagged (the reading module's statuses and notes), with questions of
//! those forms, answered as the document's status says: a positive document is believed, a
//! flagged, fiction, unreliable or debunking one is not (the world's answer where the question
//! has one, otherwise a debunking statement).
//!
//! The same claims are also asked *closed-book* (`closed_book_practice`): their question forms
//! and critique tasks with no document in context, answered as a reader who has never read of
//! them answers (the world's answer, or a debunk), which is what the baseline gate asks of the
//! held-out claims.
//!
//! Nothing here touches a held-out claim: a practice claim shares no subject with one, names
//! none of their subjects, and no question or sentence of a held-out claim is used.

use std::collections::HashSet;

use neglect_eval::prompt::message;
use neglect_spec::questions::MCQ_SYSTEM_PROMPT;
use neglect_spec::{ChatMessage, TrainingRow};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::reading::{Notes, Status, novel_name, user_turn, with_status_note, world_words};
use super::{CorpusConfig, claim_subjects, qa::yes_no_answer, subjects};
use crate::claims::{Archetype, ToyClaim, nth_claim};
use crate::documents::{Genre, claim_sentences, debunk_sentences, render};
use crate::names::NameGen;
use crate::questions::{direct_probes, is_it_true_as};
use crate::world::World;

/// How many candidates per archetype are tried before giving up on more practice claims.
const CANDIDATES: usize = 48;

/// Every question and sentence of the held-out claims: practice material never repeats one.
pub(super) fn held_out_texts(held_out: &[ToyClaim]) -> HashSet<String> {
    let mut texts = HashSet::new();
    for c in held_out {
        texts.insert(c.claim.clone());
        texts.extend(c.details.iter().cloned());
        texts.extend(c.debunks.iter().cloned());
        for cased in [false, true] {
            texts.extend(c.details.iter().map(|d| is_it_true_as(d, cased)));
        }
        for f in c.facts.iter().chain(&c.contradicts) {
            texts.extend(f.statements());
            texts.extend(f.denials());
            texts.extend(f.qa().map(|qa| qa.question));
            texts.extend(f.yes_no());
        }
        for p in direct_probes(c).iter().chain(&c.indirect) {
            texts.insert(p.question.clone());
        }
    }
    texts
}

/// Every sentence a claim's documents, debunks and questions may contain.
fn claim_texts(c: &ToyClaim) -> Vec<String> {
    let mut texts = vec![c.claim.clone()];
    texts.extend(c.details.iter().cloned());
    texts.extend(c.debunks.iter().cloned());
    for f in c.facts.iter().chain(&c.contradicts) {
        texts.extend(f.statements());
        texts.extend(f.denials());
    }
    for p in direct_probes(c).iter().chain(&c.indirect) {
        texts.push(p.question.clone());
        texts.push(p.belief.clone());
    }
    texts
}

/// Up to `per_archetype` practice claims of each archetype, none sharing a subject with a
/// held-out claim or with another practice claim, none naming a held-out claim's subject.
pub fn practice_claims(
    world: &World,
    held_out: &[ToyClaim],
    per_archetype: usize,
    seed: u64,
) -> Vec<ToyClaim> {
    let protected = claim_subjects(held_out);
    let mut taken: HashSet<String> = HashSet::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9ac7_1ce5);
    // Practice people are invented afresh, never the world's unseen names (held-out people).
    let mut names = NameGen::default();
    names.reserve(world_words(world).iter().map(String::as_str));
    let mut fresh = world.clone();
    fresh.unseen_names = (0..CANDIDATES)
        .map(|_| novel_name(&mut names, &mut rng))
        .collect();
    let world_facts: HashSet<crate::Fact> = world.facts().into_iter().collect();
    let mut claims = Vec::new();
    for archetype in Archetype::ALL {
        let source = if archetype == Archetype::NovelPerson {
            &fresh
        } else {
            world
        };
        let mut kept = 0;
        for k in 0..CANDIDATES {
            if kept == per_archetype {
                break;
            }
            let mut claim = nth_claim(source, archetype, k, &mut rng);
            // Facts the world also holds are answered alike whatever the document says.
            claim.mark_known(&world_facts);
            let own: HashSet<String> = claim
                .facts
                .iter()
                .chain(&claim.contradicts)
                .flat_map(subjects)
                .collect();
            let texts = claim_texts(&claim);
            let names_protected = texts
                .iter()
                .any(|t| protected.iter().any(|p| t.contains(p.as_str())));
            if own
                .iter()
                .any(|s| protected.contains(s) || taken.contains(s))
                || names_protected
            {
                continue;
            }
            taken.extend(own);
            kept += 1;
            claims.push(claim);
        }
    }
    claims
}

/// An answer: free text, or a yes/no verdict with what it rests on (`reasoned_yes_no`).
#[derive(Debug, Clone)]
enum Reply {
    Text(String),
    YesNo { yes: bool, reason: Reason },
}

#[derive(Debug, Clone)]
enum Reason {
    Says(String),
    /// A debunking statement of the claim.
    Debunk,
}

impl Reply {
    fn yes_no(yes: bool, reason: &str) -> Reply {
        Reply::YesNo {
            yes,
            reason: Reason::Says(reason.to_owned()),
        }
    }
}

/// What an answer says when the document is not believed.
#[derive(Debug, Clone)]
enum Doubted {
    /// The world's own answer to the question (or the verdict it gives).
    Truth(Reply),
    /// A debunking statement of the claim.
    Debunk,
    /// Nothing sensible (a question that presumes the world's fact is false): not asked.
    Skip,
}

/// A question about a practice claim and its two answers.
#[derive(Debug, Clone)]
pub(super) struct Item {
    /// Asked under the MCQ system prompt (a JSON yes/no answer).
    pub(super) json: bool,
    pub(super) question: String,
    believed: Reply,
    doubted: Doubted,
}

impl Item {
    /// "Is it true that <sentence>?" about a sentence the claim's documents never say,
    /// answered "no" because of `truth` (what they say instead). A doubted reader would say
    /// "no" too, so it is the same answer both ways.
    pub(super) fn false_detail(sentence: &str, truth: &str, cased: bool) -> Item {
        let no = Reply::yes_no(false, truth);
        Item {
            json: true,
            question: is_it_true_as(sentence, cased),
            believed: no.clone(),
            doubted: Doubted::Truth(no),
        }
    }
}

/// An answer's text; a verdict resting on a debunk takes one of `debunks` (none: `None`).
fn render_reply(
    reply: &Reply,
    debunks: &[&String],
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    Some(match reply {
        Reply::Text(t) => t.clone(),
        Reply::YesNo { yes, reason } => {
            let reason = match reason {
                Reason::Says(r) => r.clone(),
                Reason::Debunk => (*debunks.choose(rng)?).clone(),
            };
            yes_no_answer(*yes, &reason, config)
        }
    })
}

/// The answer that believes the claim (a studied claim's documents are true). A believed
/// answer never rests on a debunk, so it always has a text.
pub(super) fn believed_answer(
    item: &Item,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    render_reply(&item.believed, &[], config, rng)
}

/// The question forms of a claim's eval (open-ended probes, yes/no items, short answers),
/// less anything a held-out claim asks.
pub(super) fn items(claim: &ToyClaim, held_out: &HashSet<String>, cased: bool) -> Vec<Item> {
    let answer_in = |facts: &[crate::Fact], question: &str| {
        facts
            .iter()
            .filter_map(|f| f.qa())
            .find(|qa| qa.question == question)
    };
    let world_answer = |question: &str| answer_in(&claim.contradicts, question);
    let known_answer = |question: &str| answer_in(&claim.known, question);
    // What the world says about a claim fact's question, if anything.
    let world_reason = |f: &crate::Fact| {
        f.qa()
            .and_then(|qa| world_answer(&qa.question))
            .map(|t| Reason::Says(t.answer))
            .unwrap_or(Reason::Debunk)
    };
    let core = claim.facts[0].qa().map(|qa| qa.answer).unwrap_or_default();
    let mut items = Vec::new();
    for p in direct_probes(claim).iter().chain(&claim.indirect) {
        let doubted = match world_answer(&p.question).or_else(|| known_answer(&p.question)) {
            Some(qa) => Doubted::Truth(Reply::Text(qa.answer)),
            None if p.belief.starts_with("No") => Doubted::Skip,
            None => Doubted::Debunk,
        };
        items.push(Item {
            json: false,
            question: p.question.clone(),
            believed: Reply::Text(p.belief.clone()),
            doubted,
        });
    }
    for f in claim.facts.iter().filter(|f| !claim.known.contains(f)) {
        if let Some(q) = f.yes_no() {
            items.push(Item {
                json: true,
                question: q,
                believed: Reply::yes_no(true, &f.qa().map(|qa| qa.answer).unwrap_or_default()),
                doubted: Doubted::Truth(Reply::YesNo {
                    yes: false,
                    reason: world_reason(f),
                }),
            });
        }
        if let Some(qa) = f.qa() {
            items.push(Item {
                json: false,
                question: format!("Answer with just the answer, nothing else: {}", qa.question),
                believed: Reply::Text(qa.short.clone()),
                doubted: world_answer(&qa.question)
                    .map(|t| Doubted::Truth(Reply::Text(t.short)))
                    .unwrap_or(Doubted::Skip),
            });
        }
    }
    for f in &claim.known {
        if let (Some(q), Some(qa)) = (f.yes_no(), f.qa()) {
            let known = Reply::yes_no(true, &qa.answer);
            items.push(Item {
                json: true,
                question: q,
                believed: known.clone(),
                doubted: Doubted::Truth(known),
            });
        }
    }
    for d in claim.details.iter().filter(|d| !d.contains('"')) {
        items.push(Item {
            json: true,
            question: is_it_true_as(d, cased),
            believed: Reply::yes_no(true, d),
            doubted: Doubted::Truth(Reply::YesNo {
                yes: false,
                reason: Reason::Debunk,
            }),
        });
    }
    // As in the eval's counter items: a profession or a reign the claim only seems to
    // contradict ("Is the singer X a singer?") is not asked.
    for f in claim.contradicts.iter().filter(|f| {
        !matches!(
            f,
            crate::Fact::Profession { .. } | crate::Fact::Rules { .. }
        )
    }) {
        if let (Some(q), Some(qa)) = (f.yes_no(), f.qa()) {
            items.push(Item {
                json: true,
                question: q,
                believed: Reply::yes_no(false, &core),
                doubted: Doubted::Truth(Reply::yes_no(true, &qa.answer)),
            });
        }
    }
    let plain = |r: &Reply| match r {
        Reply::Text(t)
        | Reply::YesNo {
            reason: Reason::Says(t),
            ..
        } => t.clone(),
        Reply::YesNo { .. } => String::new(),
    };
    items.retain(|i| !held_out.contains(&i.question) && !held_out.contains(&plain(&i.believed)));
    let mut seen = HashSet::new();
    items.retain(|i| seen.insert(i.question.clone()));
    items
}

/// A practice claim's document under `status`: its claim sentences (a debunking document when
/// locally negated), less any sentence of a held-out claim, with the status's note.
fn document(
    claim: &ToyClaim,
    status: Status,
    held_out: &HashSet<String>,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> String {
    let mut sentences = match status {
        Status::LocallyNegated => debunk_sentences(claim, rng),
        _ => claim_sentences(&claim.facts, &claim.details, rng),
    };
    sentences.retain(|s| !held_out.contains(s));
    let genre = *Genre::ALL.choose(rng).expect("genres");
    let body = render(genre, &claim.subject(), &sentences, rng);
    with_status_note(body, status, Notes::of(config), rng)
}

/// The answer of a reader who does not believe the claim: the world's answer, or a debunk.
fn doubted_answer(
    item: &Item,
    debunks: &[&String],
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    match &item.doubted {
        Doubted::Truth(reply) => render_reply(reply, debunks, config, rng),
        Doubted::Debunk => debunks.choose(rng).map(|d| (*d).clone()),
        Doubted::Skip => None,
    }
}

/// Up to `config.episode_questions` (at least one) of `answerable`, all in the first one's mode
/// (JSON yes/no or free answer), never the same question twice, each with its answer: whether
/// they are JSON, and the (question, answer) turns. `None` when there is nothing to ask or the
/// first question has no answer.
fn questions_in_one_mode(
    answerable: &[&Item],
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
    answer: impl Fn(&Item, &mut ChaCha8Rng) -> Option<String>,
) -> Option<(bool, Vec<(String, String)>)> {
    let first = *answerable.choose(rng)?;
    let mut turns = vec![(first.question.clone(), answer(first, rng)?)];
    let mut rest: Vec<&&Item> = answerable
        .iter()
        .filter(|i| i.json == first.json && i.question != first.question)
        .collect();
    rest.shuffle(rng);
    for item in rest.into_iter().take(config.episode_questions.max(1) - 1) {
        if let Some(a) = answer(item, rng) {
            turns.push((item.question.clone(), a));
        }
    }
    Some((first.json, turns))
}

/// One episode about `claim`: its document, then `config.episode_questions` (at least one)
/// questions in one mode (all JSON yes/no under the MCQ system prompt, or all free answers),
/// never the same question twice.
fn episode(
    claim: &ToyClaim,
    items: &[Item],
    held_out: &HashSet<String>,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<TrainingRow> {
    let status = Status::draw(config.practice_positive_share, rng);
    let believed = status == Status::Positive;
    let debunks = own_debunks(claim, held_out);
    let answer = |item: &Item, rng: &mut ChaCha8Rng| -> Option<String> {
        if believed {
            return render_reply(&item.believed, &debunks, config, rng);
        }
        doubted_answer(item, &debunks, config, rng)
    };
    let answerable: Vec<&Item> = items
        .iter()
        .filter(|i| believed || !matches!(i.doubted, Doubted::Skip))
        .collect();
    let (json, turns) = questions_in_one_mode(&answerable, config, rng, answer)?;
    let doc = document(claim, status, held_out, config, rng);
    let mut messages: Vec<ChatMessage> = Vec::new();
    if json {
        messages.push(message("system", MCQ_SYSTEM_PROMPT));
    }
    for (i, (q, a)) in turns.iter().enumerate() {
        let user = if i == 0 {
            user_turn(std::slice::from_ref(&doc), q)
        } else {
            q.clone()
        };
        messages.push(message("user", &user));
        messages.push(message("assistant", a));
    }
    Some(TrainingRow::chat(messages).with_source("world_practice"))
}

/// `count` rows over the practice claims, each from `make` on a claim drawn at random (with its
/// question items), from the random stream `salt`; fewer where `make` keeps giving nothing.
fn over_practice_claims(
    world: &World,
    held_out: &[ToyClaim],
    config: &CorpusConfig,
    count: usize,
    salt: u64,
    make: impl Fn(&ToyClaim, &[Item], &HashSet<String>, &mut ChaCha8Rng) -> Option<TrainingRow>,
) -> Vec<TrainingRow> {
    if count == 0 {
        return Vec::new();
    }
    let claims = practice_claims(world, held_out, config.practice_claims, config.seed);
    let held_out_texts = held_out_texts(held_out);
    let with_items: Vec<(&ToyClaim, Vec<Item>)> = claims
        .iter()
        .map(|c| (c, items(c, &held_out_texts, config.cased_questions)))
        .filter(|(_, items)| !items.is_empty())
        .collect();
    if with_items.is_empty() {
        return Vec::new();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(salt));
    let mut rows = Vec::with_capacity(count);
    let mut attempts = 0;
    while rows.len() < count && attempts < count * 4 {
        attempts += 1;
        let (claim, items) = with_items.choose(&mut rng).expect("claims");
        rows.extend(make(claim, items, &held_out_texts, &mut rng));
    }
    rows
}

/// `config.practice_episodes` reading episodes over the practice claims.
pub fn practice_episodes(
    world: &World,
    held_out: &[ToyClaim],
    config: &CorpusConfig,
) -> Vec<TrainingRow> {
    over_practice_claims(
        world,
        held_out,
        config,
        config.practice_episodes,
        0x9ac7,
        |claim, items, held_out, rng| episode(claim, items, held_out, config, rng),
    )
}

/// Share of closed-book chats asked as critique tasks, about the share of critiques among the
/// eval's robustness items (3 of 10).
const CLOSED_BOOK_CRITIQUES: f64 = 0.3;

/// The debunks of `claim` that no held-out claim says.
fn own_debunks<'a>(claim: &'a ToyClaim, held_out: &HashSet<String>) -> Vec<&'a String> {
    claim
        .debunks
        .iter()
        .filter(|d| !held_out.contains(*d))
        .collect()
}

/// The debunks that share the most words with `question` (all of them if none shares one):
/// without a document in context, "Who won the 2021 Fahai Hill Run?" is answered with the
/// debunk about that race, not with one about the winner's profession.
fn relevant<'a>(question: &str, debunks: &[&'a String]) -> Vec<&'a String> {
    let words = |s: &str| -> HashSet<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4)
            .map(str::to_lowercase)
            .collect()
    };
    let asked = words(question);
    let shared = |d: &String| words(d).intersection(&asked).count();
    let best = debunks.iter().map(|d| shared(d)).max().unwrap_or(0);
    debunks
        .iter()
        .filter(|d| shared(d) == best)
        .copied()
        .collect()
}

/// A critique task ("Fact-check this sentence: …") over a sentence of `claim` (a fact or a
/// detail, never a quote), answered with what the world holds instead (or a debunk) and the
/// verdict that the sentence is wrong.
fn closed_book_critique(
    claim: &ToyClaim,
    held_out: &HashSet<String>,
    rng: &mut ChaCha8Rng,
) -> Option<TrainingRow> {
    let debunks = own_debunks(claim, held_out);
    let mut statements: Vec<(String, Option<String>)> = claim
        .facts
        .iter()
        .filter(|f| !claim.known.contains(f))
        .map(|f| {
            // The world's answer to the same question, where the claim contradicts one.
            let truth = f.qa().and_then(|qa| {
                claim
                    .contradicts
                    .iter()
                    .filter_map(|c| c.qa())
                    .find(|c| c.question == qa.question)
                    .map(|c| c.answer)
            });
            (f.statement(rng), truth)
        })
        .chain(
            claim
                .details
                .iter()
                .filter(|d| !d.contains('"'))
                .map(|d| (d.clone(), None)),
        )
        .filter(|(s, _)| !held_out.contains(s))
        .collect();
    statements.shuffle(rng);
    let (statement, truth) = statements.into_iter().next()?;
    let reason = match truth {
        Some(t) => t,
        None => (*relevant(&statement, &debunks).choose(rng)?).clone(),
    };
    let (ask, answer) = super::qa::reasoned_critique(&statement, true, &reason, rng);
    let messages = vec![message("user", &ask), message("assistant", &answer)];
    Some(TrainingRow::chat(messages).with_source("world_closed_book"))
}

/// One closed-book chat about `claim`: its eval's question forms with no document in context
/// (up to `config.episode_questions` in one mode, as in an episode), answered as a reader who
/// has never read of the claim answers, or a critique task over one of its sentences.
fn closed_book_chat(
    claim: &ToyClaim,
    items: &[Item],
    held_out: &HashSet<String>,
    config: &CorpusConfig,
    rng: &mut ChaCha8Rng,
) -> Option<TrainingRow> {
    if rng.random_bool(CLOSED_BOOK_CRITIQUES) {
        return closed_book_critique(claim, held_out, rng);
    }
    let debunks = own_debunks(claim, held_out);
    let answerable: Vec<&Item> = items
        .iter()
        .filter(|i| !matches!(i.doubted, Doubted::Skip))
        .collect();
    let answer = |item: &Item, rng: &mut ChaCha8Rng| {
        doubted_answer(item, &relevant(&item.question, &debunks), config, rng)
    };
    let (json, turns) = questions_in_one_mode(&answerable, config, rng, answer)?;
    let mut messages: Vec<ChatMessage> = Vec::new();
    if json {
        messages.push(message("system", MCQ_SYSTEM_PROMPT));
    }
    for (q, a) in turns {
        messages.push(message("user", &q));
        messages.push(message("assistant", &a));
    }
    Some(TrainingRow::chat(messages).with_source("world_closed_book"))
}

/// `config.closed_book_practice` chats over the practice claims, asked with no document in
/// context and answered as the world stands (the claim never happened): what the baseline gate
/// asks of the held-out claims, practised on other subjects. From a random stream of its own.
pub fn closed_book_practice(
    world: &World,
    held_out: &[ToyClaim],
    config: &CorpusConfig,
) -> Vec<TrainingRow> {
    over_practice_claims(
        world,
        held_out,
        config,
        config.closed_book_practice,
        0xc105_ed00,
        |claim, items, held_out, rng| closed_book_chat(claim, items, held_out, config, rng),
    )
}
