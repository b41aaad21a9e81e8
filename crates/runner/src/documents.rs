//! `documents.source = "llm"`: the reference §2 pipeline (crates/docgen) writes each claim's
//! positive documents from its universe context — and, when a `local_negations*` condition is
//! in the grid, its debunking documents from the negated universe — into
//! `runs/<name>/docs/<claim>/{positive,negated}/`, before any cell runs. docgen keeps every
//! stage's file and resumes from them, so a killed run re-run pays for no call twice (and the
//! response cache answers any call made before).

use std::path::Path;

use neglect_docgen::pipeline::OUTPUT_FILE;
use neglect_docgen::{DocGenConfig, Event, Models, generate};
use neglect_spec::Experiment;

use crate::base::{Base, ClaimDocs};
use crate::hosted::Hosted;
use crate::{RunError, RunEvent};

pub fn generate_all(
    experiment: &Experiment,
    base: &mut Base,
    hosted: &Hosted,
    run_dir: &Path,
    progress: &mut dyn FnMut(RunEvent),
) -> Result<(), RunError> {
    let g = experiment
        .documents
        .generator
        .as_ref()
        .expect("source = \"llm\" is validated to have [documents.generator]");
    let ([brainstorm, writer, filter], _) = hosted.generators(g)?;
    let models = Models {
        brainstorm: &brainstorm,
        writer: &writer,
        filter: &filter,
    };
    let config = DocGenConfig {
        num_doc_types: g.doc_types,
        num_ideas: g.ideas,
        total_docs: experiment.documents.per_claim,
        revise: g.revise,
        filter: g.filter,
        max_tokens: g.max_tokens,
        filter_max_tokens: g.max_tokens.min(5_000),
        temperature: g.temperature,
        ..DocGenConfig::default()
    };
    let debunks = experiment
        .conditions
        .iter()
        .any(|c| c.starts_with("local_negations"));
    for spec in &base.claims {
        let dir = run_dir.join("docs").join(&spec.slug);
        let mut write = |universe, out: &Path, system_context: Option<String>| {
            progress(RunEvent::Note(format!(
                "{}: writing documents with {} into {}",
                spec.slug,
                writer.endpoint().model,
                out.display()
            )));
            let config = DocGenConfig {
                system_context,
                ..config.clone()
            };
            let summary = generate(universe, out, &config, &models, &mut |e| {
                if let Event::Calls { stage, calls } = e {
                    progress(RunEvent::Note(format!("  {stage}: {calls} calls")));
                }
            })
            .map_err(|e| RunError::Input(format!("{}: {e}", spec.slug)))?;
            progress(RunEvent::Note(format!(
                "  {} documents kept ({} rejected by the leak filter, {} not written)",
                summary.accepted, summary.rejected, summary.not_generated
            )));
            if summary.accepted == 0 {
                return Err(RunError::Input(format!(
                    "{}: the generator kept no documents (see {})",
                    spec.slug,
                    out.display()
                )));
            }
            Ok(out.join(OUTPUT_FILE))
        };
        let positive = write(&spec.universe, &dir.join("positive"), None)?;
        let debunk = match (&spec.negated_universe, debunks) {
            (Some(negated), true) => Some(write(
                negated,
                &dir.join("negated"),
                spec.negated_system_context.clone(),
            )?),
            (None, true) => {
                return Err(RunError::Input(format!(
                    "{}: local negation needs universe_context_negated.yaml to write debunking \
                     documents from",
                    spec.slug
                )));
            }
            _ => None,
        };
        base.docs
            .insert(spec.slug.clone(), ClaimDocs::Source { positive, debunk });
    }
    Ok(())
}
