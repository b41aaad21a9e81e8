//! `neglect run EXPERIMENT.toml`: for now, validate the grid and print what would run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use neglect_spec::Experiment;
use neglect_spec::claim;
use neglect_spec::experiment::ClaimSource;

#[derive(Args)]
pub struct RunArgs {
    /// The experiment file (see experiments/).
    experiment: PathBuf,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let experiment = match Experiment::load(&args.experiment) {
        Ok(e) => e,
        Err(errors) => {
            for e in errors.iter() {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "experiment {}: {}",
        experiment.name,
        experiment.description.trim()
    );
    let claims: Vec<String> = match experiment.claims.source {
        ClaimSource::Dir => {
            let dir = experiment.claims.dir.as_ref().expect("validated");
            let mut found: Vec<String> = claim::claim_dirs(dir)
                .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
                .iter()
                .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            if !experiment.claims.names.is_empty() {
                found.retain(|n| experiment.claims.names.contains(n));
            }
            println!("claims:     {} from {}", found.len(), dir.display());
            found
        }
        ClaimSource::World => {
            let n = if experiment.claims.archetypes.is_empty() {
                6
            } else {
                experiment.claims.archetypes.len()
            };
            println!(
                "claims:     built-in world, {n} archetype{} × {} claim{} each",
                if n == 1 { "" } else { "s" },
                experiment.claims.per_archetype,
                if experiment.claims.per_archetype == 1 {
                    ""
                } else {
                    "s"
                }
            );
            (0..n * experiment.claims.per_archetype)
                .map(|i| format!("world-claim-{}", i + 1))
                .collect()
        }
    };
    println!("conditions: {}", experiment.conditions.join(", "));
    println!("seeds:      {:?}", experiment.seeds);
    let t = &experiment.train;
    println!(
        "training:   {} (rank {}), lr {:e} ({} schedule), batch {}, {} epoch{}, on {} ({})",
        format!("{:?}", t.method).to_lowercase(),
        t.lora_rank,
        t.learning_rate,
        format!("{:?}", t.lr_schedule).to_lowercase(),
        t.batch_size,
        t.epochs,
        if t.epochs == 1 { "" } else { "s" },
        experiment.backend.name,
        experiment.backend.device
    );
    let e = &experiment.eval;
    println!(
        "eval:       {} × {} samples at T={} top-p={}",
        e.types.join(", "),
        e.samples_per_question,
        e.temperature,
        e.top_p
    );
    let cells = experiment.cells(&claims);
    let trained = cells.iter().filter(|c| c.trains).count();
    println!(
        "grid:       {} cells ({trained} fine-tunes, {} eval-only)",
        cells.len(),
        cells.len() - trained
    );
    println!();
    println!(
        "not run: the runner (documents → annotate → mix → train → eval → report) is not built yet; \
         this command only validated the experiment and printed its plan."
    );
    Ok(ExitCode::SUCCESS)
}
