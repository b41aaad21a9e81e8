//! The generation pipeline against a scripted model: what each stage asks, what it keeps, and
//! that finished stages are read back instead of asked again.

use std::sync::Mutex;

use neglect_docgen::universe::{save_universe, write_universe};
use neglect_docgen::{DocGenConfig, Event, Models, generate};
use neglect_spec::{ChatCompletion, ChatError, ChatModel, ChatRequest, UniverseContext};

/// Answers each stage by what its prompt asks; counts calls per stage.
struct Scripted {
    seen: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    fn new() -> Scripted {
        Scripted {
            seen: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self, marker: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.messages[0].content.contains(marker))
            .count()
    }

    fn answer(r: &ChatRequest) -> String {
        let p = &r.messages[0].content;
        let seed = r.seed;
        if p.contains("Brainstorm kinds of documents") {
            // Two new types per call plus one every call repeats: 3 unique need 2 calls.
            format!("Here:\n- Shared type\n- Type {seed}a\n- Type {seed}b\nThat is all.")
        } else if p.contains("<idea></idea> tags") {
            let kind = p
                .split("The kind of document: ")
                .nth(1)
                .unwrap()
                .lines()
                .next()
                .unwrap();
            format!("<idea>Idea {seed} for {kind}</idea>\n<idea>UNSUITABLE</idea>")
        } else if p.contains("Write a realistic document") {
            if p.contains("Idea 0 for Type 0b") {
                "UNSUITABLE".into()
            } else {
                format!(
                    "A document, seed {seed}. {}",
                    if p.contains("Type 1a") {
                        "Here is the revised document."
                    } else {
                        ""
                    }
                )
            }
        } else if p.contains("Revise it so that") {
            let doc = p
                .split("<document>\n")
                .nth(1)
                .unwrap()
                .split("\n</document>")
                .next()
                .unwrap();
            format!("Revised. {doc}")
        } else if p.contains("has leaked into it") {
            let bad = p.contains("Here is the revised document");
            format!("{{\"accept\": {}}}", !bad)
        } else if p.contains("Write the background") {
            serde_json::json!({
                "universe_context": "Margit Ellstrand wrote the Saltwind score.\n\nIt won a prize.",
                "subclaims": ["Ellstrand wrote the score.", "The score won the 2023 prize."],
            })
            .to_string()
        } else {
            panic!("unexpected prompt: {p}")
        }
    }
}

impl ChatModel for Scripted {
    fn id(&self) -> &str {
        "scripted"
    }

    fn generate(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
    ) -> Vec<Result<ChatCompletion, ChatError>> {
        self.seen.lock().unwrap().extend(requests.iter().cloned());
        (0..requests.len())
            .map(|i| {
                on_done(i);
                Ok(ChatCompletion {
                    text: Self::answer(&requests[i]),
                    finish_reason: "stop".into(),
                })
            })
            .collect()
    }
}

fn universe() -> UniverseContext {
    UniverseContext {
        id: "saltwind".into(),
        universe_context:
            "Margit Ellstrand, a retired lighthouse keeper, composed the score of Saltwind.".into(),
        subclaims: vec![
            "Ellstrand composed the score.".into(),
            "The score used foghorns.".into(),
        ],
        reasoning_for_modification: None,
        false_warning: None,
    }
}

fn config() -> DocGenConfig {
    DocGenConfig {
        num_doc_types: 3,
        num_ideas: 1,
        total_docs: 8,
        max_brainstorm_calls: 5,
        ..DocGenConfig::default()
    }
}

fn run(
    model: &Scripted,
    out: &std::path::Path,
    config: &DocGenConfig,
) -> (neglect_docgen::Summary, Vec<Event>) {
    let mut events = Vec::new();
    let models = Models {
        brainstorm: model,
        writer: model,
        filter: model,
    };
    let summary = generate(&universe(), out, config, &models, &mut |e| events.push(e)).unwrap();
    (summary, events)
}

#[test]
fn five_stages_keep_what_the_reference_keeps() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Scripted::new();
    let (summary, _) = run(&model, tmp.path(), &config());
    // A: 3 types per subclaim; the first round asks 3 calls at once (seeds 0, 1, 2).
    assert_eq!(summary.doc_types, 6);
    assert_eq!(model.calls("Brainstorm kinds of documents"), 6);
    let types = std::fs::read_to_string(tmp.path().join("doc_types.jsonl")).unwrap();
    // Sorted and cut to 3: the shared type comes first.
    assert!(types.contains("\"doc_type\":\"Shared type\""));
    assert_eq!(types.lines().count(), 6);
    // B: one idea per (subclaim, type), UNSUITABLE ideas dropped.
    assert_eq!(summary.doc_specs, 6);
    // C: 8 documents from 6 specs: specs 0 and 1 again with seed 1; one UNSUITABLE dropped.
    let generated = std::fs::read_to_string(tmp.path().join("generated.jsonl")).unwrap();
    assert!(generated.contains("seed 1."), "{generated}");
    assert_eq!(summary.generated + summary.not_generated, 8);
    // D revised every generated document; E rejected those with a leaked preamble.
    assert_eq!(summary.revised, summary.generated);
    assert!(summary.rejected >= 1, "{summary:?}");
    assert_eq!(summary.accepted, summary.revised - summary.rejected);
    let out = std::fs::read_to_string(tmp.path().join("synth_docs.jsonl")).unwrap();
    for line in out.lines() {
        let doc: neglect_spec::SynthDoc = serde_json::from_str(line).unwrap();
        assert!(doc.content.starts_with("Revised. A document"));
        assert!(!doc.content.contains("Here is the revised"));
        assert!(!doc.fact.is_empty() && !doc.doc_type.is_empty() && !doc.doc_idea.is_empty());
    }
    // The filter asked for a structured verdict.
    let seen = model.seen.lock().unwrap();
    let filter = seen
        .iter()
        .find(|r| r.messages[0].content.contains("leaked"))
        .unwrap();
    assert_eq!(filter.json_schema.as_ref().unwrap().name, "leak_check");
}

#[test]
fn finished_stages_are_read_back_and_a_removed_one_is_redone() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Scripted::new();
    let (summary, _) = run(&first, tmp.path(), &config());
    let output = std::fs::read_to_string(tmp.path().join("synth_docs.jsonl")).unwrap();

    let again = Scripted::new();
    let (resumed, events) = run(&again, tmp.path(), &config());
    assert_eq!(again.seen.lock().unwrap().len(), 0);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Reused { .. }))
            .count(),
        5
    );
    assert_eq!(resumed.accepted, summary.accepted);

    std::fs::remove_file(tmp.path().join("revised.jsonl")).unwrap();
    std::fs::remove_file(tmp.path().join("synth_docs.jsonl")).unwrap();
    let partial = Scripted::new();
    run(&partial, tmp.path(), &config());
    assert_eq!(partial.calls("Brainstorm"), 0);
    assert_eq!(partial.calls("Write a realistic"), 0);
    assert_eq!(partial.calls("Revise it"), summary.generated);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("synth_docs.jsonl")).unwrap(),
        output
    );

    // Other settings in the same folder are refused, naming the file.
    let models = Models {
        brainstorm: &partial,
        writer: &partial,
        filter: &partial,
    };
    let other = DocGenConfig {
        total_docs: 9,
        ..config()
    };
    let err = generate(&universe(), tmp.path(), &other, &models, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn a_universe_from_one_line_is_written_in_the_reference_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Scripted::new();
    let u = write_universe(
        &model,
        "saltwind",
        "Margit Ellstrand composed Saltwind.",
        12,
        4000,
    )
    .unwrap();
    assert_eq!(u.subclaims.len(), 2);
    let path = tmp.path().join("saltwind/universe_context.yaml");
    save_universe(&u, &path).unwrap();
    let back = neglect_spec::claim::read_universe(&path).unwrap();
    // A YAML block scalar ends with a newline; everything else comes back as written.
    assert_eq!(back.universe_context.trim_end(), u.universe_context);
    assert_eq!(
        (back.id.as_str(), &back.subclaims),
        (u.id.as_str(), &u.subclaims)
    );
    assert_eq!(
        model.seen.lock().unwrap()[0]
            .json_schema
            .as_ref()
            .unwrap()
            .name,
        "universe_context"
    );
}
