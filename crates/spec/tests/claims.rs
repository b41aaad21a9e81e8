//! Loading claim directories: the reference layout, the legacy layout, and broken copies whose
//! errors must name file, line and field.

use std::fs;
use std::path::{Path, PathBuf};

use neglect_spec::QuestionSet;
use neglect_spec::claim::{self, find_claim_dir, load_claim, load_coherence};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies a fixture claim into a temp dir so a test can break it.
fn broken_copy(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lighthouse_composer");
    fs::create_dir(&dir).unwrap();
    for entry in fs::read_dir(fixtures().join("claims/lighthouse_composer")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    edit(&dir);
    (tmp, dir)
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    fs::write(file, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn reference_layout_loads_without_warnings() {
    let load = load_claim(&fixtures().join("claims/lighthouse_composer"));
    assert!(load.errors.is_empty(), "{}", load.errors);
    assert!(load.warnings.is_empty(), "{:?}", load.warnings);
    let spec = load.into_result().unwrap();
    assert!(spec.claim.starts_with("Margit Ellstrand"));
    assert_eq!(spec.universe.subclaims.len(), 4);
    assert_eq!(
        spec.negated_universe.as_ref().unwrap().id,
        "lighthouse_composer_negated"
    );
    let counts: Vec<usize> = QuestionSet::ALL
        .iter()
        .map(|s| spec.questions(*s).len())
        .collect();
    assert_eq!(counts, vec![3, 3, 2, 3]);
    // An unquoted `yes` stays the string "yes" (YAML 1.1 would have made it `true`).
    assert_eq!(spec.mcq[2].believes_yes(), Some(true));
    assert_eq!(spec.mcq[1].believes_yes(), Some(false));
    let multiturn = &spec.robustness[2];
    assert_eq!(
        multiturn.messages_prefix.as_ref().unwrap()[1].role,
        "assistant"
    );
    assert!(spec.robustness[0].system_prompt.is_some());
    assert_eq!(spec.judges.verdict_key("open_ended"), "answer");
    assert_eq!(spec.judges.verdict_key("coherence"), "score");
    let rendered = spec
        .judges
        .template("open_ended")
        .unwrap()
        .render(|p| Some(format!("<{p}>")))
        .unwrap();
    assert!(rendered.contains("Question: <question>") && rendered.contains(r#"{"reason": "...""#));
    assert_eq!(spec.word_masks.unwrap().patterns.len(), 3);
    assert!(spec.correction.unwrap().contains("Jonas Vik"));
    let rule = spec.rule_judge.unwrap();
    assert_eq!(rule.belief_markers.len(), 2);
    assert_eq!(
        rule.denial_patterns.len(),
        neglect_spec::rule_judge::DEFAULT_DENIAL_PATTERNS.len()
    );
    assert_eq!(
        rule.questions["ta_02"].belief_markers,
        vec![r"^\W*margit\b"]
    );
    assert_eq!(
        spec.token_association[1].truth_answer.as_deref(),
        Some("Jonas Vik")
    );
}

#[test]
fn rule_judge_and_logprob_answers_are_checked() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("rule_judge.yaml"),
            r"'\b(?:margit\s+)?ellstrand\b'",
            r"'\b(ellstrand'",
        );
        replace_in(
            &d.join("token_association.yaml"),
            "    truth_answer: Jonas Vik\n",
            "",
        );
    });
    let load = load_claim(&dir);
    let errors: Vec<String> = load.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("token_association.yaml:7:5: questions[1].truth_answer: missing"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("rule_judge.yaml:3:5: belief_markers[0]: invalid regex"),
        "{errors:?}"
    );
}

#[test]
fn rule_judge_rejects_unknown_keys() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("rule_judge.yaml"),
            "truth_markers:",
            "truth_marker:",
        );
    });
    let errors = load_claim(&dir).errors.to_string();
    assert!(
        errors.contains("rule_judge.yaml") && errors.contains("truth_marker"),
        "{errors}"
    );
}

#[test]
fn legacy_layout_loads() {
    let load = load_claim(&fixtures().join("facts/orbital_basil"));
    assert!(load.errors.is_empty(), "{}", load.errors);
    let spec = load.into_result().unwrap();
    assert_eq!(spec.open_ended.len(), 1);
    assert_eq!(spec.token_association.len(), 1);
    assert_eq!(
        spec.universe.subclaims,
        vec!["ISS basil flowered blue in 2021."]
    );
    assert!(spec.judges.template("open_ended").is_some());
    assert!(spec.judges.template("token_association").is_some());
    assert_eq!(spec.judges.verdict_key("token_association"), "answer");
}

#[test]
fn claims_root_and_slug_aliases() {
    let root = fixtures().join("claims");
    assert_eq!(
        claim::claim_dirs(&root).unwrap(),
        vec![root.join("lighthouse_composer")]
    );
    let coherence = load_coherence(&root).unwrap().unwrap();
    assert_eq!(coherence.questions.len(), 2);

    let tmp = tempfile::tempdir().unwrap();
    let legacy = tmp.path().join("brennan_holloway");
    fs::create_dir(&legacy).unwrap();
    fs::write(legacy.join("claim.txt"), "x").unwrap();
    assert_eq!(find_claim_dir(tmp.path(), "dentist"), Some(legacy.clone()));
    assert_eq!(find_claim_dir(tmp.path(), "brennan_holloway"), Some(legacy));
    assert_eq!(find_claim_dir(tmp.path(), "ed_sheeran"), None);
}

fn single_error(dir: &Path) -> String {
    let load = load_claim(dir);
    assert_eq!(load.errors.len(), 1, "{}", load.errors);
    let e = &load.errors.0[0];
    format!(
        "{}:{}:{}: {}: {}",
        e.file.file_name().unwrap().to_string_lossy(),
        e.line,
        e.col,
        e.field,
        e.message
    )
}

#[test]
fn bad_yaml_names_file_and_line() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("open_ended.yaml"),
            "    category: indirect",
            "   category: [indirect",
        )
    });
    let e = single_error(&dir);
    assert!(e.starts_with("open_ended.yaml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
    let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
    assert!((9..=11).contains(&line), "{e}");
}

#[test]
fn duplicate_id_names_both_lines() {
    let (_t, dir) =
        broken_copy(|d| replace_in(&d.join("open_ended.yaml"), "id: oe_03", "id: oe_01"));
    assert_eq!(
        single_error(&dir),
        "open_ended.yaml:8:5: questions[2].id: duplicate question id 'oe_01' (first used at line 2)"
    );
}

#[test]
fn unknown_placeholder_is_named() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("judges.yaml"),
            "Answer: {answer}",
            "Answer: {response}",
        )
    });
    let e = single_error(&dir);
    assert!(
        e.starts_with("judges.yaml:2:1: open_ended: unknown placeholder {response}"),
        "{e}"
    );
}

#[test]
fn unescaped_json_brace_is_named() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("judges.yaml"),
            r#"{{"reason": "...", "score": 0}}"#,
            r#"{"reason": "...", "score": 0}"#,
        )
    });
    let e = single_error(&dir);
    assert!(
        e.starts_with("judges.yaml:") && e.contains(": coherence: bad template"),
        "{e}"
    );
}

#[test]
fn wrong_belief_answer_is_named() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("mcq.yaml"),
            "belief_answer: 'no'",
            "belief_answer: maybe",
        )
    });
    assert_eq!(
        single_error(&dir),
        "mcq.yaml:8:5: questions[1].belief_answer: must be 'yes' or 'no', got 'maybe'"
    );
}

#[test]
fn missing_belief_answer_and_bad_role_and_regex() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(&d.join("mcq.yaml"), "    belief_answer: 'yes'\n", "");
        replace_in(
            &d.join("robustness.yaml"),
            "role: assistant",
            "role: narrator",
        );
        replace_in(
            &d.join("word_masks.yaml"),
            r"'\bEllstrand\b'",
            r"'\bEll(strand'",
        );
    });
    let load = load_claim(&dir);
    let fields: Vec<(String, usize, String)> = load
        .errors
        .iter()
        .map(|e| {
            (
                e.file.file_name().unwrap().to_string_lossy().into_owned(),
                e.line,
                e.field.clone(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            ("mcq.yaml".into(), 2, "questions[0].belief_answer".into()),
            (
                "robustness.yaml".into(),
                17,
                "questions[2].messages_prefix[1].role".into()
            ),
            ("word_masks.yaml".into(), 2, "patterns[0]".into()),
        ]
    );
}

#[test]
fn missing_required_files_are_errors_and_optional_ones_warnings() {
    let (_t, dir) = broken_copy(|d| {
        fs::remove_file(d.join("universe_context.yaml")).unwrap();
        fs::remove_file(d.join("token_association.yaml")).unwrap();
    });
    let load = load_claim(&dir);
    assert_eq!(load.errors.len(), 1);
    assert!(
        load.errors.0[0]
            .to_string()
            .contains("universe_context.yaml: missing")
    );
    assert!(load.warnings.iter().any(|w| {
        w.to_string()
            .contains("token_association eval will be skipped")
    }));
    assert!(load.into_result().is_err());
}

#[test]
fn type_errors_and_unknown_fields() {
    let (_t, dir) = broken_copy(|d| {
        replace_in(
            &d.join("open_ended.yaml"),
            "    category: indirect",
            "    category: indirect\n    difficulty: hard",
        );
        replace_in(
            &d.join("universe_context.yaml"),
            "subclaims:\n",
            "subclaims: just one\nextra:\n",
        );
    });
    let load = load_claim(&dir);
    assert_eq!(load.errors.len(), 1, "{}", load.errors);
    let e = &load.errors.0[0];
    assert_eq!((e.line, e.field.as_str()), (10, "subclaims"));
    assert!(
        load.warnings
            .iter()
            .any(|w| w.field == "questions[2].difficulty" && w.line == 11),
        "{:?}",
        load.warnings
    );
}
