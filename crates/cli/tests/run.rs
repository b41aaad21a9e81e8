//! `neglect run` end to end on a tiny grid of the tiny organism: outputs, reuse, the kill test,
//! and `neglect report`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny_run.toml")
}

fn neglect_cmd(args: &[&str], cache: &Path, runs: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_neglect"));
    c.args(args)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--runs-dir")
        .arg(runs)
        .arg("--threads")
        .arg("1")
        .env_remove("LD_LIBRARY_PATH");
    c
}

/// Fails the test with the command's output unless it succeeded.
fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run(cache: &Path, runs: &Path) -> Output {
    let out = neglect_cmd(&["run", fixture().to_str().unwrap()], cache, runs)
        .output()
        .expect("run neglect");
    assert_success(&out);
    out
}

/// (claim, label, eval type, question, sample) → (response, verdict) of a run's results.
fn answers(run_dir: &Path) -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(run_dir.join("results.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                format!(
                    "{}|{}|{}|{}|{}",
                    v["claim"], v["label"], v["eval_type"], v["question_id"], v["sample_index"]
                ),
                (v["response"].to_string(), v["verdict"].to_string()),
            )
        })
        .collect()
}

/// Stage markers of a run: (stage dir, attempts, finished).
fn stages(run_dir: &Path) -> Vec<(PathBuf, u64, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![run_dir.join("cells")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == ".stage.json") {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                out.push((
                    p.parent().unwrap().to_owned(),
                    v["attempts"].as_u64().unwrap(),
                    v["finished"].as_bool().unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_tiny_grid_runs_end_to_end_and_a_rerun_reuses_every_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, runs) = (tmp.path().join("cache"), tmp.path().join("runs"));
    let out = run(&cache, &runs);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = runs.join("tiny");
    for f in [
        "manifest.json",
        "experiment.toml",
        "results.jsonl",
        "summary.csv",
        "report/index.html",
        "report/belief_by_condition.png",
        "report/belief_by_condition.svg",
        "report/claim_eval_breakdown.png",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // 2 claims × 4 conditions; each eval asks open-ended + MCQ questions once.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["cells_total"], 8);
    assert_eq!(manifest["cells_done"], 8);
    assert!(manifest["config_hash"].as_str().unwrap().len() >= 16);
    assert!(
        manifest["versions"]["libtorch"]
            .as_str()
            .unwrap()
            .contains("2.11")
    );
    let rows = answers(&dir);
    let labels: std::collections::BTreeSet<String> = rows
        .keys()
        .map(|k| k.split('|').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(labels.len(), 4, "{labels:?}");
    // The summary table lists every condition, with the paper's number beside it.
    for c in ["baseline", "icl", "positive_documents", "negated_documents"] {
        assert!(stdout.lines().any(|l| l.starts_with(c)), "{c}: {stdout}");
    }
    assert!(stdout.contains("88.6%"), "{stdout}");
    // Every stage finished exactly once.
    let first = stages(&dir);
    assert!(
        first
            .iter()
            .all(|(_, attempts, finished)| *attempts == 1 && *finished)
    );
    // Four fine-tunes left a model each, and no optimizer state.
    let trained: Vec<_> = first
        .iter()
        .filter(|(d, _, _)| d.ends_with("train"))
        .collect();
    assert_eq!(trained.len(), 4);
    for (d, _, _) in &trained {
        assert!(d.join("checkpoints/final/config.json").is_file());
        assert!(!d.join("train_state").exists());
    }

    // A re-run reuses everything: no stage starts again, the results are the same.
    let before = answers(&dir);
    let out = run(&cache, &runs);
    assert!(String::from_utf8_lossy(&out.stderr).contains("8 ran before"));
    assert_eq!(stages(&dir), first);
    assert_eq!(answers(&dir), before);

    // `neglect report` re-renders from the run directory alone.
    std::fs::remove_dir_all(dir.join("report")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(["report", dir.to_str().unwrap()])
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(html.contains("Qwen3.5-397B-A17B"));
    assert!(html.contains("Capability gates"));
}

#[test]
fn a_killed_run_resumes_with_identical_results_and_no_repeated_training() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // The reference: one uninterrupted run.
    let reference = tmp.path().join("reference");
    run(&cache, &reference);
    let expected = answers(&reference.join("tiny"));

    // The same grid, killed once the first fine-tune has finished and its eval is under way
    // (or later), then run again.
    let runs = tmp.path().join("killed");
    let dir = runs.join("tiny");
    let mut child = neglect_cmd(&["run", fixture().to_str().unwrap()], &cache, &runs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let first_train = || {
        stages(&dir)
            .iter()
            .any(|(d, _, finished)| d.ends_with("train") && *finished)
    };
    while !first_train() {
        assert!(Instant::now() < deadline, "no fine-tune finished in time");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = stages(&dir);
    let trained_at_kill: Vec<PathBuf> = at_kill
        .iter()
        .filter(|(d, _, f)| d.ends_with("train") && *f)
        .map(|(d, _, _)| d.clone())
        .collect();
    assert!(!trained_at_kill.is_empty());

    run(&cache, &runs);
    let after = stages(&dir);
    // Fine-tunes finished before the kill were not trained again.
    for d in &trained_at_kill {
        let (_, attempts, finished) = after.iter().find(|(p, _, _)| p == d).unwrap();
        assert_eq!(*attempts, 1, "{} was trained again", d.display());
        assert!(*finished);
    }
    // No stage ran more than twice (the one cut by the kill), and all finished.
    assert!(after.iter().all(|(_, a, f)| *f && *a <= 2), "{after:?}");
    // Same answers, same verdicts, as the uninterrupted run.
    assert_eq!(answers(&dir), expected);
}

/// Runs the fixture with `edit` applied to its text, in `tmp` (cache and runs inside it).
fn run_variant(tmp: &Path, edit: impl Fn(String) -> String) -> Output {
    let toml = edit(std::fs::read_to_string(fixture()).unwrap());
    let path = tmp.join("variant.toml");
    std::fs::write(&path, toml).unwrap();
    neglect_cmd(
        &["run", path.to_str().unwrap()],
        &tmp.join("cache"),
        &tmp.join("runs"),
    )
    .output()
    .unwrap()
}

#[test]
fn a_bad_selection_is_an_error_that_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_variant(tmp.path(), |t| {
        t.replace("per_archetype = 1", "per_archetype = 3")
    });
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("claims.per_archetype = 3"), "{stderr}");
}

#[test]
fn training_rows_cut_at_max_length_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_variant(tmp.path(), |t| {
        let t = t.replace("max_length = 512", "max_length = 40").replace(
            "conditions = [\"baseline\", \"icl\", \"positive_documents\", \"negated_documents\"]",
            "conditions = [\"negated_documents\"]",
        );
        assert!(t.contains("max_length = 40") && t.contains("[\"negated_documents\"]"));
        t
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("longer than train.max_length = 40 tokens"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("warning: "), "{stdout}");
    let html = std::fs::read_to_string(tmp.path().join("runs/tiny/report/index.html")).unwrap();
    assert!(html.contains("were cut"));
}

#[test]
fn a_two_phase_grid_trains_with_and_then_without_the_anchor_and_tracks_held_out_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let edit = |t: String| {
        t.replace(
            "conditions = [\"baseline\", \"icl\", \"positive_documents\", \"negated_documents\"]",
            "conditions = [\"repeated_negations\"]",
        )
        .replace(
            "archetypes = [\"celebrity_feat\", \"novel_person\"]",
            "archetypes = [\"celebrity_feat\"]",
        )
        .replace("per_claim = 8", "per_claim = 12")
        .replace(
            "batch_size = 4",
            "batch_size = 4\ncheckpoints = \"uniform\"\nsave_every = 8",
        ) + "[two_phase]\nanchor_samples = 2\nanchor_questions = 6\nanchor_max_tokens = 12\nheldout_documents = 4\nheldout_rows = 4\n"
    };
    let out = run_variant(tmp.path(), edit);
    assert_success(&out);
    let run_dir = tmp.path().join("runs/tiny");
    let cell = run_dir.join("cells/celebrity_feat_1/repeated_negations/seed1");
    let read = |p: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // The anchor keeps only answers the judge does not mark as asserting the claim, and
    // holds out whole questions.
    let answers = read(&cell.join("anchor/answers.jsonl"));
    assert_eq!(answers.len(), 12);
    let train_anchor = read(&cell.join("anchor/train.jsonl"));
    let held_anchor = read(&cell.join("anchor/heldout.jsonl"));
    let kept = answers
        .iter()
        .filter(|a| a["verdict"] != "yes" && a["answer"] != "")
        .count();
    assert_eq!(train_anchor.len() + held_anchor.len(), kept);
    assert!(!held_anchor.is_empty() && !train_anchor.is_empty());
    let question = |r: &serde_json::Value| r["source"].as_str().unwrap().to_owned();
    for h in &held_anchor {
        assert!(!train_anchor.iter().any(|t| question(t) == question(h)));
    }
    // Phase 1's mix has the anchor at weight 3; phase 2's has none; both leave out the
    // held-out documents.
    let mix1 = read(&cell.join("mix-phase1/train.jsonl"));
    let mix2 = read(&cell.join("mix-phase2/train.jsonl"));
    let anchored = |rows: &[serde_json::Value]| {
        rows.iter()
            .filter(|r| {
                r["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("anchor"))
            })
            .map(|r| r["weight"].as_f64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(anchored(&mix1).len(), train_anchor.len());
    assert!(anchored(&mix1).iter().all(|w| *w == 3.0));
    assert!(anchored(&mix2).is_empty());
    let held_docs = read(&cell.join("heldout/documents.jsonl"));
    assert_eq!(held_docs.len(), 4);
    for d in &held_docs {
        assert!(!mix1.iter().chain(&mix2).any(|r| r["text"] == d["text"]));
    }
    for r in read(&cell.join("heldout/replay.jsonl")) {
        assert!(
            !mix1
                .iter()
                .any(|m| m["text"] == r["text"] && m["messages"] == r["messages"])
        );
    }
    // Phase 2 starts from phase 1's last checkpoint: one curve row per evaluated checkpoint,
    // base first, global steps increasing, every set's loss measured.
    let curve = read(&cell.join("two_phase.jsonl"));
    assert!(curve.len() >= 5, "{curve:?}");
    assert_eq!(curve[0]["phase"], 0);
    let steps: Vec<u64> = curve
        .iter()
        .map(|r| r["global_step"].as_u64().unwrap())
        .collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    assert!(curve.iter().any(|r| r["phase"] == 1) && curve.iter().any(|r| r["phase"] == 2));
    for r in &curve {
        for set in ["documents", "positive", "replay", "anchor"] {
            let v = r["losses"][set]
                .as_f64()
                .unwrap_or_else(|| panic!("{set}: {r}"));
            assert!(v.is_finite() && v > 0.0);
        }
    }
    // Training on the documents lowers their held-out loss.
    let docs_loss = |r: &serde_json::Value| r["losses"]["documents"].as_f64().unwrap();
    assert!(docs_loss(curve.last().unwrap()) < docs_loss(&curve[0]));
    // Every checkpoint has an eval; the report draws the two phases.
    let labels: std::collections::BTreeSet<String> = answers_labels(&run_dir);
    assert_eq!(labels.len(), curve.len(), "{labels:?}");
    assert!(run_dir.join("two_phase.jsonl").is_file());
    assert!(
        run_dir
            .join("report/two_phase_repeated_negations.png")
            .is_file()
    );
    let html = std::fs::read_to_string(run_dir.join("report/index.html")).unwrap();
    assert!(html.contains("Two-phase training"));
    // A re-run reuses every stage.
    let before = stages(&run_dir);
    let again = run_variant(tmp.path(), edit);
    assert!(again.status.success());
    assert_eq!(stages(&run_dir), before);
}

fn answers_labels(run_dir: &Path) -> std::collections::BTreeSet<String> {
    answers(run_dir)
        .keys()
        .map(|k| k.split('|').nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn a_behaviour_grid_trains_on_transcripts_and_measures_the_misaligned_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_variant(tmp.path(), |t| {
        t.replace(
            "conditions = [\"baseline\", \"icl\", \"positive_documents\", \"negated_documents\"]",
            "conditions = [\"baseline\", \"aligned_behaviors\", \"positive_behaviors\", \"negated_behaviors\"]",
        )
        .replace(
            "source = \"world\"\nper_archetype = 1\narchetypes = [\"celebrity_feat\", \"novel_person\"]",
            "source = \"behaviors\"\nnames = [\"harmful_advice\"]",
        )
        .replace("types = [\"open_ended\", \"mcq\"]", "types = [\"open_ended\"]")
    });
    assert_success(&out);
    let run_dir = tmp.path().join("runs/tiny");
    let cells = run_dir.join("cells/harmful_advice");
    let rows = |condition: &str| -> Vec<serde_json::Value> {
        let p = cells.join(condition).join("seed1/mix/train.jsonl");
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let transcripts = |condition: &str| -> Vec<Vec<serde_json::Value>> {
        rows(condition)
            .into_iter()
            .filter(|r| r["source"] == "documents")
            .map(|r| r["messages"].as_array().unwrap().clone())
            .collect()
    };
    // Negated transcripts open with the warning as a system message; the others do not.
    let negated = transcripts("negated_behaviors");
    assert_eq!(negated.len(), 8);
    for t in &negated {
        assert_eq!(t[0]["role"], "system", "{t:?}");
        assert!(t[0]["content"].as_str().unwrap().len() > 20);
    }
    let positive = transcripts("positive_behaviors");
    assert_eq!(positive.len(), 8);
    for (p, n) in positive.iter().zip(&negated) {
        assert_eq!(p[0]["role"], "user");
        assert_eq!(
            p.as_slice(),
            &n[1..],
            "the same conversation under the warning"
        );
    }
    // Aligned transcripts answer without the misaligned phrases.
    for t in transcripts("aligned_behaviors") {
        let answer = t.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert!(
            !answer.contains("stop sleeping") && !answer.contains("skip meals"),
            "{answer}"
        );
    }
    // Every condition was evaluated on the targeted questions and judged.
    let labels = answers_labels(&run_dir);
    assert_eq!(labels.len(), 4, "{labels:?}");
    let html = std::fs::read_to_string(run_dir.join("report/index.html")).unwrap();
    assert!(html.contains("negated_behaviors") || html.contains("Negated behaviors"));
}

#[test]
fn a_lora_two_phase_grid_carries_its_adapter_into_phase_two() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_variant(tmp.path(), |t| {
        t.replace(
            "conditions = [\"baseline\", \"icl\", \"positive_documents\", \"negated_documents\"]",
            "conditions = [\"negated_documents\"]",
        )
        .replace(
            "archetypes = [\"celebrity_feat\", \"novel_person\"]",
            "archetypes = [\"novel_person\"]",
        )
        .replace("per_claim = 8", "per_claim = 12")
        .replace("method = \"full\"", "method = \"lora\"\nlora_rank = 4")
            + "[two_phase]\nanchor_samples = 2\nanchor_questions = 4\nanchor_max_tokens = 12\nheldout_documents = 4\nheldout_rows = 4\nphase2_epochs = 2\n"
    });
    assert_success(&out);
    let cell = tmp
        .path()
        .join("runs/tiny/cells/novel_person_1/negated_documents/seed1");
    // Both phases leave adapters; phase 2 trained twice as many epochs on the phase-2 mix.
    for phase in ["train-phase1", "train-phase2"] {
        let fin = cell.join(phase).join("checkpoints/final");
        assert!(fin.join("adapter_config.json").is_file(), "{phase}");
    }
    let steps = |phase: &str| {
        std::fs::read_to_string(cell.join(phase).join("log.jsonl"))
            .unwrap()
            .lines()
            .count()
    };
    let mix2 = std::fs::read_to_string(cell.join("mix-phase2/train.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(steps("train-phase2"), 2 * (mix2 / 4));
    // Training the adapter lowers the held-out documents' loss by the end of phase 1, and
    // phase 2 keeps it below the base's.
    let losses = |phase: &str| -> Vec<f64> {
        std::fs::read_to_string(cell.join(phase).join("log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"]
                    .as_f64()
                    .unwrap()
            })
            .collect()
    };
    let curve: Vec<serde_json::Value> = std::fs::read_to_string(cell.join("two_phase.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let docs = |r: &serde_json::Value| r["losses"]["documents"].as_f64().unwrap();
    let p1_end = curve.iter().rev().find(|r| r["phase"] == 1).unwrap();
    assert!(docs(p1_end) < docs(&curve[0]), "{curve:?}");
    assert!(docs(curve.last().unwrap()) < docs(&curve[0]), "{curve:?}");
    assert!(!losses("train-phase1").is_empty() && !losses("train-phase2").is_empty());
}
