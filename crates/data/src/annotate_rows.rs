//! Annotating JSONL input rows in parallel: the loop behind `neglect annotate`, shared with the
//! throughput benchmark so both measure the same code.

use neglect_spec::{AnnotatedDoc, ChatMessage, DOCTAG};
use rayon::prelude::*;

use crate::annotate::{ClaimContext, annotate, document_rng};

/// The document body of an input row: `content` of a synth doc, `text` without `<DOCTAG>`, or a
/// chat transcript (`messages`) written out as `User: …` / `Assistant: …` paragraphs.
pub fn body_of(row: &serde_json::Value) -> Result<String, String> {
    if let Some(messages) = row.get("messages") {
        let messages: Vec<ChatMessage> =
            serde_json::from_value(messages.clone()).map_err(|e| format!("messages: {e}"))?;
        return Ok(messages
            .iter()
            .map(|m| {
                let mut role = m.role.clone();
                if let Some(first) = role.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                format!("{role}: {}", m.content)
            })
            .collect::<Vec<_>>()
            .join("\n\n"));
    }
    if let Some(content) = row.get("content").and_then(|v| v.as_str()) {
        return Ok(content.to_owned());
    }
    if let Some(text) = row.get("text").and_then(|v| v.as_str()) {
        return Ok(text.strip_prefix(DOCTAG).unwrap_or(text).to_owned());
    }
    Err("content: the row has none of \"content\", \"text\" or \"messages\"".into())
}

/// What one condition needs to annotate rows of one input file.
pub struct RowAnnotator<'a> {
    /// A canonical condition name.
    pub condition: &'static str,
    pub ctx: &'a ClaimContext,
    pub seed: u64,
    pub word_mask: bool,
    /// Names the input in error messages (`FILE:LINE: …`).
    pub source: String,
}

/// A chunk of annotated rows, serialised, in input order.
#[derive(Default)]
pub struct AnnotatedChunk {
    pub lines: Vec<String>,
    /// Claim sentences marked (sandwich conditions only).
    pub marked: usize,
    /// Documents of a sandwich condition with no claim sentence.
    pub without_claim_sentence: usize,
    /// The first bad row (`FILE:LINE: …`); `lines` then holds the rows before it.
    pub error: Option<String>,
}

impl RowAnnotator<'_> {
    /// Annotates `rows` — (index in the input, 1-based line number, raw JSON) — in parallel.
    /// Each document's random stream depends only on the seed, condition and its index, so the
    /// output does not depend on chunking or thread count.
    pub fn annotate_chunk(&self, rows: &[(usize, usize, &str)]) -> AnnotatedChunk {
        let results: Vec<Result<(String, Option<u64>), String>> = rows
            .par_iter()
            .map(|&(index, line, raw)| {
                let at = format!("{}:{line}", self.source);
                let row: serde_json::Value =
                    serde_json::from_str(raw).map_err(|e| format!("{at}: malformed JSON: {e}"))?;
                let body = body_of(&row).map_err(|e| format!("{at}: {e}"))?;
                let mut rng = document_rng(self.seed, self.condition, index);
                let annotation =
                    annotate(self.condition, &body, self.ctx, &mut rng, self.word_mask)
                        .map_err(|e| format!("{at}: {e}"))?;
                let claim_sentences = annotation
                    .record
                    .pointer("/sandwich/claim_sentences")
                    .and_then(|v| v.as_u64());
                let mut doc = AnnotatedDoc::new(annotation.text, &self.ctx.slug, self.condition);
                doc.extra.insert("annotation".into(), annotation.record);
                let json = serde_json::to_string(&doc).map_err(|e| format!("{at}: {e}"))?;
                Ok((json, claim_sentences))
            })
            .collect();
        let mut chunk = AnnotatedChunk::default();
        for result in results {
            let (json, claim_sentences) = match result {
                Ok(r) => r,
                Err(e) => {
                    chunk.error = Some(e);
                    break;
                }
            };
            if let Some(n) = claim_sentences {
                chunk.marked += n as usize;
                chunk.without_claim_sentence += usize::from(n == 0);
            }
            chunk.lines.push(json);
        }
        chunk
    }
}
