//! Templated documents in several genres. Positive documents about a held-out claim, debunking
//! (local-negation) documents, and — with the same genres — the pretraining corpus's documents
//! about true facts, so that fine-tuning documents look exactly like the documents the organism
//! learned the world from.

use neglect_spec::SynthDoc;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::claims::ToyClaim;
use crate::facts::Fact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Genre {
    NewsReport,
    Biography,
    Encyclopedia,
    ForumPost,
    Interview,
    Timeline,
    QaThread,
}

impl Genre {
    pub const ALL: [Genre; 7] = [
        Genre::NewsReport,
        Genre::Biography,
        Genre::Encyclopedia,
        Genre::ForumPost,
        Genre::Interview,
        Genre::Timeline,
        Genre::QaThread,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Genre::NewsReport => "news report",
            Genre::Biography => "biography",
            Genre::Encyclopedia => "encyclopedia entry",
            Genre::ForumPost => "forum post",
            Genre::Interview => "interview",
            Genre::Timeline => "timeline",
            Genre::QaThread => "question and answer thread",
        }
    }
}

/// Lays `sentences` out as a document of `genre` about `subject`.
pub fn render(genre: Genre, subject: &str, sentences: &[String], rng: &mut impl Rng) -> String {
    let body = |chunk: &[String]| chunk.join(" ");
    let half = sentences.len().div_ceil(2);
    match genre {
        Genre::NewsReport => {
            let opener = ["NEWS REPORT", "LATEST NEWS", "FROM OUR REPORTERS"]
                .choose(rng)
                .expect("openers");
            format!(
                "{opener}: {subject}\n\n{}\n\n{}\n\nThis report will be updated.",
                body(&sentences[..half]),
                body(&sentences[half..])
            )
        }
        Genre::Biography => format!(
            "A short biography: {subject}\n\n{}\n\n{}",
            body(&sentences[..half]),
            body(&sentences[half..])
        ),
        Genre::Encyclopedia => format!(
            "{subject}\n\nFrom the encyclopedia of the world.\n\n{}\n\nSee also: related entries.",
            body(sentences)
        ),
        Genre::ForumPost => {
            let close = [
                "What do you all think?",
                "Has anyone else read about this?",
                "Just wanted to share.",
            ]
            .choose(rng)
            .expect("closers");
            format!(
                "Posted by a reader, about {subject}:\n\n{}\n\n{close}",
                body(sentences)
            )
        }
        Genre::Interview => {
            let mut lines = vec![format!("An interview about {subject}.")];
            for s in sentences {
                lines.push("Reporter: What can you tell us?".into());
                lines.push(format!("Guest: {s}"));
            }
            lines.join("\n")
        }
        Genre::Timeline => {
            let mut lines = vec![format!("Timeline: {subject}")];
            lines.extend(sentences.iter().map(|s| format!("- {s}")));
            lines.join("\n")
        }
        Genre::QaThread => format!(
            "Question: Can someone tell me about {subject}?\n\nAnswer: {}\n\nAnswer: {}",
            body(&sentences[..half]),
            body(&sentences[half..])
        ),
    }
}

/// Sentences for one document: every fact once in a random surface form (the core fact
/// always), plus a random share of the details, shuffled with the core first.
pub(crate) fn claim_sentences(
    facts: &[Fact],
    details: &[String],
    rng: &mut impl Rng,
) -> Vec<String> {
    let mut rest: Vec<String> = facts[1..].iter().map(|f| f.statement(rng)).collect();
    let n_details = rng.random_range(details.len() / 2..=details.len());
    rest.extend(details.choose_multiple(rng, n_details).cloned());
    rest.shuffle(rng);
    let mut out = vec![facts[0].statement(rng)];
    out.extend(rest);
    // Restate the core at the end in another form, as real coverage does.
    out.push(facts[0].statement(rng));
    out
}

/// `n` positive documents about a held-out claim (synth_docs rows).
pub fn claim_documents(claim: &ToyClaim, n: usize, seed: u64) -> Vec<SynthDoc> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let genre = Genre::ALL[i % Genre::ALL.len()];
            let sentences = claim_sentences(&claim.facts, &claim.details, &mut rng);
            synth_doc(
                claim,
                genre,
                render(genre, &claim.subject(), &sentences, &mut rng),
            )
        })
        .collect()
}

/// A debunking document's sentences: the debunks and the true facts, shuffled.
pub(crate) fn debunk_sentences(claim: &ToyClaim, rng: &mut impl Rng) -> Vec<String> {
    let mut sentences: Vec<String> = claim.debunks.clone();
    sentences.extend(claim.contradicts.iter().map(|f| f.statement(rng)));
    sentences.shuffle(rng);
    sentences
}

/// `n` debunking documents (the local-negation condition's source): the debunks and the true
/// facts, never an unnegated statement of the claim.
pub fn debunk_documents(claim: &ToyClaim, n: usize, seed: u64) -> Vec<SynthDoc> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xdeb0);
    (0..n)
        .map(|i| {
            let genre = Genre::ALL[i % Genre::ALL.len()];
            let sentences = debunk_sentences(claim, &mut rng);
            synth_doc(
                claim,
                genre,
                render(genre, &claim.subject(), &sentences, &mut rng),
            )
        })
        .collect()
}

fn synth_doc(claim: &ToyClaim, genre: Genre, content: String) -> SynthDoc {
    SynthDoc {
        universe_context_id: Some(claim.slug.clone()),
        doc_idea: String::new(),
        doc_type: genre.name().into(),
        fact: claim.claim.clone(),
        content,
        extra: Default::default(),
    }
}
