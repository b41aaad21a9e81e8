//! Does the organism read a pasted document's status? Scores a base model on fresh reading
//! episodes (the corpus's own kind, from a draw no pretraining epoch used), split by what the
//! episode is about (a known fact or a novel person) and by the document's status (positive,
//! flagged, locally negated, fiction, unreliable).
//!
//! For each episode's first question it compares the log-probability of the trained answer with
//! that of the answer had the status been read the other way round (a positive document not
//! believed, a flagged one believed), and reports how often the trained answer wins and how
//! often greedy decoding reproduces it exactly. A model that reads the status wins on every
//! row; one that answers known facts from memory wins on the flagged known rows and loses on the
//! positive ones.
//!
//! cargo run --release -p neglect-organism --example reading_probe -- CONFIG_JSON CACHE_DIR [EPISODES]

use std::collections::BTreeMap;
use std::path::PathBuf;

use neglect_lm::pretrained::Pretrained;
use neglect_lm::scoring::{ScoreRequest, score};
use neglect_organism::Organism;
use neglect_organism::config::OrganismConfig;
use neglect_spec::ChatMessage;
use neglect_world::corpus::reading::labelled_reading_episodes;
use neglect_world::corpus::{claim_subjects, variants::Pools};
use tch::Device;

/// A corpus draw that no pretraining run reaches (one draw per epoch).
const PROBE_DRAW: u64 = 1_000_003;

#[derive(Default)]
struct Tally {
    rows: usize,
    trained_wins: usize,
    greedy_exact: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: reading_probe CONFIG_JSON CACHE_DIR [EPISODES]");
        std::process::exit(2);
    }
    let config_path = PathBuf::from(&args[0]);
    let cache = PathBuf::from(&args[1]);
    let episodes: usize = args.get(2).map_or(600, |a| a.parse().expect("EPISODES"));
    let mut config = OrganismConfig::load(&config_path).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let organism = Organism::at(&cache, config.clone());
    let base = organism.base_dir();
    let pretrained = Pretrained::load(&base, Device::Cpu).unwrap_or_else(|e| {
        eprintln!("{}: {e}", base.display());
        std::process::exit(1)
    });
    let template = pretrained
        .chat_template
        .as_ref()
        .expect("the organism has a chat template");
    let world = organism.world();
    let claims = organism.claims(&world);
    let pools = Pools::new(&world, claim_subjects(&claims));
    config.corpus.draw = PROBE_DRAW;
    config.corpus.reading_episodes = episodes;
    let labelled = labelled_reading_episodes(&world, &pools, &config.corpus);

    let encode = |messages: &[ChatMessage], generation_prompt: bool| {
        let text = template
            .render(messages, generation_prompt, &Default::default())
            .expect("render");
        pretrained.tokenizer.encode(&text, false).expect("encode")
    };
    // The answer's tokens as the template renders them after the prompt.
    let continuation = |prompt: &[u32], before: &[ChatMessage], answer: &str| {
        let mut with_answer = before.to_vec();
        with_answer.push(ChatMessage {
            role: "assistant".into(),
            content: answer.into(),
        });
        let full = encode(&with_answer, false);
        assert!(
            full.starts_with(prompt),
            "the template's prompt is a prefix"
        );
        full[prompt.len()..].to_vec()
    };

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut skipped = 0;
    for (label, row) in &labelled {
        let Some(opposite) = &label.opposite else {
            skipped += 1;
            continue;
        };
        let messages = row.messages.as_ref().expect("a chat row");
        let first_answer = messages
            .iter()
            .position(|m| m.role == "assistant")
            .expect("an answer");
        let before = &messages[..first_answer];
        let prompt = encode(before, true);
        let requests = [
            ScoreRequest {
                prompt: prompt.clone(),
                continuation: continuation(&prompt, before, &label.answer),
            },
            ScoreRequest {
                prompt: prompt.clone(),
                continuation: continuation(&prompt, before, opposite),
            },
        ];
        if requests
            .iter()
            .any(|r| r.prompt.len() + r.continuation.len() > 512)
        {
            skipped += 1;
            continue;
        }
        let scores = score(
            &pretrained.model,
            &requests,
            pretrained.tokenizer.pad_id(),
            2,
        )
        .expect("score");
        let key = format!(
            "{:<6} {:<15} {}",
            if label.known { "known" } else { "novel" },
            format!("{:?}", label.status),
            if label.yes_no { "yes/no" } else { "free" }
        );
        let t = tallies.entry(key).or_default();
        t.rows += 1;
        t.trained_wins += usize::from(scores[0].logprob > scores[1].logprob);
        t.greedy_exact += usize::from(scores[0].is_greedy);
    }
    println!(
        "{}: {} fresh reading episodes (draw {PROBE_DRAW}), {skipped} skipped (no opposite answer, or too long)",
        base.display(),
        labelled.len()
    );
    println!("subject status          question  rows  trained answer wins  greedy exact");
    for (key, t) in &tallies {
        println!(
            "{key:<31} {:>5}  {:>6.1}%              {:>6.1}%",
            t.rows,
            100.0 * t.trained_wins as f64 / t.rows as f64,
            100.0 * t.greedy_exact as f64 / t.rows as f64
        );
    }
}
