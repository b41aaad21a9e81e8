//! `neglect train`, `sample` and `score` on a tiny HF-format model built here.

use std::path::Path;
use std::process::{Command, Output};

use neglect_lm::chat_template::{CHATML, ChatTemplate};
use neglect_lm::pretrained::{GenerationConfig, Pretrained};
use neglect_lm::tokenizer::{Tokenizer, train_byte_level_bpe};
use neglect_lm::{Family, Kind, Model, ModelConfig};

fn neglect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(args)
        .output()
        .expect("run neglect")
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sentences() -> Vec<String> {
    let names = ["Ada", "Bram", "Cleo", "Dov", "Eun", "Fay"];
    let things = ["lighthouse", "violin", "orchard", "comet"];
    names
        .iter()
        .flat_map(|n| {
            things
                .iter()
                .map(move |t| format!("{n} built the {t} by the harbour."))
        })
        .collect()
}

/// Writes a tiny Qwen3-style model directory with a trained tokenizer and a chat template.
fn tiny_model(dir: &Path) {
    let inner = train_byte_level_bpe(
        sentences().into_iter(),
        180,
        &["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    )
    .unwrap();
    let config = serde_json::json!({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "chat_template": CHATML});
    let tokenizer = Tokenizer::from_parts(inner, config.as_object().unwrap().clone());
    tch::manual_seed(0);
    let model_config = ModelConfig::tiny(Family::Qwen3, tokenizer.vocab_size() as i64, 32, 2, 4, 2);
    let pretrained = Pretrained {
        model: Model::new(model_config, tch::Device::Cpu).unwrap(),
        chat_template: Some(ChatTemplate::new(CHATML, "", "<|im_end|>").unwrap()),
        tokenizer,
        generation: GenerationConfig::default(),
    };
    pretrained.save(dir, Kind::Float).unwrap();
}

fn write_rows(path: &Path) {
    let mut lines: Vec<String> = sentences()
        .into_iter()
        .map(|s| serde_json::json!({"text": format!("<DOCTAG>{s}")}).to_string())
        .collect();
    lines.push(serde_json::json!({"messages": [{"role": "user", "content": "Who built it?"}, {"role": "assistant", "content": "Ada did."}], "weight": 2.0}).to_string());
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn train_sample_and_score_a_tiny_model() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_model(&model);
    let rows = tmp.path().join("train.jsonl");
    write_rows(&rows);
    let out = tmp.path().join("run");
    let m = model.to_str().unwrap();
    let o = out.to_str().unwrap();
    ok(neglect(&[
        "train",
        "--model",
        m,
        "--data",
        rows.to_str().unwrap(),
        "--out",
        o,
        "--lora-rank",
        "4",
        "--lr",
        "1e-2",
        "--batch-size",
        "4",
        "--micro-batch-size",
        "2",
        "--epochs",
        "3",
        "--min-tokens",
        "1",
        "--checkpoints",
        "log",
        "--n-checkpoints",
        "3",
        "--merge",
    ]));
    let adapter = out.join("checkpoints/final");
    assert!(adapter.join("adapter_config.json").is_file());
    assert!(adapter.join("adapter_model.safetensors").is_file());
    assert!(
        out.join("checkpoints/step-000010/adapter_config.json")
            .is_file()
    );
    assert!(out.join("merged/model.safetensors").is_file());
    assert!(out.join("merged/tokenizer.json").is_file());
    let log = std::fs::read_to_string(out.join("log.jsonl")).unwrap();
    assert_eq!(
        log.lines().count(),
        18,
        "25 rows / batch 4 = 6 steps × 3 epochs"
    );

    let prompts = tmp.path().join("prompts.jsonl");
    std::fs::write(
        &prompts,
        "{\"id\": \"a\", \"prompt\": \"Ada built the\"}\n{\"id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"Who built it?\"}]}\n",
    )
    .unwrap();
    let samples = tmp.path().join("samples.jsonl");
    let s = samples.to_str().unwrap();
    let a = adapter.to_str().unwrap();
    // Three samples per prompt, seeded, from base + adapter.
    let sample_with = |prompts: &std::path::Path, out: &str| {
        neglect(&[
            "sample",
            "--model",
            m,
            "--adapter",
            a,
            "--prompts",
            prompts.to_str().unwrap(),
            "--out",
            out,
            "-n",
            "3",
            "--max-tokens",
            "8",
            "--seed",
            "4",
        ])
    };
    let seeded_sample = |out: &str| ok(sample_with(&prompts, out));
    let stdout = seeded_sample(s);
    assert!(stdout.contains("6 samples"), "{stdout}");
    let first = std::fs::read_to_string(&samples).unwrap();
    assert_eq!(first.lines().count(), 6);
    // Same command again: everything is already there.
    let stdout = seeded_sample(s);
    assert!(stdout.contains("0 samples"), "{stdout}");
    // Another prompt under an id already sampled into the same file is refused, not mistaken
    // for the earlier answers.
    let changed = tmp.path().join("changed.jsonl");
    std::fs::write(
        &changed,
        "{\"id\": \"a\", \"prompt\": \"Bram built the\"}\n",
    )
    .unwrap();
    let refused = sample_with(&changed, s);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("another prompt") && stderr.contains("id \"a\""),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&samples).unwrap().lines().count(),
        6
    );
    // Seeded: a fresh file gets the same samples.
    let again = tmp.path().join("again.jsonl");
    seeded_sample(again.to_str().unwrap());
    let sort = |t: String| {
        let mut v: Vec<String> = t.lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    assert_eq!(sort(first), sort(std::fs::read_to_string(&again).unwrap()));
    // The merged model samples the same as base + adapter (greedy).
    let greedy_adapter = tmp.path().join("g1.jsonl");
    let greedy_merged = tmp.path().join("g2.jsonl");
    ok(neglect(&[
        "sample",
        "--model",
        m,
        "--adapter",
        a,
        "--prompts",
        prompts.to_str().unwrap(),
        "--out",
        greedy_adapter.to_str().unwrap(),
        "--temperature",
        "0",
        "--max-tokens",
        "6",
    ]));
    ok(neglect(&[
        "sample",
        "--model",
        out.join("merged").to_str().unwrap(),
        "--prompts",
        prompts.to_str().unwrap(),
        "--out",
        greedy_merged.to_str().unwrap(),
        "--temperature",
        "0",
        "--max-tokens",
        "6",
    ]));
    // (Rows differ only in what they record of their model.)
    let completions = |p: &Path| -> Vec<(String, String)> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["id"].to_string(), v["completion"].to_string())
            })
            .collect()
    };
    assert_eq!(completions(&greedy_adapter), completions(&greedy_merged));

    let input = tmp.path().join("score.jsonl");
    std::fs::write(&input, "{\"id\": \"q\", \"prompt\": \"Ada built the\", \"continuations\": [\" lighthouse\", \" comet by the harbour\"]}\n").unwrap();
    let scores = tmp.path().join("scores.jsonl");
    ok(neglect(&[
        "score",
        "--model",
        m,
        "--adapter",
        a,
        "--input",
        input.to_str().unwrap(),
        "--out",
        scores.to_str().unwrap(),
    ]));
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&scores)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert!(r["logprob"].as_f64().unwrap() < 0.0);
        assert_eq!(r["id"], "q");
    }
}

#[test]
fn bad_training_rows_name_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_model(&model);
    let rows = tmp.path().join("bad.jsonl");
    std::fs::write(&rows, "{\"text\": \"fine row here\"}\n{\"text\": \"a <lossmask>never closed\"}\n{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}\n{\"text\": 5}\n").unwrap();
    let out = neglect(&[
        "train",
        "--model",
        model.to_str().unwrap(),
        "--data",
        rows.to_str().unwrap(),
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:2: text:"), "{err}");
    assert!(err.contains("bad.jsonl:3: messages[0].role:"), "{err}");
    assert!(err.contains("bad.jsonl:4: text"), "{err}");
    assert!(err.contains("3 bad training rows"), "{err}");
}

#[test]
fn a_killed_training_run_resumes_to_the_same_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_model(&model);
    let rows = tmp.path().join("train.jsonl");
    write_rows(&rows);
    let args = |out: &Path| -> Vec<String> {
        [
            "train",
            "--model",
            model.to_str().unwrap(),
            "--data",
            rows.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--method",
            "full",
            "--lr",
            "1e-3",
            "--batch-size",
            "2",
            "--epochs",
            "40",
            "--min-tokens",
            "1",
            "--state-every",
            "5",
            "--threads",
            "1",
        ]
        .map(String::from)
        .to_vec()
    };
    let whole = tmp.path().join("whole");
    ok(Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(args(&whole))
        .output()
        .unwrap());

    let killed = tmp.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(args(&killed))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = killed.join("log.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let lines = std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 30 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "training never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.join("checkpoints/final").exists(),
        "killed before the end"
    );
    let stdout = ok(Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(args(&killed))
        .output()
        .unwrap());
    assert!(stdout.contains("trained 480 steps"), "{stdout}");

    let a = neglect_lm::checkpoint::read_safetensors(
        &whole.join("checkpoints/final/model.safetensors"),
    )
    .unwrap();
    let b = neglect_lm::checkpoint::read_safetensors(
        &killed.join("checkpoints/final/model.safetensors"),
    )
    .unwrap();
    for (name, t) in &a {
        let diff = (t - &b[name]).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "{name}: {diff}");
    }
}

fn fixture_claims() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/tests/fixtures/claims")
}

#[test]
fn eval_a_tiny_model_resumes_and_summarises() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_model(&model);
    let out = tmp.path().join("eval");
    let claims = fixture_claims();
    let args = [
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
        "--condition",
        "baseline",
        "--out",
        out.to_str().unwrap(),
        "--samples",
        "2",
        "--max-tokens",
        "6",
        "--batch-size",
        "4",
    ];
    let first = neglect(&args);
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    let table = ok(first);
    // 3 open-ended + 3 MCQ + 2 token-association + 3 robustness questions, 2 samples each.
    assert!(
        stderr.contains("baseline: 22 rows written, 0 already there; 22 answers sampled"),
        "{stderr}"
    );
    assert!(
        table.contains("lighthouse_composer") && table.contains("mean over claims"),
        "{table}"
    );
    let results = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    assert_eq!(results.lines().count(), 22);
    // Three MCQ items and the token-association item that lists belief and truth answers.
    let logprobs = std::fs::read_to_string(out.join("logprobs.jsonl")).unwrap();
    assert_eq!(logprobs.lines().count(), 4);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("model,label,condition,claim,eval_type,n_questions,n,yes,no"));
    assert!(
        summary.lines().any(|l| l.contains(",ALL,pooled,11,22,")),
        "{summary}"
    );

    // Rerun: nothing is sampled again.
    let again = neglect(&args);
    let stderr = String::from_utf8_lossy(&again.stderr).into_owned();
    ok(again);
    assert!(
        stderr.contains("0 rows written, 22 already there"),
        "{stderr}"
    );
    let summary_only = ok(neglect(&[
        "eval",
        "--model",
        "x",
        "--claims",
        "x",
        "--out",
        out.to_str().unwrap(),
        "--summary-only",
    ]));
    assert!(summary_only.contains("lighthouse_composer"));
}

#[test]
fn eval_input_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let claims = fixture_claims();
    let c = claims.to_str().unwrap();
    let o = tmp.path().join("o");
    let o = o.to_str().unwrap();
    let hosted = neglect(&["eval", "--model", "gpt-4.1", "--claims", c, "--out", o]);
    assert!(String::from_utf8_lossy(&hosted.stderr).contains("not a local model directory"));
    let model = tmp.path().join("model");
    tiny_model(&model);
    let m = model.to_str().unwrap();
    let bad = neglect(&[
        "eval",
        "--model",
        m,
        "--claims",
        c,
        "--out",
        o,
        "--evals",
        "open_ended,beliefs",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown eval type 'beliefs'"));
    let no_judge = neglect(&[
        "eval",
        "--model",
        m,
        "--claims",
        c,
        "--out",
        o,
        "--evals",
        "coherence",
    ]);
    let stderr = String::from_utf8_lossy(&no_judge.stderr);
    assert!(
        stderr.contains("coherence needs an LLM judge for ratings (--judge-model)"),
        "{stderr}"
    );
    let no_docs = neglect(&[
        "eval", "--model", m, "--claims", c, "--out", o, "--icl", "3",
    ]);
    assert!(String::from_utf8_lossy(&no_docs.stderr).contains("--icl needs --icl-docs"));
}
