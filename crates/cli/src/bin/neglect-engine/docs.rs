//! `neglect docs generate --generator templated`: the built-in organism's templated documents
//! for one of its held-out claims (the organism's config lives with the engine).

use std::process::ExitCode;

use anyhow::{Context, bail};
use neglect_cli::commands::docs::{DocsCommand, GenerateArgs};
use neglect_spec::jsonl::JsonlWriter;

pub fn run(cmd: DocsCommand) -> anyhow::Result<ExitCode> {
    let DocsCommand::Generate(args) = cmd;
    templated(&args)
}

fn templated(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let config = neglect_runner::base::organism_config(&args.organism)?;
    let world = neglect_world::World::generate(&config.world);
    let claims = neglect_world::claims::generate_claims(
        &world,
        config.claims_per_archetype,
        config.claims_seed,
    );
    let Some(slug) = args.world_claim.as_deref() else {
        bail!(
            "--generator templated needs --world-claim SLUG, one of: {}",
            claims
                .iter()
                .map(|c| c.slug.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let Some(claim) = claims.iter().find(|c| c.slug == slug) else {
        bail!(
            "--world-claim {slug}: the organism has no such claim (it has: {})",
            claims
                .iter()
                .map(|c| c.slug.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let n = args.n.unwrap_or(config.docs_per_claim);
    let docs = if args.negated {
        neglect_world::documents::debunk_documents(claim, n, config.claims_seed)
    } else {
        neglect_world::documents::claim_documents(claim, n, config.claims_seed)
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let files = neglect_world::claim_dir::write_claim(claim, &args.out, config.claims_seed)
        .with_context(|| format!("writing the claim directory under {}", args.out.display()))?;
    drop(files);
    let path = args.out.join("synth_docs.jsonl");
    if path.exists() {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    let mut writer = JsonlWriter::append(&path)?;
    for d in &docs {
        writer.write(d)?;
    }
    writer.flush()?;
    println!(
        "{} {} documents in {}; the claim directory is {}",
        docs.len(),
        if args.negated {
            "debunking"
        } else {
            "positive"
        },
        path.display(),
        args.out.join(slug).display()
    );
    Ok(ExitCode::SUCCESS)
}
