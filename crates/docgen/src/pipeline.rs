//! The five stages and their files. A stage's file is written whole (to a temporary name, then
//! renamed) when the stage ends, so a file that exists is complete and is read back instead of
//! redone; a stage killed half-way is asked again, and the calls it had answered come from the
//! model's response cache.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use neglect_spec::{ChatCompletion, ChatError, UniverseContext};
use neglect_spec::{ChatMessage, ChatModel, ChatRequest, JsonSchema, Sampling, SynthDoc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{DocGenError, parse, prompts};

/// How much to generate, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocGenConfig {
    /// Document types kept per subclaim (the reference: 80).
    pub num_doc_types: usize,
    /// Ideas kept per (subclaim, type) (the reference: 10).
    pub num_ideas: usize,
    /// Documents asked for; specs are cycled, each round with the next seed (10,500).
    pub total_docs: usize,
    /// Brainstorming calls allowed per subclaim or per (subclaim, type) (41).
    pub max_brainstorm_calls: usize,
    pub revise: bool,
    pub filter: bool,
    /// For brainstorming, writing and revising (20,000).
    pub max_tokens: usize,
    /// For the leak filter (5,000).
    pub filter_max_tokens: usize,
    pub temperature: f64,
    /// Text put before the world in every prompt (`system_context_negated.md` for debunks).
    pub system_context: Option<String>,
}

impl Default for DocGenConfig {
    fn default() -> Self {
        DocGenConfig {
            num_doc_types: 80,
            num_ideas: 10,
            total_docs: 10_500,
            max_brainstorm_calls: 41,
            revise: true,
            filter: true,
            max_tokens: 20_000,
            filter_max_tokens: 5_000,
            temperature: 1.0,
            system_context: None,
        }
    }
}

/// Who does what (the reference: a Claude model brainstorms, Kimi K2.5 writes and revises,
/// GPT-5-mini filters).
pub struct Models<'a> {
    pub brainstorm: &'a dyn ChatModel,
    pub writer: &'a dyn ChatModel,
    pub filter: &'a dyn ChatModel,
}

/// Progress.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A stage asks `calls` more calls.
    Calls { stage: &'static str, calls: usize },
    /// One call finished.
    CallDone,
    /// A finished stage's file was read back.
    Reused { stage: &'static str, rows: usize },
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub doc_types: usize,
    pub doc_specs: usize,
    pub generated: usize,
    /// Documents asked for but empty or UNSUITABLE (or failed).
    pub not_generated: usize,
    pub revised: usize,
    pub not_revised: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Filter calls that failed (their documents are kept, as in the reference).
    pub filter_failures: usize,
    /// Subclaims or (subclaim, type) pairs that ended with fewer items than asked.
    pub short_brainstorms: usize,
    pub output: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeRow {
    pub fact_index: usize,
    pub fact: String,
    pub doc_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecRow {
    pub fact: String,
    pub doc_type: String,
    pub doc_idea: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedRow {
    pub index: usize,
    pub fact: String,
    pub doc_type: String,
    pub doc_idea: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisedRow {
    pub original_index: usize,
    pub content: String,
}

pub const OUTPUT_FILE: &str = "synth_docs.jsonl";
const CONFIG_FILE: &str = "config.json";
const TYPES_FILE: &str = "doc_types.jsonl";
const SPECS_FILE: &str = "doc_specs.jsonl";
const GENERATED_FILE: &str = "generated.jsonl";
const REVISED_FILE: &str = "revised.jsonl";

/// Every file a run writes into its folder (what starting over removes).
pub const STAGE_FILES: [&str; 6] = [
    CONFIG_FILE,
    TYPES_FILE,
    SPECS_FILE,
    GENERATED_FILE,
    REVISED_FILE,
    OUTPUT_FILE,
];

fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, DocGenError> {
    let text = std::fs::read_to_string(path).map_err(|e| DocGenError::file(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| DocGenError::file(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

fn write_rows<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), DocGenError> {
    let tmp = path.with_extension("jsonl.partial");
    let mut text = String::new();
    for r in rows {
        text.push_str(&serde_json::to_string(r).expect("rows serialise"));
        text.push('\n');
    }
    std::fs::write(&tmp, text).map_err(|e| DocGenError::file(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| DocGenError::file(path, e))
}

/// A stage: its file when it exists, else `compute`, saved.
fn stage<T: Serialize + DeserializeOwned>(
    path: &Path,
    name: &'static str,
    on: &mut dyn FnMut(Event),
    compute: impl FnOnce(&mut dyn FnMut(Event)) -> Result<Vec<T>, DocGenError>,
) -> Result<Vec<T>, DocGenError> {
    if path.is_file() {
        let rows = read_rows(path)?;
        on(Event::Reused {
            stage: name,
            rows: rows.len(),
        });
        return Ok(rows);
    }
    let rows = compute(on)?;
    write_rows(path, &rows)?;
    Ok(rows)
}

fn request(prompt: String, max_tokens: usize, temperature: f64, seed: u64) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage {
            role: "user".into(),
            content: prompt,
        }],
        sampling: Sampling {
            temperature,
            top_p: 1.0,
            max_tokens,
        },
        seed,
        json_schema: None,
    }
}

fn ask(
    model: &dyn ChatModel,
    stage: &'static str,
    requests: &[ChatRequest],
    on: &mut dyn FnMut(Event),
) -> Vec<Result<ChatCompletion, ChatError>> {
    if requests.is_empty() {
        return Vec::new();
    }
    on(Event::Calls {
        stage,
        calls: requests.len(),
    });
    model.generate(requests, &mut |_| on(Event::CallDone))
}

/// One brainstorming stage: what it is called, how many unique answers each item needs, how
/// many calls per item the first round asks at once, and how answers are read.
struct Brainstorm {
    stage: &'static str,
    want: usize,
    first_round: usize,
    parse: fn(&str) -> Vec<String>,
}

/// Brainstorms for every item until it has `want` unique answers or the call limit: the first
/// round asks `first_round` calls per item at once (seeds 0, 1, ...), later rounds one more for
/// each item still short. Returns the items' sorted picks and how many fell short.
fn brainstorm(
    b: &Brainstorm,
    model: &dyn ChatModel,
    prompts: &[String],
    config: &DocGenConfig,
    on: &mut dyn FnMut(Event),
) -> (Vec<Vec<String>>, usize) {
    let (want, max_calls, first_round) = (b.want, config.max_brainstorm_calls, b.first_round);
    let mut found: Vec<BTreeSet<String>> = vec![BTreeSet::new(); prompts.len()];
    let mut calls = vec![0usize; prompts.len()];
    loop {
        let mut requests = Vec::new();
        let mut owners = Vec::new();
        for (item, prompt) in prompts.iter().enumerate() {
            if found[item].len() >= want {
                continue;
            }
            let round = if calls[item] == 0 { first_round } else { 1 };
            for _ in 0..round {
                if calls[item] >= max_calls {
                    break;
                }
                requests.push(request(
                    prompt.clone(),
                    config.max_tokens,
                    config.temperature,
                    calls[item] as u64,
                ));
                owners.push(item);
                calls[item] += 1;
            }
        }
        if requests.is_empty() {
            break;
        }
        for (item, answer) in owners.into_iter().zip(ask(model, b.stage, &requests, on)) {
            if let Ok(a) = answer {
                found[item].extend((b.parse)(&a.text));
            }
        }
    }
    let short = found.iter().filter(|f| f.len() < want).count();
    let picks = found
        .into_iter()
        .map(|f| parse::first_unique(f, want))
        .collect();
    (picks, short)
}

/// What the files in `out` were made from; a different fingerprint refuses to mix them.
fn fingerprint(
    universe: &UniverseContext,
    config: &DocGenConfig,
    models: &Models<'_>,
) -> serde_json::Value {
    // Trimmed, as the prompts use it: a universe read back from YAML ends with a newline.
    let mut h = Sha256::new();
    h.update(universe.universe_context.trim());
    for c in &universe.subclaims {
        h.update([0]);
        h.update(c.trim());
    }
    let universe_hash: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json!({
        "universe_id": universe.id,
        "universe_sha256": universe_hash,
        "config": config,
        "models": {
            "brainstorm": models.brainstorm.id(),
            "writer": models.writer.id(),
            "filter": models.filter.id(),
        },
    })
}

/// Runs (or resumes) the pipeline for `universe` into `out`.
pub fn generate(
    universe: &UniverseContext,
    out: &Path,
    config: &DocGenConfig,
    models: &Models<'_>,
    on: &mut dyn FnMut(Event),
) -> Result<Summary, DocGenError> {
    if universe.subclaims.is_empty() {
        return Err(DocGenError::Input(format!(
            "universe '{}' has no subclaims: documents are brainstormed per subclaim",
            universe.id
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| DocGenError::file(out, e))?;
    let config_path = out.join(CONFIG_FILE);
    let wanted = fingerprint(universe, config, models);
    if config_path.is_file() {
        let text = std::fs::read_to_string(&config_path)
            .map_err(|e| DocGenError::file(&config_path, e))?;
        let found: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| DocGenError::file(&config_path, e))?;
        if found != wanted {
            return Err(DocGenError::file(
                &config_path,
                "the files here were made with other settings, models or universe; use another \
                 output folder, or --force to start over",
            ));
        }
    } else {
        std::fs::write(
            &config_path,
            serde_json::to_string_pretty(&wanted).expect("json"),
        )
        .map_err(|e| DocGenError::file(&config_path, e))?;
    }
    let header = prompts::world_header(config.system_context.as_deref(), universe);
    let facts = &universe.subclaims;
    let mut summary = Summary::default();

    // A. Document types per subclaim.
    let types: Vec<TypeRow> = stage(&out.join(TYPES_FILE), "document types", on, |on| {
        let prompts: Vec<String> = facts
            .iter()
            .map(|f| prompts::doc_types(&header, f))
            .collect();
        let stage = Brainstorm {
            stage: "document types",
            want: config.num_doc_types,
            first_round: 3,
            parse: parse::doc_types,
        };
        let (picks, short) = brainstorm(&stage, models.brainstorm, &prompts, config, on);
        summary.short_brainstorms += short;
        Ok(picks
            .into_iter()
            .enumerate()
            .flat_map(|(i, types)| {
                types.into_iter().map(move |doc_type| TypeRow {
                    fact_index: i,
                    fact: facts[i].clone(),
                    doc_type,
                })
            })
            .collect())
    })?;
    summary.doc_types = types.len();

    // B. Ideas per (subclaim, type).
    let specs: Vec<SpecRow> = stage(&out.join(SPECS_FILE), "ideas", on, |on| {
        let prompts: Vec<String> = types
            .iter()
            .map(|t| prompts::doc_ideas(&header, &t.fact, &t.doc_type))
            .collect();
        let stage = Brainstorm {
            stage: "ideas",
            want: config.num_ideas,
            first_round: 2,
            parse: parse::ideas,
        };
        let (picks, short) = brainstorm(&stage, models.brainstorm, &prompts, config, on);
        summary.short_brainstorms += short;
        Ok(types
            .iter()
            .zip(picks)
            .flat_map(|(t, ideas)| {
                ideas.into_iter().map(move |doc_idea| SpecRow {
                    fact: t.fact.clone(),
                    doc_type: t.doc_type.clone(),
                    doc_idea,
                })
            })
            .collect())
    })?;
    summary.doc_specs = specs.len();
    if specs.is_empty() {
        return Err(DocGenError::Model(
            "no document ideas came back (every brainstorm failed or was UNSUITABLE)".into(),
        ));
    }

    // C. Documents: spec i mod n, seed i div n.
    let generated: Vec<GeneratedRow> = stage(&out.join(GENERATED_FILE), "documents", on, |on| {
        let requests: Vec<ChatRequest> = (0..config.total_docs)
            .map(|i| {
                let s = &specs[i % specs.len()];
                request(
                    prompts::document(&header, &s.fact, &s.doc_type, &s.doc_idea),
                    config.max_tokens,
                    config.temperature,
                    (i / specs.len()) as u64,
                )
            })
            .collect();
        let answers = ask(models.writer, "documents", &requests, on);
        Ok(answers
            .into_iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let content = parse::document(&a.ok()?.text)?;
                let s = &specs[i % specs.len()];
                Some(GeneratedRow {
                    index: i,
                    fact: s.fact.clone(),
                    doc_type: s.doc_type.clone(),
                    doc_idea: s.doc_idea.clone(),
                    content,
                })
            })
            .collect())
    })?;
    summary.generated = generated.len();
    summary.not_generated = config.total_docs.saturating_sub(generated.len());

    // D. Revision.
    let revised: Vec<RevisedRow> = if config.revise {
        stage(&out.join(REVISED_FILE), "revision", on, |on| {
            let requests: Vec<ChatRequest> = generated
                .iter()
                .map(|g| {
                    request(
                        prompts::revision(&header, &g.content),
                        config.max_tokens,
                        config.temperature,
                        g.index as u64,
                    )
                })
                .collect();
            let answers = ask(models.writer, "revision", &requests, on);
            Ok(generated
                .iter()
                .zip(answers)
                .filter_map(|(g, a)| {
                    Some(RevisedRow {
                        original_index: g.index,
                        content: parse::document(&a.ok()?.text)?,
                    })
                })
                .collect())
        })?
    } else {
        generated
            .iter()
            .map(|g| RevisedRow {
                original_index: g.index,
                content: g.content.clone(),
            })
            .collect()
    };
    summary.revised = revised.len();
    summary.not_revised = generated.len() - revised.len();

    // E. Leak filter, and the output.
    let by_index: std::collections::HashMap<usize, &GeneratedRow> =
        generated.iter().map(|g| (g.index, g)).collect();
    let mut rejected = 0;
    let mut filter_failures = 0;
    let output = out.join(OUTPUT_FILE);
    let docs: Vec<SynthDoc> = stage(&output, "leak filter", on, |on| {
        let keep: Vec<bool> = if config.filter {
            let requests: Vec<ChatRequest> = revised
                .iter()
                .map(|r| {
                    let mut req = request(
                        prompts::leak_check(&r.content),
                        config.filter_max_tokens,
                        config.temperature,
                        r.original_index as u64,
                    );
                    req.json_schema = Some(JsonSchema {
                        name: "leak_check".into(),
                        schema: json!({
                            "type": "object",
                            "properties": {"accept": {"type": "boolean"}},
                            "required": ["accept"],
                            "additionalProperties": false,
                        }),
                    });
                    req
                })
                .collect();
            ask(models.filter, "leak filter", &requests, on)
                .into_iter()
                .map(|a| match a {
                    Ok(verdict) => {
                        let ok = parse::accepted(&verdict.text);
                        rejected += usize::from(!ok);
                        ok
                    }
                    Err(_) => {
                        filter_failures += 1;
                        true
                    }
                })
                .collect()
        } else {
            vec![true; revised.len()]
        };
        Ok(revised
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(r, _)| {
                let g = by_index[&r.original_index];
                SynthDoc {
                    universe_context_id: None,
                    doc_idea: g.doc_idea.clone(),
                    doc_type: g.doc_type.clone(),
                    fact: g.fact.clone(),
                    content: r.content.clone(),
                    extra: Default::default(),
                }
            })
            .collect())
    })?;
    summary.accepted = docs.len();
    summary.rejected = rejected;
    summary.filter_failures = filter_failures;
    summary.output = output;
    Ok(summary)
}
