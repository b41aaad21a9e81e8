//! `neglect claims check` and `neglect claims show`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use neglect_spec::claim::{self, ClaimLoad, ClaimSpec};
use neglect_spec::{QuestionSet, SpecError};

#[derive(Subcommand)]
pub enum ClaimsCommand {
    /// Validate claim directories or claims roots; every problem is printed as
    /// file:line:col: field: message. Exits 1 if any claim has errors.
    Check(CheckArgs),
    /// Print a summary of one claim: the claim, its universe, questions and judges.
    Show(ShowArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Claim directories (holding claim.txt) or claims roots (holding claim directories).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Claim slug (official or legacy name) or a path to a claim directory.
    slug: String,
    /// Where to look for the slug; default `claims/`, else the legacy `facts/`.
    #[arg(long, value_name = "DIR")]
    claims_dir: Option<PathBuf>,
    /// Also list every question.
    #[arg(long)]
    questions: bool,
}

pub fn run(cmd: ClaimsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ClaimsCommand::Check(args) => check(args),
        ClaimsCommand::Show(args) => show(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let found = claim::expand_claim_paths(&args.paths).map_err(anyhow::Error::msg)?;
    let claim_dirs = found.dirs;
    let mut root_problems: Vec<SpecError> = Vec::new();
    for root in &found.roots {
        if let Some(Err(errors)) = claim::load_coherence(root) {
            root_problems.extend(errors.0);
        }
    }

    let (mut errors, mut warnings, mut failed) = (root_problems.len(), 0, 0);
    for e in &root_problems {
        eprintln!("error: {e}");
    }
    for dir in &claim_dirs {
        let load = claim::load_claim(dir);
        report(&load);
        errors += load.errors.len();
        warnings += load.warnings.len();
        if !load.errors.is_empty() || (args.strict && !load.warnings.is_empty()) {
            failed += 1;
        }
    }
    let n = claim_dirs.len();
    println!(
        "checked {n} claim{}: {} ok, {failed} failed ({errors} error{}, {warnings} warning{})",
        plural(n),
        n - failed,
        plural(errors),
        plural(warnings)
    );
    Ok(if failed > 0 || !root_problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn report(load: &ClaimLoad) {
    for e in load.errors.iter() {
        eprintln!("error: {e}");
    }
    for w in &load.warnings {
        eprintln!("warning: {w}");
    }
    match (&load.spec, load.errors.is_empty()) {
        (Some(spec), true) => println!("ok    {}  ({})", load.dir.display(), counts(spec)),
        _ => println!(
            "FAIL  {}  ({} error{})",
            load.dir.display(),
            load.errors.len(),
            plural(load.errors.len())
        ),
    }
}

fn counts(spec: &ClaimSpec) -> String {
    let sets: Vec<String> = QuestionSet::ALL
        .iter()
        .map(|s| format!("{} {}", spec.questions(*s).len(), s.name()))
        .collect();
    format!(
        "{}; {} subclaims",
        sets.join(", "),
        spec.universe.subclaims.len()
    )
}

fn resolve_claim(slug: &str, claims_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let as_path = Path::new(slug);
    if claim::is_claim_dir(as_path) {
        return Ok(as_path.to_owned());
    }
    let roots: Vec<PathBuf> = match claims_dir {
        Some(d) => vec![d.to_owned()],
        None => vec![PathBuf::from("claims"), PathBuf::from("facts")],
    };
    for root in &roots {
        if let Some(dir) = claim::find_claim_dir(root, slug) {
            return Ok(dir);
        }
    }
    let looked: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    bail!(
        "no claim '{slug}' in {} (pass --claims-dir, or a path to the claim directory)",
        looked.join(" or ")
    )
}

fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let dir = resolve_claim(&args.slug, args.claims_dir.as_deref())?;
    let load = claim::load_claim(&dir);
    for w in &load.warnings {
        eprintln!("warning: {w}");
    }
    let spec = match load.into_result() {
        Ok(spec) => spec,
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("error: {e}");
            }
            bail!(
                "{} has errors; run `neglect claims check {}`",
                dir.display(),
                dir.display()
            );
        }
    };
    let words = spec.universe.universe_context.split_whitespace().count();
    println!("{}  ({})", spec.slug, spec.dir.display());
    println!("claim:     {}", spec.claim);
    println!(
        "universe:  {words} words, {} subclaims",
        spec.universe.subclaims.len()
    );
    for s in &spec.universe.subclaims {
        println!("           - {s}");
    }
    let negated = match &spec.negated_universe {
        Some(u) => format!(
            "yes ({} words)",
            u.universe_context.split_whitespace().count()
        ),
        None => "no".into(),
    };
    println!("negated universe: {negated}");
    println!(
        "correction:       {}",
        if spec.correction.is_some() {
            "yes"
        } else {
            "no"
        }
    );
    let masks = spec
        .word_masks
        .as_ref()
        .map(|m| m.patterns.len())
        .unwrap_or(0);
    println!("word masks:       {masks} pattern{}", plural(masks));
    println!("questions:");
    for set in QuestionSet::ALL {
        let qs = spec.questions(set);
        let mut by_category: Vec<(String, usize)> = Vec::new();
        for q in qs {
            let c = q.category.clone().unwrap_or_else(|| "-".into());
            match by_category.iter_mut().find(|(k, _)| *k == c) {
                Some(e) => e.1 += 1,
                None => by_category.push((c, 1)),
            }
        }
        let cats: Vec<String> = by_category
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        println!("  {:<18} {:>3}  {}", set.name(), qs.len(), cats.join(", "));
        if args.questions {
            for q in qs {
                let answer = q
                    .belief_answer
                    .as_deref()
                    .map(|a| format!(" [believer: {a}]"))
                    .unwrap_or_default();
                println!(
                    "      {:<10} {}{answer}",
                    q.id,
                    q.question.lines().next().unwrap_or("")
                );
            }
        }
    }
    let judges: Vec<&str> = spec.judges.templates.keys().map(String::as_str).collect();
    println!(
        "judges:    {}",
        if judges.is_empty() {
            "none".into()
        } else {
            judges.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}
