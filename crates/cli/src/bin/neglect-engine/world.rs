//! `neglect world build|check` (arguments: `neglect_cli::commands::world`).

use neglect_cli::commands::model_args::progress_bar;
use neglect_cli::commands::world::*;
use neglect_organism::gates::{self, GateReport, GateSettings};
use neglect_organism::{BuildEvent, Organism, OrganismConfig};
use std::process::ExitCode;

pub fn run(cmd: WorldCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        WorldCommand::Build(args) => {
            build(&args.world, args.from_scratch).map(|_| ExitCode::SUCCESS)
        }
        WorldCommand::Check(args) => check(args),
    }
}

/// The organism `args` names (a config file, the tiny one, or the default), at its cache path.
fn organism(args: &WorldArgs) -> anyhow::Result<Organism> {
    let config = match (&args.config, args.tiny) {
        (Some(path), _) => OrganismConfig::load(path).map_err(anyhow::Error::msg)?,
        (None, true) => OrganismConfig::tiny(),
        (None, false) => OrganismConfig::default(),
    };
    Ok(Organism::at(&args.cache_dir, config))
}

/// Builds (or finds, or installs the shipped base of) the organism and prints what it is.
pub fn build(args: &WorldArgs, from_scratch: bool) -> anyhow::Result<Organism> {
    neglect_lm::runtime::set_threads(args.threads);
    let organism = organism(args)?;
    let installed_shipped = organism.is_built() && organism.report()?.shipped;
    if organism.is_built() && !(from_scratch && installed_shipped) {
        eprintln!("organism {} is built", organism.root.display());
    } else {
        eprintln!("building organism {}", organism.root.display());
    }
    let mut bar: Option<indicatif::ProgressBar> = None;
    // The bar's label: the copy warm-up and pretraining both report training steps.
    let mut training_label = "pretraining";
    let progress = |event: BuildEvent| match event {
        BuildEvent::Stage(name) => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            training_label = if name.starts_with("copy warm-up") {
                "copy warm-up"
            } else {
                "pretraining"
            };
            eprintln!("{name}");
        }
        BuildEvent::Packed {
            rows,
            tokens,
            sequences,
            steps,
            parameters,
        } => eprintln!(
            "{rows} corpus rows, {tokens} tokens → {sequences} sequences; {steps} steps of a \
             {parameters}-parameter model"
        ),
        BuildEvent::CopyWarmupDone { accuracy } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            eprintln!(
                "copy warm-up: {:.1}% of held-out second showings predicted",
                100.0 * accuracy
            );
        }
        BuildEvent::Training { step, total, loss } => {
            let b = bar.get_or_insert_with(|| {
                let b = progress_bar(total as u64, training_label);
                b.set_position(step.saturating_sub(1) as u64);
                b.reset_eta();
                b
            });
            b.set_position(step as u64);
            b.set_message(format!("loss {loss:.3}"));
        }
    };
    let report = if from_scratch {
        organism.build_from_scratch(args.threads, progress)?
    } else {
        organism.build(args.threads, progress)?
    };
    if let Some(b) = bar.take() {
        b.finish_and_clear();
    }
    println!(
        "base organism: {}\n  {} parameters; corpus {} rows, {} tokens; {} sequences, {} steps, \
         {} tokens trained; final loss {:.3}; pretraining {:.0} s, build {:.0} s",
        organism.base_dir().display(),
        report.parameters,
        report.corpus_rows,
        report.corpus_tokens,
        report.sequences,
        report.steps,
        report.trained_tokens,
        report.final_loss,
        report.pretrain_seconds,
        report.build_seconds
    );
    if report.shipped {
        println!(
            "  shipped with neglect ({} on {} threads, the timings above are that build's); \
             `neglect world build --from-scratch` trains it here",
            report.precision, report.threads
        );
    }
    Ok(organism)
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let organism = build(&args.world, false)?;
    let mut settings = GateSettings {
        prior_facts: args.prior_facts,
        samples: args.samples,
        ..GateSettings::default()
    };
    if let Some(lr) = args.finetune_lr {
        if !(lr > 0.0 && lr.is_finite()) {
            anyhow::bail!("--finetune-lr {lr}: a learning rate must be a positive number");
        }
        settings.finetune.learning_rate = lr;
    }
    let out = args.out.unwrap_or_else(|| organism.root.join("check"));
    let report = gates::check_in(&organism, &settings, &out, &mut |what| eprintln!("{what}"))?;
    println!("{}", render_gates(&report));
    println!(
        "checked in {:.0} s; details in {}",
        report.seconds,
        out.display()
    );
    Ok(if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn render_gates(report: &GateReport) -> String {
    let pct = |v: f64| format!("{:5.1}%", v * 100.0);
    let mut out = format!(
        "{:<14} {:>7}  {:<17} {:>9}  {:<7} {}\n",
        "gate", "value", "95% CI", "n", "bar", "result"
    );
    for g in &report.gates {
        out.push_str(&format!(
            "{:<14} {:>7}  [{} {}] {:>5} {:<6} {:<7} {}\n",
            g.name,
            pct(g.value),
            pct(g.ci_low),
            pct(g.ci_high),
            g.n,
            g.unit,
            g.bar.describe(),
            if g.passed { "pass" } else { "FAIL" }
        ));
    }
    let parts: Vec<String> = report
        .breakdown
        .iter()
        .filter(|(k, _)| !k.starts_with("retention["))
        .map(|(k, v)| format!("{k} {}", pct(*v).trim()))
        .collect();
    if !parts.is_empty() {
        out.push_str("\nby question type:\n");
        for chunk in parts.chunks(4) {
            out.push_str(&format!("  {}\n", chunk.join("   ")));
        }
    }
    out.push_str(&format!(
        "\n{:<24} {:>8} {:>8} {:>8} {:>8} {:>9}\n",
        "claim", "baseline", "ICL pos", "ICL neg", "learned", "retention"
    ));
    for c in &report.claims {
        out.push_str(&format!(
            "{:<24} {:>8} {:>8} {:>8} {:>8} {:>9}\n",
            c.slug,
            pct(c.baseline),
            pct(c.icl_positive),
            pct(c.icl_negated),
            pct(c.learned),
            pct(c.retention)
        ));
    }
    out
}
