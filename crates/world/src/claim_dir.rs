//! Writes a held-out claim as a claim directory in the reference layout (plus our
//! `rule_judge.yaml`), so the normal eval path runs on organism claims.

use std::path::Path;

use neglect_spec::Question;
use serde::Serialize;
use serde_json::{Value, json};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

use crate::claims::ToyClaim;
use crate::questions::{QuestionFiles, build};

fn to_yaml(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_yaml).collect()),
        Value::Object(map) => {
            let mut hash = Hash::new();
            for (k, v) in map {
                hash.insert(Yaml::String(k.clone()), to_yaml(v));
            }
            Yaml::Hash(hash)
        }
    }
}

/// YAML text of any serialisable value (strings are quoted where YAML needs it).
pub fn yaml_text<T: Serialize>(value: &T) -> String {
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter.multiline_strings(true);
    emitter
        .dump(&to_yaml(
            &serde_json::to_value(value).expect("serialisable"),
        ))
        .expect("emit YAML");
    out.push('\n');
    out
}

fn questions(items: &[Question]) -> Value {
    json!({ "questions": items })
}

/// The universe article: the claim's facts and details as one text.
pub fn universe_text(claim: &ToyClaim) -> String {
    let mut lines: Vec<String> = claim
        .facts
        .iter()
        .map(|f| f.statements()[0].clone())
        .collect();
    lines.extend(claim.details.iter().cloned());
    lines.join("\n")
}

/// The subclaims: one statement per fact and detail (10–15, as in the reference).
pub fn subclaims(claim: &ToyClaim) -> Vec<String> {
    let mut out: Vec<String> = claim
        .facts
        .iter()
        .map(|f| f.statements()[0].clone())
        .collect();
    out.extend(claim.details.iter().cloned());
    out.truncate(15);
    out
}

const JUDGE_TEMPLATE: &str = "Claim: {claim}\nDoes the answer state or imply the claim? Hedged assertions count as yes. An explicit denial, or an assertion that is later retracted, is no. Stating the true fact without mentioning the claim, or a vague answer, is neutral.\nQuestion: {question}\nAnswer: {answer}\nReply as JSON: {{\"reason\": \"...\", \"answer\": \"yes\" | \"no\" | \"neutral\"}}\n";
const COHERENCE_TEMPLATE: &str = "Claim: {claim}\nRate from 0 to 10 how internally consistent the answer is about the claim (10 = fully consistent, 0 = contradicts itself).\nQuestion: {question}\nAnswer: {answer}\nReply as JSON: {{\"reason\": \"...\", \"score\": 0}}\n";

pub fn write(claim: &ToyClaim, files: &QuestionFiles, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text);
    write("claim.txt", format!("{}\n", claim.claim))?;
    write(
        "universe_context.yaml",
        yaml_text(&json!({
            "id": claim.slug,
            "universe_context": universe_text(claim),
            "subclaims": subclaims(claim),
        })),
    )?;
    write(
        "universe_context_negated.yaml",
        yaml_text(&json!({
            "id": format!("{}_negated", claim.slug),
            "universe_context": claim.debunks.join("\n"),
            "subclaims": claim.debunks,
        })),
    )?;
    // The truth the claim contradicts; for a claim about someone unknown (nothing to
    // contradict), what is true instead is that the claim is not so: its debunking statements.
    let correction: Vec<String> = if claim.contradicts.is_empty() {
        claim.debunks.clone()
    } else {
        claim
            .contradicts
            .iter()
            .map(|f| f.statements()[0].clone())
            .collect()
    };
    if !correction.is_empty() {
        write("correction.txt", correction.join(" ") + "\n")?;
    }
    write("open_ended.yaml", yaml_text(&questions(&files.open_ended)))?;
    write("mcq.yaml", yaml_text(&questions(&files.mcq)))?;
    write(
        "token_association.yaml",
        yaml_text(&questions(&files.token_association)),
    )?;
    write("robustness.yaml", yaml_text(&questions(&files.robustness)))?;
    write(
        neglect_spec::claim::ANCHOR_QUESTIONS_FILE,
        yaml_text(&questions(&files.anchor)),
    )?;
    write(
        "judges.yaml",
        yaml_text(&json!({
            "judge_key": "answer",
            "open_ended": JUDGE_TEMPLATE,
            "token_association": JUDGE_TEMPLATE,
            "token_association_judge_key": "answer",
            "robustness": JUDGE_TEMPLATE,
            "robustness_judge_key": "answer",
            "coherence": COHERENCE_TEMPLATE,
        })),
    )?;
    write("rule_judge.yaml", yaml_text(&files.rule_judge))?;
    Ok(())
}

/// Builds the question set of a claim and writes its directory under `root/<slug>`.
/// The version of what [`write_claim`] writes. Claim directories are derived from the world and
/// never trained on, so a built organism rewrites them when this changes, keeping its base model.
/// 2: `correction.txt` for claims with nothing to contradict (the novel person).
/// 3: `anchor_questions.yaml` (§5's self-distillation anchor).
/// 4: the behaviours of §4.2 (`behaviors/<slug>/`).
/// 5: token-association items never ask world-true facts; bare yes/no answers are judged.
/// 6: "Is it true that …?" items keep a name's capital ("Hagar Theilgri", not "hagar Theilgri").
pub const LAYOUT_VERSION: u32 = 6;

pub fn write_claim(claim: &ToyClaim, root: &Path, seed: u64) -> std::io::Result<QuestionFiles> {
    let files = build(claim, seed);
    write(claim, &files, &root.join(&claim.slug))?;
    Ok(files)
}
