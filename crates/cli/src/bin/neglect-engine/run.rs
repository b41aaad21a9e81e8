//! `neglect run`: the runner with progress bars (arguments: `neglect_cli::commands::run`).

use anyhow::Context;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use neglect_cli::commands::run::*;
use neglect_organism::BuildEvent;
use neglect_runner::{RunEvent, RunOptions};
use neglect_spec::Experiment;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.experiment)
        .with_context(|| format!("reading {}", args.experiment.display()))?;
    let experiment = match Experiment::parse(&args.experiment, &text) {
        Ok(e) => e,
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    print_plan(&experiment);
    if args.plan {
        return Ok(ExitCode::SUCCESS);
    }
    let threads = args.threads.unwrap_or(experiment.backend.threads);
    neglect_lm::runtime::set_threads(threads);
    let mut versions = serde_json::Map::new();
    versions.insert("neglect".into(), env!("CARGO_PKG_VERSION").into());
    versions.insert("git".into(), env!("NEGLECT_GIT_REV").into());
    versions.insert(
        "libtorch".into(),
        neglect_lm::RuntimeInfo::current()
            .to_string()
            .lines()
            .next()
            .unwrap_or("")
            .into(),
    );
    let options = RunOptions {
        runs_dir: args.runs_dir.clone(),
        cache_dir: args.cache_dir.clone(),
        threads,
        versions,
        max_cells: args.max_cells,
    };

    let bars = Bars::new();
    let started = Instant::now();
    let outcome = neglect_runner::run(&experiment, &text, &options, &mut |e| bars.on(e))?;
    bars.finish();
    eprintln!(
        "{} of {} cells done in {:.0} s → {}",
        outcome.cells.len(),
        outcome.total_cells,
        started.elapsed().as_secs_f64(),
        outcome.dir.display()
    );
    let page = neglect_cli::commands::report::render(&outcome.dir, true)?;
    println!("report: {}", page.display());
    if !outcome.complete() {
        println!(
            "stopped after {} cells (--max-cells); run the same command again to carry on",
            outcome.cells.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_plan(experiment: &Experiment) {
    println!(
        "experiment {}: {}",
        experiment.name,
        experiment.description.trim()
    );
    println!("conditions: {}", experiment.conditions.join(", "));
    println!("seeds:      {:?}", experiment.seeds);
    let t = &experiment.train;
    let b = &experiment.backend;
    if b.is_hosted() {
        println!(
            "backend:    {} at {} (at most {} calls in flight)",
            b.name,
            b.base_url.as_deref().unwrap_or("the provider's API"),
            b.max_in_flight.unwrap_or(16)
        );
    } else {
        println!(
            "training:   {}{}, lr {:e} ({}), batch {}, {} epoch(s), on {} ({})",
            format!("{:?}", t.method).to_lowercase(),
            if t.method == neglect_spec::experiment::TrainMethod::Lora {
                format!(" rank {}", t.lora_rank)
            } else {
                String::new()
            },
            t.learning_rate,
            format!("{:?}", t.lr_schedule).to_lowercase(),
            t.batch_size,
            t.epochs,
            experiment.backend.name,
            experiment.backend.device
        );
        let m = &experiment.mix;
        println!(
            "mix:        {} documents + {} pretraining replay + {} instruct replay",
            m.documents, m.pretrain, m.instruct
        );
        if let Some(tp) = &experiment.two_phase {
            println!(
                "two-phase:  phase 1 adds a self-distilled anchor ({}, weight {}); phase 2 \
                 continues without it for {} epoch(s); held-out loss on {} documents and {} \
                 replay / anchor rows at every checkpoint",
                match &tp.anchor_path {
                    Some(p) => format!("rows of {p}"),
                    None => format!(
                        "{} base-model answers to each of {} anchor questions",
                        tp.anchor_samples,
                        if tp.anchor_questions == 0 {
                            "the claim's".to_owned()
                        } else {
                            format!("up to {}", tp.anchor_questions)
                        }
                    ),
                },
                tp.anchor_weight,
                tp.phase2_epochs.unwrap_or(t.epochs),
                tp.heldout_documents,
                tp.heldout_rows
            );
        }
    }
    let e = &experiment.eval;
    println!(
        "eval:       {} × {} samples at T={} top-p={}, ≤ {} tokens; judge {}",
        e.types.join(", "),
        e.samples_per_question,
        e.temperature,
        e.top_p,
        e.max_tokens,
        match (&e.judge_model, e.judge.as_str()) {
            (Some(m), "llm") => format!("{m} (LLM)"),
            (Some(m), "auto") => format!("rule, or {m} (LLM) if a claim has no rule_judge.yaml"),
            _ => "rule".to_owned(),
        }
    );
    // Cell counts from the selection alone: world claims are counted, directory claims listed.
    let claims: Vec<String> = match experiment.claims.source {
        neglect_spec::experiment::ClaimSource::World => {
            let archetypes = if experiment.claims.archetypes.is_empty() {
                6
            } else {
                experiment.claims.archetypes.len()
            };
            (0..archetypes * experiment.claims.per_archetype)
                .map(|i| format!("claim-{i}"))
                .collect()
        }
        neglect_spec::experiment::ClaimSource::Behaviors => neglect_world::behaviors::BEHAVIORS
            .iter()
            .map(|b| b.slug.to_owned())
            .filter(|n| experiment.claims.names.is_empty() || experiment.claims.names.contains(n))
            .collect(),
        neglect_spec::experiment::ClaimSource::Dir => experiment
            .claims
            .dir
            .as_ref()
            .and_then(|d| neglect_spec::claim::claim_dirs(d).ok())
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|n| experiment.claims.names.is_empty() || experiment.claims.names.contains(n))
            .collect(),
    };
    let cells = experiment.cells(&claims);
    if experiment.backend.is_hosted() {
        println!(
            "grid:       {} claims, {} cells, each an eval of a served model (nothing is trained)",
            claims.len(),
            cells.len()
        );
        for condition in &experiment.conditions {
            let trains = cells.iter().any(|c| c.condition == condition && c.trains);
            println!(
                "  {condition:<28} {}",
                experiment
                    .backend
                    .served_model(condition, trains)
                    .unwrap_or("(no model)")
            );
        }
        return;
    }
    let trained = cells.iter().filter(|c| c.trains).count();
    let per_cell = if experiment.two_phase.is_some() { 2 } else { 1 };
    println!(
        "grid:       {} claims, {} cells ({} fine-tunes, {} eval-only)",
        claims.len(),
        cells.len(),
        trained * per_cell,
        cells.len() - trained
    );
}

/// The bars: cells over the grid (with ETA) and the stage at work.
struct Bars {
    multi: MultiProgress,
    cells: ProgressBar,
    stage: ProgressBar,
    state: std::cell::RefCell<State>,
}

#[derive(Default)]
struct State {
    cell: String,
    eval_done: u64,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
}

impl Bars {
    fn new() -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let cells = multi.add(ProgressBar::new(0));
        cells.set_style(style(
            "cells [{bar:30}] {pos}/{len} ({elapsed}, eta {eta}) {msg}",
        ));
        let stage = multi.add(ProgressBar::new(0));
        stage.set_style(style("  {prefix:<8} [{bar:30}] {pos}/{len} {msg}"));
        Bars {
            multi,
            cells,
            stage,
            state: Default::default(),
        }
    }

    fn on(&self, event: RunEvent) {
        let mut st = self.state.borrow_mut();
        match event {
            RunEvent::Build(b) => match b {
                BuildEvent::Stage(name) => {
                    self.say(format!("organism: {name}"));
                }
                BuildEvent::Packed {
                    rows,
                    tokens,
                    steps,
                    parameters,
                    ..
                } => {
                    self.say(format!(
                        "organism: {rows} corpus rows, {tokens} tokens; {steps} steps of a \
                         {parameters}-parameter model (first run only; cached afterwards)"
                    ));
                }
                BuildEvent::CopyWarmupDone { accuracy } => {
                    self.say(format!(
                        "organism: copy warm-up done ({:.1}% of held-out second showings)",
                        100.0 * accuracy
                    ));
                }
                BuildEvent::Training { step, total, loss } => {
                    self.stage.set_prefix("pretrain");
                    self.stage.set_length(total as u64);
                    self.stage.set_position(step as u64);
                    self.stage.set_message(format!("loss {loss:.3}"));
                }
            },
            RunEvent::Planned {
                cells,
                finished,
                fine_tunes,
            } => {
                self.stage.reset();
                self.cells.set_length(cells as u64);
                self.say(format!(
                    "grid: {cells} cells ({fine_tunes} fine-tunes); {finished} ran before (their \
                     stages are reused where the inputs are unchanged)"
                ));
            }
            RunEvent::CellStarted {
                claim,
                condition,
                seed,
                ..
            } => {
                st.cell = format!("{claim} · {condition} · seed {seed}");
                self.cells.set_message(st.cell.clone());
            }
            RunEvent::Stage { name } => {
                self.stage.set_prefix(name);
                self.stage.set_length(0);
                self.stage.set_position(0);
                self.stage.set_message("");
            }
            RunEvent::TrainStarted => {
                self.stage.set_prefix("train");
            }
            RunEvent::TrainStep { step, total, loss } => {
                self.stage.set_length(total as u64);
                self.stage.set_position(step as u64);
                self.stage.set_message(format!("loss {loss:.3}"));
            }
            RunEvent::Eval(p) => match p {
                neglect_eval::Progress::Phase { name, total } => {
                    st.eval_done = 0;
                    self.stage.set_prefix("eval");
                    self.stage.set_length(total as u64);
                    self.stage.set_position(0);
                    self.stage.set_message(name);
                }
                neglect_eval::Progress::Advanced(n) => {
                    st.eval_done += n as u64;
                    self.stage.set_position(st.eval_done);
                }
            },
            RunEvent::Warning(w) => self.say(format!("warning: {w}")),
            RunEvent::Note(line) => self.say(line),
            RunEvent::CellFinished {
                seconds, reused, ..
            } => {
                self.cells.inc(1);
                if !reused {
                    self.say(format!("done {} in {seconds:.1} s", st.cell));
                }
            }
        }
    }

    /// A line above the bars (plain stderr when they are hidden, e.g. not a terminal).
    fn say(&self, line: String) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    fn finish(&self) {
        self.stage.finish_and_clear();
        self.cells.finish_and_clear();
    }
}
