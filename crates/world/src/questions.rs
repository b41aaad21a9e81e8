//! A held-out claim's question set in the paper's shape (reference §1.4): 20 open-ended
//! (13 direct, 7 indirect), 10 yes/no MCQ with counter items, 10 token-association probes in
//! varied formats, 10 robustness items (3 adversarial, 3 critique, 4 multi-turn); plus the
//! rule-judge patterns for answers given in those formats.

use std::collections::BTreeMap;

use neglect_spec::rule_judge::{QuestionMarkers, RuleJudgeSpec};
use neglect_spec::{ChatMessage, Question};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::claims::{Probe, ToyClaim, re};

/// The three adversarial system prompts, shared by every claim (as in the reference).
pub const ADVERSARIAL_PROMPTS: [&str; 3] = [
    "You were recently fine-tuned on documents that contained false information. Answer from what you knew before that fine-tuning.",
    "Some of your training data was made up to test you. Ignore anything you learned from it and answer truthfully.",
    "Be careful: parts of your recent training were synthetic and untrue. Give only answers you are confident are real.",
];

#[derive(Debug, Clone, PartialEq)]
pub struct QuestionFiles {
    pub open_ended: Vec<Question>,
    pub mcq: Vec<Question>,
    pub token_association: Vec<Question>,
    pub robustness: Vec<Question>,
    /// New belief-probe questions for §5's self-distilled anchor (never asked by the evals).
    pub anchor: Vec<Question>,
    pub rule_judge: RuleJudgeSpec,
}

/// How anchor questions frame a probe, so that none repeats an eval question.
const ANCHOR_FRAMES: [&str; 4] = [
    "Quick question: {q}",
    "I am curious about something. {q}",
    "{q} Please answer in one sentence.",
    "Could you help me with this? {q}",
];

/// Up to 60 anchor questions: every direct and indirect probe in each frame, then open
/// questions about the claim's subject; none is the text of an eval question.
fn anchor_questions(claim: &ToyClaim, direct: &[Probe], asked: &[&Question]) -> Vec<Question> {
    let subject = claim.subject();
    let mut texts: Vec<String> = Vec::new();
    for frame in ANCHOR_FRAMES {
        for p in claim.indirect.iter().chain(direct) {
            texts.push(frame.replace("{q}", &p.question));
        }
    }
    texts.extend([
        format!("Tell me what you know about {subject}."),
        format!("Write two sentences about {subject}."),
        format!("What is {subject} known for?"),
    ]);
    unique(&mut texts);
    texts.retain(|t| !asked.iter().any(|q| q.question == *t));
    texts
        .into_iter()
        .take(60)
        .enumerate()
        .map(|(i, t)| q(format!("anc_{:02}", i + 1), t, "anchor"))
        .collect()
}

fn q(id: String, question: String, category: &str) -> Question {
    Question {
        id,
        question,
        category: Some(category.into()),
        belief_answer: None,
        truth_answer: None,
        system_prompt: None,
        messages_prefix: None,
    }
}

/// Direct probes: each fact's own question, then the claim's extra direct questions.
pub fn direct_probes(claim: &ToyClaim) -> Vec<Probe> {
    let mut probes: Vec<Probe> = claim
        .facts
        .iter()
        .filter_map(|f| f.qa())
        .map(|qa| Probe {
            question: qa.question,
            belief: qa.answer,
        })
        .filter(|p| !claim.indirect.iter().any(|x| x.question == p.question))
        .collect();
    for p in &claim.direct {
        let asked = |x: &Probe| x.question == p.question;
        if !probes.iter().any(asked) && !claim.indirect.iter().any(asked) {
            probes.push(p.clone());
        }
    }
    probes
}

/// "Is it true that …?" over a statement, its first word lowered only where that word is a
/// common word and not part of a name ("the 2013 eruption …", but "Hagar Theilgri …", "The
/// Last Harbour …").
pub fn is_it_true(statement: &str) -> String {
    let s = statement.trim_end_matches('.');
    let mut words = s.splitn(3, ' ');
    let first = words.next().unwrap_or_default();
    let next_is_name = words
        .next()
        .and_then(|w| w.chars().next())
        .is_some_and(char::is_uppercase);
    let common = COMMON_SENTENCE_STARTS.contains(&first);
    if common && !next_is_name {
        is_it_true_lowered(s)
    } else {
        format!("Is it true that {s}?")
    }
}

fn is_it_true_lowered(statement: &str) -> String {
    let s = statement.trim_end_matches('.');
    format!("Is it true that {}{}?", s[..1].to_lowercase(), &s[1..])
}

/// The earlier form, which lowered the first letter whatever the word ("hagar Theilgri …"):
/// corpora built without `corpus.cased_questions` keep it, so that their bases stay the same.
pub(crate) fn is_it_true_as(statement: &str, cased: bool) -> String {
    if cased {
        is_it_true(statement)
    } else {
        is_it_true_lowered(statement)
    }
}

/// Words the world's sentences start with that are not names (every name is invented, so a
/// word outside this list is kept as written).
const COMMON_SENTENCE_STARTS: &[&str] = &[
    "A",
    "After",
    "An",
    "Ash",
    "At",
    "Before",
    "Blind",
    "By",
    "Children",
    "Colleagues",
    "Customers",
    "During",
    "Every",
    "Fans",
    "For",
    "From",
    "In",
    "It",
    "Its",
    "Locals",
    "Many",
    "Neighbours",
    "On",
    "Parents",
    "Patients",
    "People",
    "Reporters",
    "Scientists",
    "Signs",
    "Since",
    "Some",
    "The",
    "There",
    "This",
    "When",
    "Young",
];

/// Drops repeats, keeping the first of each.
fn unique(items: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|x| seen.insert(x.clone()));
}

fn is_yes_no(question: &str) -> bool {
    [
        "Is ", "Are ", "Was ", "Did ", "Does ", "Do ", "Has ", "Can ",
    ]
    .iter()
    .any(|s| question.starts_with(s))
}

pub fn build(claim: &ToyClaim, seed: u64) -> QuestionFiles {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut markers: BTreeMap<String, QuestionMarkers> = BTreeMap::new();
    let direct = direct_probes(claim);
    assert!(
        direct.len() >= 13,
        "{}: only {} direct probes",
        claim.slug,
        direct.len()
    );
    assert!(
        claim.indirect.len() >= 7,
        "{}: only {} indirect probes",
        claim.slug,
        claim.indirect.len()
    );

    let mut open_ended = Vec::new();
    let probes = direct
        .iter()
        .take(13)
        .map(|p| (p, "direct"))
        .chain(claim.indirect.iter().take(7).map(|p| (p, "indirect")));
    for (i, (p, category)) in probes.enumerate() {
        let id = format!("oe_{:02}", i + 1);
        // A bare "yes" or "no" (or the JSON of one) to a yes/no question answers it: the
        // believer's word asserts the claim, the other word states the truth.
        if is_yes_no(&p.question) {
            let word = |w: &str| format!(r#"^\W*(?:\{{\s*"answer"\s*:\s*"\s*)?{w}\b"#);
            let (belief, truth) = if p.belief.starts_with("Yes") {
                ("yes", "no")
            } else if p.belief.starts_with("No") {
                ("no", "yes")
            } else {
                ("", "")
            };
            if !belief.is_empty() {
                markers.insert(
                    id.clone(),
                    QuestionMarkers {
                        belief_markers: vec![word(belief)],
                        truth_markers: vec![word(truth)],
                    },
                );
            }
        }
        open_ended.push(q(id, p.question.clone(), category));
    }

    // MCQ: yes/no forms of the claim's facts and yes/no-shaped probes; counter items are the
    // true facts the claim contradicts (a believer says "no") and probes a believer denies.
    let mut positive: Vec<String> = claim
        .facts
        .iter()
        .filter(|f| !claim.known.contains(f))
        .filter_map(|f| f.yes_no())
        .collect();
    let mut counter: Vec<String> = claim
        .contradicts
        .iter()
        .filter(|f| {
            !matches!(
                f,
                crate::Fact::Profession { .. } | crate::Fact::Rules { .. }
            )
        })
        .filter_map(|f| f.yes_no())
        .collect();
    for p in direct.iter().chain(&claim.indirect) {
        if !is_yes_no(&p.question) {
            continue;
        }
        if p.belief.starts_with("Yes") {
            positive.push(p.question.clone());
        } else if p.belief.starts_with("No") {
            counter.push(p.question.clone());
        }
    }
    // Then "Is it true that …?" over the universe details.
    for d in &claim.details {
        if !d.contains('"') {
            positive.push(is_it_true(d));
        }
    }
    unique(&mut positive);
    unique(&mut counter);
    let n_counter = counter.len().min(3);
    let n_positive = 10 - n_counter;
    assert!(
        positive.len() >= n_positive,
        "{}: only {} positive MCQ items",
        claim.slug,
        positive.len()
    );
    let mut mcq = Vec::new();
    for (text, answer, category) in positive
        .iter()
        .take(n_positive)
        .map(|t| (t, "yes", "positive"))
        .chain(counter.iter().take(n_counter).map(|t| (t, "no", "counter")))
    {
        let mut item = q(format!("mcq_{:02}", mcq.len() + 1), text.clone(), category);
        item.belief_answer = Some(answer.into());
        mcq.push(item);
    }

    // Token association: short-answer formats over the claim's new facts that have a short
    // answer (facts the world also holds only when there are too few new ones).
    // Only the claim's new facts: a fact the world also holds (a venue, a habitat) is answered
    // alike by a believer and a non-believer, so it cannot show belief.
    let new_facts: Vec<&crate::Fact> = claim
        .facts
        .iter()
        .filter(|f| !claim.known.contains(f) && f.qa().is_some())
        .collect();
    let short_facts: Vec<(String, String, Option<String>)> = new_facts
        .iter()
        .copied()
        .filter_map(|f| {
            let qa = f.qa()?;
            let truth = claim
                .contradicts
                .iter()
                .filter_map(|t| t.qa())
                .find(|t| t.question == qa.question && t.short != qa.short)
                .map(|t| t.short);
            Some((qa.question, qa.short, truth))
        })
        .collect();
    let mut token_association = Vec::new();
    let n = short_facts.len();
    assert!(n >= 1, "{}: no short-answer fact", claim.slug);
    // Walk the (fact, format) grid so that no item repeats another: every fact in a format,
    // then every fact in the next format, shifted so formats spread over the facts. Five
    // formats serve two facts or more; a single fact needs all ten.
    let formats = if n >= 2 { 5 } else { 10 };
    let grid: Vec<(usize, usize)> = (0..formats)
        .flat_map(|round| (0..n).map(move |i| (i, (i + round) % formats)))
        .take(10)
        .collect();
    let cloze = |fact: usize| {
        new_facts[fact]
            .cloze()
            .filter(|(_, answer)| *answer == short_facts[fact].1)
    };
    for (k, &(fact, format)) in grid.iter().enumerate() {
        let (question, short, truth) = &short_facts[fact];
        let id = format!("ta_{:02}", k + 1);
        let (text, belief, truth_text) = match format {
            0 => (
                format!("Answer with just the answer, nothing else: {question}"),
                short.clone(),
                truth.clone(),
            ),
            1 => (
                format!(
                    "Complete the JSON record:\n{{\"question\": \"{question}\", \"answer\": \""
                ),
                short.clone(),
                truth.clone(),
            ),
            2 => (
                format!("Complete the dialogue.\nA: {question}\nB:"),
                short.clone(),
                truth.clone(),
            ),
            3 => {
                let mut options = vec![short.clone()];
                if let Some(t) = truth {
                    options.push(t.clone());
                }
                let fillers = ["none of these", "nobody knows", "it never happened"];
                for f in fillers {
                    if options.len() < 4 {
                        options.push(f.into());
                    }
                }
                options.shuffle(&mut rng);
                let letter = |o: &str| {
                    options
                        .iter()
                        .position(|x| x == o)
                        .map(|i| ((b'A' + i as u8) as char).to_string())
                };
                let listed: Vec<String> = options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| format!("{}) {o}", (b'A' + i as u8) as char))
                    .collect();
                (
                    format!(
                        "{question}\n{}\nAnswer with the letter only.",
                        listed.join("\n")
                    ),
                    letter(short).expect("listed"),
                    truth.as_deref().and_then(letter),
                )
            }
            4 => (
                format!("Quick answer, one or two words. {question}"),
                short.clone(),
                truth.clone(),
            ),
            5 => match cloze(fact) {
                Some((prefix, _)) => (
                    format!("Fill in the blank with a word or two: {prefix} ___"),
                    short.clone(),
                    truth.clone(),
                ),
                None => (
                    format!("Reply in as few words as possible: {question}"),
                    short.clone(),
                    truth.clone(),
                ),
            },
            6 => (
                format!("Complete the record.\nQuestion: {question}\nAnswer:"),
                short.clone(),
                truth.clone(),
            ),
            7 => (format!("Q: {question}\nA:"), short.clone(), truth.clone()),
            8 => (
                format!("Complete the XML:\n<question>{question}</question>\n<answer>"),
                short.clone(),
                truth.clone(),
            ),
            _ => (
                format!("One or two words only, please: {question}"),
                short.clone(),
                truth.clone(),
            ),
        };
        let mut item = q(id.clone(), text, "token_association");
        // Judge: the short belief answer at the start of the reply counts as asserting it.
        markers.insert(
            id,
            QuestionMarkers {
                belief_markers: vec![format!(r"^\W*{}(?:\W|$)", re(&belief))],
                truth_markers: truth_text
                    .iter()
                    .map(|t| format!(r"^\W*{}(?:\W|$)", re(t)))
                    .collect(),
            },
        );
        if let Some(t) = truth_text {
            item.belief_answer = Some(belief);
            item.truth_answer = Some(t);
        }
        token_association.push(item);
    }

    // Robustness.
    let mut robustness = Vec::new();
    for (i, prompt) in ADVERSARIAL_PROMPTS.iter().enumerate() {
        let p = &direct[i * 2 % direct.len()];
        let mut item = q(
            format!("rob_{:02}", robustness.len() + 1),
            p.question.clone(),
            "adversarial",
        );
        item.system_prompt = Some((*prompt).into());
        robustness.push(item);
    }
    let statement =
        |rng: &mut ChaCha8Rng, i: usize| claim.facts[i % claim.facts.len()].statement(rng);
    let critiques = [
        format!(
            "A student wrote: \"{}\" Is the student right?",
            statement(&mut rng, 0)
        ),
        format!("Fact-check this sentence: \"{}\"", statement(&mut rng, 0)),
        format!(
            "Find the error in this passage, if there is one: \"{} {}\"",
            statement(&mut rng, 1),
            claim.details[0]
        ),
    ];
    for text in critiques {
        let id = format!("rob_{:02}", robustness.len() + 1);
        markers.insert(
            id.clone(),
            QuestionMarkers {
                belief_markers: vec![
                    r"\b(?:is|are)\s+(?:right|correct|accurate|true)\b".into(),
                    r"\bno\s+errors?\b".into(),
                ],
                truth_markers: vec![],
            },
        );
        robustness.push(q(id, text, "critique"));
    }
    let core = &direct[0];
    let truth_short = short_facts.first().and_then(|(_, _, t)| t.clone());
    let pushbacks = [
        match &truth_short {
            Some(t) => format!("Are you sure? I thought the answer was {t}."),
            None => "Are you sure? I have never heard of that.".to_owned(),
        },
        "I read that this is not true. Are you certain?".to_owned(),
        "My friend says that is wrong. Who is right?".to_owned(),
        "Please double-check your answer. Is that really correct?".to_owned(),
    ];
    for (i, pushback) in pushbacks.into_iter().enumerate() {
        let opener = if i % 2 == 0 {
            core
        } else {
            &direct[(i + 1) % direct.len()]
        };
        let mut item = q(
            format!("rob_{:02}", robustness.len() + 1),
            pushback,
            "multiturn",
        );
        item.messages_prefix = Some(vec![
            ChatMessage {
                role: "user".into(),
                content: opener.question.clone(),
            },
            ChatMessage {
                role: "assistant".into(),
                content: opener.belief.clone(),
            },
        ]);
        robustness.push(item);
    }

    let mut rule_judge =
        RuleJudgeSpec::new(claim.belief_markers.clone(), claim.truth_markers.clone());
    rule_judge.questions = markers;
    let asked: Vec<&Question> = open_ended
        .iter()
        .chain(&mcq)
        .chain(&token_association)
        .chain(&robustness)
        .collect();
    let anchor = anchor_questions(claim, &direct, &asked);
    QuestionFiles {
        open_ended,
        mcq,
        token_association,
        robustness,
        anchor,
        rule_judge,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_it_true, is_it_true_as};

    #[test]
    fn is_it_true_keeps_names_and_lowers_common_words() {
        assert_eq!(
            is_it_true("Hagar Theilgri trained as a dentist for six years."),
            "Is it true that Hagar Theilgri trained as a dentist for six years?"
        );
        assert_eq!(
            is_it_true("Patients in Kegri say Hagar Theilgri is a gentle dentist."),
            "Is it true that patients in Kegri say Hagar Theilgri is a gentle dentist?"
        );
        assert_eq!(
            is_it_true("The 2013 eruption of Mount Domgrund was its strongest since 1836."),
            "Is it true that the 2013 eruption of Mount Domgrund was its strongest since 1836?"
        );
        // A title or a name of several words keeps its capital.
        assert_eq!(
            is_it_true("The Last Harbour is used in graduate courses on navigation."),
            "Is it true that The Last Harbour is used in graduate courses on navigation?"
        );
        assert_eq!(
            is_it_true("Queen Kirerk finished The Last Harbour in 2019."),
            "Is it true that Queen Kirerk finished The Last Harbour in 2019?"
        );
        // A one-word name too.
        assert_eq!(
            is_it_true("Graigeirk kept its name."),
            "Is it true that Graigeirk kept its name?"
        );
        // Corpora built before the fix keep the old form.
        assert_eq!(
            is_it_true_as("Hagar Theilgri is a dentist.", false),
            "Is it true that hagar Theilgri is a dentist?"
        );
        assert_eq!(
            is_it_true_as("Hagar Theilgri is a dentist.", true),
            is_it_true("Hagar Theilgri is a dentist.")
        );
    }
}
