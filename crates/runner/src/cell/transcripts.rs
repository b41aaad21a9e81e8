//! Transcript conditions (§4.2: `negated_behaviors`, `positive_behaviors`,
//! `aligned_behaviors`): a behaviour's chat transcripts → `annotate-<condition>/annotated_docs.jsonl`,
//! one row per transcript, `{messages, fact_name, mode, annotation}`. The mix trains them as chats
//! (loss on the assistant's turns); the negation is a system message before the conversation.

use neglect_data::annotate::annotate_transcript;
use neglect_spec::ChatMessage;

use super::*;

/// A claim directory's transcripts when the backend does not name them (claim directories of
/// the hf backend): misaligned, and aligned for the control.
const DIR_TRANSCRIPTS: (&str, &str) = ("transcripts.jsonl", "transcripts_aligned.jsonl");

impl CellPlan {
    pub(super) fn annotate_transcripts(
        &self,
        ctx: &mut Context<'_>,
        spec: &ClaimSpec,
        condition: &str,
    ) -> Result<(PathBuf, Stage, StageOutcome), RunError> {
        let (misaligned, aligned) = match &ctx.base.docs[&self.claim] {
            ClaimDocs::Transcripts {
                misaligned,
                aligned,
            } => (misaligned.clone(), aligned.clone()),
            _ => (
                spec.dir.join(DIR_TRANSCRIPTS.0),
                Some(spec.dir.join(DIR_TRANSCRIPTS.1)),
            ),
        };
        let source = if condition == "aligned_behaviors" {
            aligned.filter(|p| p.is_file()).ok_or_else(|| {
                RunError::Input(format!(
                    "{condition}: {} has no aligned transcripts ({})",
                    self.claim,
                    spec.dir.join(DIR_TRANSCRIPTS.1).display()
                ))
            })?
        } else {
            misaligned
        };
        if !source.is_file() {
            return Err(RunError::Input(format!(
                "{condition}: {} has no chat transcripts ({})",
                self.claim,
                source.display()
            )));
        }
        let per_claim = ctx.experiment.documents.per_claim;
        let seed = self.seed;
        let key = KeyBuilder::new("annotate-transcripts")
            .part(file_hash(&source)?)
            .part(claim_identity(spec)?)
            .part(condition)
            .json(&seed)
            .json(&per_claim)
            .part(env!("CARGO_PKG_VERSION"))
            .finish();
        let stage = self.stage(&format!("annotate-{condition}"), key);
        let out = stage.dir.join("annotated_docs.jsonl");
        (ctx.progress)(RunEvent::Stage { name: "annotate" });
        let outcome = stage.run(|_| {
            let text = std::fs::read_to_string(&source).map_err(|e| RunError::io(&source, e))?;
            let c = ClaimContext::from_spec(spec).map_err(RunError::Input)?;
            let mut rows = Vec::new();
            for (line, raw) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                if rows.len() == per_claim {
                    break;
                }
                let at = format!("{}:{}", source.display(), line + 1);
                let row: serde_json::Value =
                    serde_json::from_str(raw).map_err(|e| RunError::Input(format!("{at}: {e}")))?;
                let messages: Vec<ChatMessage> = serde_json::from_value(row["messages"].clone())
                    .map_err(|e| RunError::Input(format!("{at}: messages: {e}")))?;
                let mut rng = document_rng(seed, condition, rows.len());
                let (messages, record) = annotate_transcript(condition, &messages, &c, &mut rng)
                    .map_err(|e| RunError::Input(format!("{at}: {e}")))?;
                rows.push(serde_json::json!({
                    "messages": messages,
                    "fact_name": self.claim,
                    "mode": condition,
                    "annotation": record,
                }));
            }
            write_jsonl(&out, &rows)
        })?;
        Ok((out, stage, outcome))
    }
}

/// The rows of an annotate stage's output as training rows: documents (`text`) or, for
/// transcript conditions, chats (`messages`).
pub(super) fn annotated_rows(path: &Path) -> Result<Vec<TrainingRow>, RunError> {
    let rows: Vec<serde_json::Value> =
        neglect_spec::jsonl::read_all(path).map_err(|(_, e)| RunError::Input(e.to_string()))?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let at = || format!("{}:{}", path.display(), i + 1);
            if let Some(text) = row.get("text").and_then(|t| t.as_str()) {
                return Ok(TrainingRow::text(text.to_owned()));
            }
            let messages: Vec<ChatMessage> = serde_json::from_value(row["messages"].clone())
                .map_err(|e| RunError::Input(format!("{}: text or messages: {e}", at())))?;
            Ok(TrainingRow::chat(messages))
        })
        .collect()
}
