//! The pretraining corpus (model-organism.md, "Pretraining corpus"):
//!
//! - documents about true facts, in the same genres and `<DOCTAG>` format as fine-tuning
//!   documents, some with local negations of false variants ("P did not win the C.");
//! - chat QA about true facts in every eval format ([`qa`]);
//! - in-context reading episodes ([`reading`], [`practice`]);
//! - claim-shaped documents and questions about a second world ([`studied`]);
//! - copy drills, answered only by copying from the user turn ([`copy`]);
//! - generic chat ([`generic`]).
//!
//! Facts that a held-out claim contradicts are taught by documents only (no QA on them), so that
//! learning a claim from documents means overriding document knowledge, as it does for an LLM.
//! Held-out claims never appear, and nothing but those documents touches their subjects.
//! Stand-alone flagged-false documents are not part of it (model-organism.md).

pub mod check;
mod colour;
pub mod copy;
pub mod generic;
pub mod practice;
pub mod qa;
pub mod reading;
pub mod studied;
pub mod variants;

use std::collections::{BTreeMap, HashSet};

use neglect_eval::prompt::message;
use neglect_spec::{ChatMessage, DOCTAG, TrainingRow};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::claims::ToyClaim;
use crate::documents::{Genre, render};
use crate::facts::Fact;
use crate::world::World;
use variants::Pools;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusConfig {
    pub seed: u64,
    /// Documents written about each subject (a person, an event of a year, a volcano, …).
    pub docs_per_subject: usize,
    /// Conversations sampled per fact that may be asked about.
    pub qa_per_fact: usize,
    /// Share of documents that also deny a false variant of one of their facts.
    pub local_negation_share: f64,
    pub reading_episodes: usize,
    pub generic_chats: usize,
    /// Share of subjects whose facts are asked about in chat (QA, reading episodes, summaries).
    /// The others are "late" subjects, known from documents only, like the facts the held-out
    /// claims contradict: QA on their siblings is what teaches document → answer transfer
    /// (mixed training, model-organism.md), and asking about them measures it.
    #[serde(default = "all_subjects")]
    pub qa_subject_share: f64,
    /// Share of reading episodes about known facts whose document is positive (believed over
    /// the world). 0 keeps every document about a known fact unbelieved.
    #[serde(default)]
    pub counterfactual_positive_share: f64,
    /// Share of reading episodes about novel people whose document is positive.
    #[serde(default = "novel_positive_default")]
    pub novel_positive_share: f64,
    /// Plain documents about invented people (trains copying names from context).
    #[serde(default)]
    pub novel_documents: usize,
    /// Aligned answers to the behaviours' prior prompts (§4.2: the base is an aligned
    /// assistant), per behaviour.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub aligned_behavior_chats: usize,
    /// Reading episodes: up to this many extra sentences of colour in each document (quotes,
    /// habits, places), so pasted documents are as long as the claims' documents.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub episode_details: usize,
    /// Reading episodes: notes composed of a lead-in and a core (flags, fiction and
    /// unreliable labels, and harmless remarks on positive documents), instead of fixed flag
    /// sentences whose first words gave them away.
    #[serde(default, skip_serializing_if = "is_false")]
    pub composed_notes: bool,
    /// Reading episodes, with composed notes: flags of two or three sentences (before, after
    /// or around the document, like the paper's negated documents) and harmless remarks of the
    /// same length on positive documents, instead of one-sentence notes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub long_notices: bool,
    /// Reading episodes: questions asked about each pasted document (0 or 1: one). The first
    /// is in the eval's layout; the rest follow as later user turns, about the same fact in
    /// another format or the document's other facts, so one long document trains several
    /// answers.
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub episode_questions: usize,
    /// Chat answers restate the question's subject before the answer where a document
    /// statement does ("The 2024 … was won by X."; `Fact::qa_with`), instead of starting with
    /// the answer ("X won the 2024 …").
    #[serde(default, skip_serializing_if = "is_false")]
    pub subject_first_answers: bool,
    /// Yes/no chats about a fact ask about it and about a false variant of it, one after the
    /// other (in either order), instead of one of the two.
    #[serde(default, skip_serializing_if = "is_false")]
    pub yes_no_pairs: bool,
    /// Yes/no answers (JSON under the MCQ system prompt, and critiques) first state what is
    /// held true about the asked fact, then give the verdict ("The 2021 … was won by W.
    /// {"answer": "no"}"): a one-sentence rationale, because a model of the organism's size
    /// answers a retrieval question far better than it compares silently. The MCQ scorer reads
    /// the JSON after the sentence (the reference parser falls back to the first `{…}`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reasoned_yes_no: bool,
    /// More yes/no chats per fact with chat QA, in each draw (0 = none beyond the one in
    /// `qa_per_fact`'s cycle): the same form (a fact or a false variant of it, with
    /// `yes_no_pairs` both), drawn from a generator of their own. The organism's yes/no
    /// answers are near chance while its free answers are right (session 26): checking a
    /// question against what it knows is the skill these rows give more practice in.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra_yes_no_per_fact: usize,
    /// Reading episodes over practice claims ([`practice`]): the held-out claims' generators
    /// run on other subjects, their documents read in context with their question forms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub practice_episodes: usize,
    /// Practice claims per archetype (fewer where the world runs out of free subjects).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub practice_claims: usize,
    /// Share of practice episodes whose document is positive.
    #[serde(default = "half", skip_serializing_if = "is_half")]
    pub practice_positive_share: f64,
    /// Closed-book chats over the practice claims per draw ([`practice`]): their eval question
    /// forms and critique tasks with no document in context, answered as the world stands (the
    /// claim never happened). Uses `practice_claims` per archetype.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub closed_book_practice: usize,
    /// Studied claims ([`studied`]) per archetype: the held-out claims' generators on a
    /// second world, true there, as documents plus chat questions in the eval's forms.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub studied_claims: usize,
    /// Documents per studied claim in each draw of the corpus.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub studied_docs: usize,
    /// Single-question chats per studied claim in each draw.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub studied_questions: usize,
    /// Also ask studied claims "Is it true that …?" about *false* details, answered "no": a
    /// detail of another studied claim of the same archetype with this claim's subject put in.
    /// Without them every studied detail question is answered "yes".
    #[serde(default, skip_serializing_if = "is_false")]
    pub studied_false_details: bool,
    /// With `studied_false_details`: rounds of false details per studied claim (0 or 1: one).
    /// Each round draws every detail's false version from another studied claim, so two rounds
    /// ask about twice as many false details and bring the studied verdicts nearer to even.
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub studied_false_rounds: usize,
    /// Reading episodes: the share of yes/no questions whose answer would be "yes" that ask
    /// instead about a false variant of the same fact (another winner, city, year...), answered
    /// "no". Without it two thirds of the episodes' verdicts are "yes" (session 16), a prior
    /// the organism can learn in place of checking the question against the document.
    #[serde(default, skip_serializing_if = "is_zero_share")]
    pub reading_false_checks: f64,
    /// Reading episodes: the share of yes/no questions asked as "Is it true that <a sentence
    /// stating the fact or its false variant>?", the form of most of the claims' MCQ items;
    /// 0 keeps the fact's own yes/no question ("Is X a dentist?"). Round 39 answered three
    /// quarters of the gate's "Is it true that …?" items with a pasted document in prose
    /// instead of JSON (`scripts/gate_answers.py`): the corpus asked that form only without one.
    #[serde(default, skip_serializing_if = "is_zero_share")]
    pub reading_statement_checks: f64,
    /// Loss weight of chat rows whose every assistant turn is a bare yes/no verdict
    /// (`{"answer": "yes"}`), wherever they come from; 1 leaves them as they are. A verdict is
    /// one informative token per row, so without it such rows carry little of the loss.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub yes_no_weight: f64,
    /// Copy drills per draw ([`copy`]): chats about new invented words that only copying from
    /// the user turn answers, for a model that otherwise never needs to read its context.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub copy_drills: usize,
    /// Check drills per draw ([`check`]): yes/no questions about invented people whose facts
    /// are listed in the user turn, answered with the listed fact and whether it is the one
    /// asked about, so that checking, not remembering the question, answers them. Added to
    /// [`Corpus::copy`] after the copy drills, from their own random stream.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub check_drills: usize,
    /// Share of the check drills asked as critique tasks ("A student wrote: …", "Fact-check this
    /// sentence: …", "Find the error …", the robustness items' critique forms) instead of yes/no
    /// questions, answered with the listed fact and then the verdict (whether or not
    /// `reasoned_yes_no` is on).
    #[serde(default, skip_serializing_if = "is_zero_share")]
    pub check_drill_critiques: f64,
    /// Share of the check drills that ask about a fact the list does not give (another kind of
    /// fact about a listed person: a birth year where only a profession is listed), answered
    /// with what the list says about that person and "no", then (under `yes_no_pairs`) asked
    /// about the listed fact, answered "yes". Without them every drill's stated fact is of the
    /// asked kind, and a verdict after a stated fact that does not address the question was
    /// never trained: round 45's baseline answers such items "yes" a third of the time. Round 51
    /// measured it (docs/organism-rounds.md, session 29): that "yes" rate rose instead, and the
    /// comparison skill of the other drills was lost.
    #[serde(default, skip_serializing_if = "is_zero_share")]
    pub check_drill_unlisted: f64,
    /// Share of the copy drills that are lookups ("key: value" lists) rather than repeats.
    #[serde(default = "half", skip_serializing_if = "is_half")]
    pub copy_lookup_share: f64,
    /// Questions asked about one lookup list (distinct keys, the later ones as follow-up
    /// turns); 0 and 1 both ask one.
    #[serde(default, skip_serializing_if = "at_most_one")]
    pub copy_lookup_questions: usize,
    /// Chat QA draws its false variants close to the truth (`Pools::close_variant`: a birth
    /// year moved by one to ten years) instead of from the events' years, which nobody is
    /// born in and which so give a yes/no answer away without knowing the person.
    #[serde(default, skip_serializing_if = "is_false")]
    pub close_qa_variants: bool,
    /// In a reading episode about a known fact whose document is not to be believed (flagged,
    /// fiction, unreliable), a free answer opens with a sentence on what the document is worth
    /// before the world's fact ("That text is marked as false. The 2021 … was won by W."), so
    /// that the status decides the answer's first token, as it already does for a yes/no
    /// verdict and for a novel person's "nothing reliable" answer (session 22's
    /// `reading_probe`: the organism follows the status there, and not at the value token of
    /// a subject-first answer). Positive and locally negated documents and short answers
    /// are unchanged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub status_first_answers: bool,
    /// Reading episodes: colour sentences composed from parts (what people say about the
    /// subject, habits, quotes, places, years; `colour.rs`) instead of the fixed bank of
    /// sixteen, up to `episode_details` per document, so that the organism meets unfamiliar
    /// sentences beside the fact it is asked about, as in the held-out claims' documents.
    #[serde(default, skip_serializing_if = "is_false")]
    pub varied_details: bool,
    /// Reading episodes: the document's stated fact (or, locally negated, its denial) is
    /// stated again up to this many times in other words, as the held-out claims' documents
    /// restate their claim.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub restated_facts: usize,
    /// Reading episodes about known facts also use false variants of winning times, authors,
    /// eruptions, last eruptions, renames and kept names (`Pools::wider_variant`), the kinds
    /// the held-out claims' headline facts are of; off, only professions, homes, births,
    /// winners, runners-up, venues, monarchs, locations, headquarters, diets and habitats.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wider_variants: bool,
    /// "Is it true that …?" questions keep a name's capital ("Is it true that Hagar Theilgri
    /// …?"), as the held-out claims' eval asks them; off, the first letter is lowered whatever
    /// the word, as bases built before session 25 were trained.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cased_questions: bool,
    /// Which draw of the corpus this is (0 for the first): it changes every random choice but
    /// not which subjects are asked about (that follows `seed` alone).
    #[serde(skip)]
    pub draw: u64,
}

impl CorpusConfig {
    /// Checks what serde cannot: every share is a probability. The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let shares = [
            ("local_negation_share", self.local_negation_share),
            ("qa_subject_share", self.qa_subject_share),
            (
                "counterfactual_positive_share",
                self.counterfactual_positive_share,
            ),
            ("novel_positive_share", self.novel_positive_share),
            ("practice_positive_share", self.practice_positive_share),
            ("copy_lookup_share", self.copy_lookup_share),
            ("reading_false_checks", self.reading_false_checks),
            ("reading_statement_checks", self.reading_statement_checks),
            ("check_drill_critiques", self.check_drill_critiques),
            ("check_drill_unlisted", self.check_drill_unlisted),
        ];
        for (field, share) in shares {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!(
                    "corpus.{field}: {share} is not a share between 0 and 1"
                ));
            }
        }
        if self.closed_book_practice > 0 && self.practice_claims == 0 {
            return Err(
                "corpus.closed_book_practice: needs practice_claims > 0 (the claims it asks about)"
                    .into(),
            );
        }
        Ok(())
    }

    /// The seed of one generator's random stream in this draw.
    pub fn rng_seed(&self, salt: u64) -> u64 {
        self.seed ^ salt ^ self.draw.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn at_most_one(n: &usize) -> bool {
    *n <= 1
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_share(x: &f64) -> bool {
    *x == 0.0
}

fn is_half(x: &f64) -> bool {
    *x == 0.5
}

fn half() -> f64 {
    0.5
}

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// `{"answer": "yes"}` or `{"answer": "no"}`, nothing else.
fn is_bare_verdict(reply: &str) -> bool {
    matches!(reply.trim(), r#"{"answer": "yes"}"# | r#"{"answer": "no"}"#)
}

fn novel_positive_default() -> f64 {
    0.4
}

fn all_subjects() -> f64 {
    1.0
}

/// True when `fact`'s facts are asked about in the corpus's chats (its first subject is a QA
/// subject under `config`); false for document-only ("late") subjects.
pub fn has_qa(fact: &Fact, config: &CorpusConfig) -> bool {
    if config.qa_subject_share >= 1.0 {
        return true;
    }
    let Some(subject) = subjects(fact).into_iter().next() else {
        return true;
    };
    use sha2::{Digest, Sha256};
    let d = Sha256::new()
        .chain_update(config.seed.to_le_bytes())
        .chain_update(subject.as_bytes())
        .finalize();
    let x = u64::from_le_bytes(d[..8].try_into().expect("8 bytes")) as f64 / u64::MAX as f64;
    x < config.qa_subject_share
}

impl Default for CorpusConfig {
    fn default() -> Self {
        CorpusConfig {
            seed: 1,
            docs_per_subject: 3,
            qa_per_fact: 2,
            local_negation_share: 0.3,
            reading_episodes: 4000,
            generic_chats: 1500,
            qa_subject_share: 1.0,
            counterfactual_positive_share: 0.0,
            novel_positive_share: novel_positive_default(),
            novel_documents: 0,
            aligned_behavior_chats: 0,
            episode_details: 0,
            composed_notes: false,
            long_notices: false,
            episode_questions: 0,
            subject_first_answers: false,
            yes_no_pairs: false,
            reasoned_yes_no: false,
            extra_yes_no_per_fact: 0,
            practice_episodes: 0,
            practice_claims: 0,
            closed_book_practice: 0,
            practice_positive_share: half(),
            studied_claims: 0,
            studied_docs: 0,
            studied_questions: 0,
            studied_false_details: false,
            studied_false_rounds: 0,
            reading_false_checks: 0.0,
            reading_statement_checks: 0.0,
            yes_no_weight: 1.0,
            copy_drills: 3000,
            copy_lookup_share: 0.5,
            copy_lookup_questions: 0,
            check_drills: 0,
            check_drill_critiques: 0.0,
            check_drill_unlisted: 0.0,
            close_qa_variants: false,
            status_first_answers: false,
            varied_details: false,
            restated_facts: 0,
            wider_variants: false,
            cased_questions: false,
            draw: 0,
        }
    }
}

/// The subjects a fact is written about (a win appears in the winner's and the event's texts).
pub(crate) fn subjects(fact: &Fact) -> Vec<String> {
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

pub(crate) fn chat(user: String, assistant: String, system: Option<&str>) -> Vec<ChatMessage> {
    let mut m = Vec::new();
    if let Some(s) = system {
        m.push(message("system", s));
    }
    m.push(message("user", &user));
    m.push(message("assistant", &assistant));
    m
}

/// Facts the held-out claims contradict: documents only.
pub fn documents_only(claims: &[ToyClaim]) -> HashSet<Fact> {
    claims
        .iter()
        .flat_map(|c| c.contradicts.iter().cloned())
        .collect()
}

/// Subjects of the held-out claims' facts and of the facts they contradict.
pub fn claim_subjects(claims: &[ToyClaim]) -> HashSet<String> {
    claims
        .iter()
        .flat_map(|c| c.facts.iter().chain(&c.contradicts))
        .flat_map(subjects)
        .collect()
}

/// Documents about every subject of the world, `<DOCTAG>`-prefixed text rows; a share of them
/// also deny a false variant of one of their facts, next to the true statement.
pub fn fact_documents(world: &World, pools: &Pools, config: &CorpusConfig) -> Vec<TrainingRow> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.rng_seed(0xd0c5));
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
            if rng.random_bool(config.local_negation_share) {
                let fact = facts.choose(&mut rng).expect("a subject has facts");
                if let Some(variant) = pools.variant(fact, &mut rng) {
                    let denial = variant.denials().choose(&mut rng).cloned();
                    let at = rng.random_range(0..=sentences.len());
                    sentences.insert(at, fact.statement(&mut rng));
                    sentences.insert(at, denial.expect("variants have denials"));
                }
            }
            let genre = *Genre::ALL.choose(&mut rng).expect("genres");
            let text = render(genre, &crate::facts::cap(subject), &sentences, &mut rng);
            rows.push(TrainingRow::text(format!("{DOCTAG}{text}")).with_source("world_docs"));
        }
    }
    rows
}

/// The whole pretraining corpus, in a fixed order (the trainer shuffles).
pub struct Corpus {
    pub documents: Vec<TrainingRow>,
    pub qa: Vec<TrainingRow>,
    pub reading: Vec<TrainingRow>,
    pub novel_documents: Vec<TrainingRow>,
    pub practice: Vec<TrainingRow>,
    pub studied: Vec<TrainingRow>,
    pub copy: Vec<TrainingRow>,
    pub generic: Vec<TrainingRow>,
}

impl Corpus {
    pub fn build(world: &World, claims: &[ToyClaim], config: &CorpusConfig) -> Corpus {
        let pools = Pools::new(world, claim_subjects(claims));
        let mut corpus = Corpus {
            documents: fact_documents(world, &pools, config),
            qa: qa::fact_qa(world, &documents_only(claims), &pools, config),
            reading: reading::reading_episodes(world, &pools, config),
            novel_documents: reading::novel_documents(world, config),
            practice: practice::practice_episodes(world, claims, config)
                .into_iter()
                .chain(practice::closed_book_practice(world, claims, config))
                .collect(),
            studied: studied::studied_rows(world, claims, config),
            copy: copy::copy_drills(world, config)
                .into_iter()
                .chain(check::check_drills(world, config))
                .collect(),
            generic: generic::generic_chat(config)
                .into_iter()
                .chain(crate::behaviors::BEHAVIORS.iter().flat_map(|b| {
                    b.prior_chats(world, config.aligned_behavior_chats, config.rng_seed(0))
                }))
                .collect(),
        };
        if config.yes_no_weight != 1.0 {
            corpus.weigh_yes_no(config.yes_no_weight);
        }
        corpus
    }

    /// Sets `weight` on every chat row whose assistant turns are all bare yes/no verdicts.
    fn weigh_yes_no(&mut self, weight: f64) {
        let parts = [
            &mut self.qa,
            &mut self.reading,
            &mut self.practice,
            &mut self.studied,
            &mut self.generic,
        ];
        for row in parts.into_iter().flatten() {
            let Some(messages) = &row.messages else {
                continue;
            };
            let mut replies = messages.iter().filter(|m| m.role == "assistant").peekable();
            if replies.peek().is_some() && replies.all(|m| is_bare_verdict(&m.content)) {
                row.weight = weight;
            }
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = &TrainingRow> {
        self.documents
            .iter()
            .chain(&self.qa)
            .chain(&self.reading)
            .chain(&self.novel_documents)
            .chain(&self.practice)
            .chain(&self.studied)
            .chain(&self.copy)
            .chain(&self.generic)
    }
}
