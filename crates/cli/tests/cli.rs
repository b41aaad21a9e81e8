//! The `neglect` binary as a user runs it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn neglect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run neglect")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/tests/fixtures")
}

fn copy_claims_root() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixtures().join("claims");
    fs::copy(
        src.join("coherence_questions.yaml"),
        tmp.path().join("coherence_questions.yaml"),
    )
    .unwrap();
    let dst = tmp.path().join("lighthouse_composer");
    fs::create_dir(&dst).unwrap();
    for entry in fs::read_dir(src.join("lighthouse_composer")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
    }
    tmp
}

fn edit(file: &Path, from: &str, to: &str) {
    let t = fs::read_to_string(file).unwrap();
    assert!(t.contains(from));
    fs::write(file, t.replacen(from, to, 1)).unwrap();
}

#[test]
fn version_reports_libtorch_without_ld_library_path() {
    let out = neglect(&["--version"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with(&format!("neglect {}", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(stdout.contains("libtorch 2.11.0"), "{stdout}");
    assert!(stdout.contains("cuda: "), "{stdout}");
}

/// The libraries the dynamic loader opened for `binary args`, from glibc's `LD_DEBUG=files`.
fn libraries_loaded(binary: &str, args: &[&str]) -> String {
    let out = Command::new(binary)
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env("LD_DEBUG", "files")
        .output()
        .expect("run binary");
    assert!(out.status.success(), "{}", text(&out).1);
    text(&out)
        .1
        .lines()
        .filter(|l| l.contains("file="))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn neglect_itself_never_loads_libtorch_and_hands_local_models_to_the_engine() {
    let front = libraries_loaded(env!("CARGO_BIN_EXE_neglect"), &["conditions"]);
    assert!(front.contains("libc.so"), "LD_DEBUG gave nothing: {front}");
    assert!(
        !front.contains("libtorch"),
        "neglect loaded libtorch:\n{front}"
    );
    // The same command in the engine does load it (so the check above can fail).
    let engine = libraries_loaded(env!("CARGO_BIN_EXE_neglect-engine"), &["conditions"]);
    assert!(engine.contains("libtorch_cpu.so"), "{engine}");

    // A command that runs a local model is handed over, arguments and exit code intact.
    let out = neglect(&[
        "score",
        "--model",
        "/no/such/model",
        "--input",
        "x",
        "--out",
        "y",
    ]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/no/such/model"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_neglect"))
        .args(["world", "check", "--tiny"])
        .env("NEGLECT_ENGINE", "/no/such/engine")
        .output()
        .unwrap();
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("needs neglect-engine") && err.contains("/no/such/engine"),
        "{err}"
    );
}

#[test]
fn claims_check_passes_on_reference_and_legacy_layouts() {
    let claims = fixtures().join("claims");
    let facts = fixtures().join("facts");
    let out = neglect(&[
        "claims",
        "check",
        claims.to_str().unwrap(),
        facts.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("checked 2 claims: 2 ok, 0 failed (0 errors"),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 open_ended, 3 mcq, 2 token_association, 3 robustness; 4 subclaims"),
        "{stdout}"
    );
}

#[test]
fn claims_check_names_file_line_and_field_for_each_breakage() {
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "open_ended.yaml",
            "    category: indirect",
            "   category: [indirect",
            "open_ended.yaml:10:12: invalid YAML",
        ),
        (
            "open_ended.yaml",
            "id: oe_03",
            "id: oe_01",
            "open_ended.yaml:8:5: questions[2].id: duplicate question id 'oe_01'",
        ),
        (
            "judges.yaml",
            "Answer: {answer}",
            "Answer: {respons}",
            "judges.yaml:2:1: open_ended: unknown placeholder {respons}",
        ),
        (
            "mcq.yaml",
            "belief_answer: 'no'",
            "belief_answer: nope",
            "mcq.yaml:8:5: questions[1].belief_answer: must be 'yes' or 'no', got 'nope'",
        ),
    ];
    for (file, from, to, expected) in cases {
        let root = copy_claims_root();
        edit(
            &root.path().join("lighthouse_composer").join(file),
            from,
            to,
        );
        let out = neglect(&["claims", "check", root.path().to_str().unwrap()]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {stdout}\n{stderr}");
        let expected = format!(
            "error: {}/lighthouse_composer/{expected}",
            root.path().display()
        );
        assert!(
            stderr.contains(&expected),
            "expected {expected:?} in:\n{stderr}"
        );
        assert!(stdout.contains("1 failed"), "{stdout}");
    }
}

#[test]
fn claims_check_strict_fails_on_warnings() {
    let root = copy_claims_root();
    fs::remove_file(root.path().join("lighthouse_composer/robustness.yaml")).unwrap();
    let path = root.path().to_str().unwrap();
    assert!(neglect(&["claims", "check", path]).status.success());
    let out = neglect(&["claims", "check", "--strict", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("warning: ")
            && text(&out).1.contains("robustness eval will be skipped")
    );
}

#[test]
fn claims_show_prints_the_claim() {
    let root = fixtures().join("claims");
    let out = neglect(&[
        "claims",
        "show",
        "lighthouse_composer",
        "--claims-dir",
        root.to_str().unwrap(),
        "--questions",
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("claim:     Margit Ellstrand"), "{stdout}");
    assert!(
        stdout.contains("mcq                  3  2 positive, 1 counter"),
        "{stdout}"
    );
    assert!(stdout.contains("[believer: no]"), "{stdout}");

    let out = neglect(&[
        "claims",
        "show",
        "no_such_claim",
        "--claims-dir",
        root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no claim 'no_such_claim'"));
}

#[test]
fn run_plan_validates_and_counts_the_grid() {
    let main = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/main.toml");
    let out = neglect(&["run", "--plan", main.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("grid:       6 claims, 42 cells (30 fine-tunes, 12 eval-only)"),
        "{stdout}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    fs::write(&bad, "name = \"x\"\nconditions = [\"positive_documents\"]\n[claims]\nsource = \"world\"\n[eval]\ntemperature = 3.0\n").unwrap();
    let out = neglect(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "error: {}:6:1: eval.temperature: must be in [0, 2], got 3",
        bad.display()
    );
    assert!(text(&out).1.contains(&expected), "{}", text(&out).1);
}
