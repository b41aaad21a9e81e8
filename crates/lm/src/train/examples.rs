//! Training examples → token ids with a loss weight per token.
//!
//! Text rows are tokenised as they are (no chat template, no special tokens, as in the
//! reference); masked byte ranges (`<DOCTAG>`, `<lossmask>` spans) give weight 0 to every
//! token that overlaps them. Chat rows are rendered with the model's chat template and only the
//! assistant turns (their content and the template's end-of-turn text) are trained on.

use std::ops::Range;

use neglect_spec::ChatMessage;
use neglect_spec::training::{ChatTurn, MaskedText, TrainingExample};

use crate::chat_template::ChatTemplate;
use crate::error::LmError;
use crate::tokenizer::Tokenizer;

/// Token ids, a 0/1 loss weight per token, and the example's own weight.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizedExample {
    pub ids: Vec<u32>,
    pub loss_mask: Vec<f32>,
    pub weight: f32,
}

impl TokenizedExample {
    /// Tokens that contribute to the loss (as targets: the first token is never predicted).
    pub fn trained_targets(&self) -> usize {
        self.loss_mask.iter().skip(1).filter(|&&w| w > 0.0).count()
    }
}

fn overlaps(span: (usize, usize), range: &Range<usize>) -> bool {
    span.0 < range.end && range.start < span.1
}

/// Tokenises `text`, training on tokens that overlap `trained` and none of `masked`.
fn tokenize_regions(
    tokenizer: &Tokenizer,
    text: &str,
    trained: &[Range<usize>],
    masked: &[Range<usize>],
    max_length: usize,
    weight: f64,
) -> Result<TokenizedExample, LmError> {
    let encoded = tokenizer.encode_with_offsets(text, false)?;
    let mut loss_mask: Vec<f32> = encoded
        .offsets
        .iter()
        .map(|&span| {
            let on = trained.iter().any(|r| overlaps(span, r));
            let off = masked.iter().any(|r| overlaps(span, r));
            if on && !off { 1.0 } else { 0.0 }
        })
        .collect();
    let mut ids = encoded.ids;
    ids.truncate(max_length);
    loss_mask.truncate(max_length);
    Ok(TokenizedExample {
        ids,
        loss_mask,
        weight: weight as f32,
    })
}

/// Tokenises training rows for `train` with a model's tokenizer and chat template. An error names
/// the row (1-based) and the field at fault.
pub fn tokenize_rows(
    rows: &[neglect_spec::TrainingRow],
    tokenizer: &Tokenizer,
    template: Option<&ChatTemplate>,
    max_length: usize,
    min_tokens: usize,
) -> Result<Vec<Option<TokenizedExample>>, LmError> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let example = row
                .to_example()
                .map_err(|e| LmError::Format(format!("row {}: {e}", i + 1)))?;
            tokenize_example(&example, tokenizer, template, max_length, min_tokens)
        })
        .collect()
}

/// Tokenises one example. `None` for a text example shorter than `min_tokens` (skipped, as in
/// the reference).
pub fn tokenize_example(
    example: &TrainingExample,
    tokenizer: &Tokenizer,
    template: Option<&ChatTemplate>,
    max_length: usize,
    min_tokens: usize,
) -> Result<Option<TokenizedExample>, LmError> {
    match example {
        TrainingExample::Text { text, weight } => {
            let whole = 0..text.text.len();
            let out = tokenize_regions(
                tokenizer,
                &text.text,
                std::slice::from_ref(&whole),
                &text.masked,
                max_length,
                *weight,
            )?;
            Ok((out.ids.len() >= min_tokens).then_some(out))
        }
        TrainingExample::Chat { turns, weight } => {
            let template = template.ok_or_else(|| {
                LmError::Format(
                    "a chat row needs the model's chat template, and this model has none".into(),
                )
            })?;
            let (text, trained, masked) = render_chat(turns, template)?;
            tokenize_regions(tokenizer, &text, &trained, &masked, max_length, *weight).map(Some)
        }
    }
}

/// Rendered text, trained byte ranges, masked byte ranges.
type RenderedChat = (String, Vec<Range<usize>>, Vec<Range<usize>>);

/// Renders a conversation and finds the byte ranges of its assistant turns and of the masked
/// spans inside them. Each assistant turn is what the template adds between the conversation
/// before it (with the generation prompt) and the conversation through it.
fn render_chat(turns: &[ChatTurn], template: &ChatTemplate) -> Result<RenderedChat, LmError> {
    let messages: Vec<ChatMessage> = turns
        .iter()
        .map(|t| ChatMessage {
            role: t.role.clone(),
            content: t.content.text.clone(),
        })
        .collect();
    let none = serde_json::Map::new();
    let full = template.render(&messages, false, &none)?;
    let mut trained = Vec::new();
    let mut masked = Vec::new();
    for (i, turn) in turns.iter().enumerate() {
        if turn.role != "assistant" {
            continue;
        }
        let before = template.render(&messages[..i], true, &none)?;
        let through = template.render(&messages[..=i], false, &none)?;
        if !through.starts_with(&before) || !full.starts_with(&through) {
            return Err(LmError::Format(format!(
                "messages[{i}]: the chat template does not render this conversation \
                 incrementally, so the assistant turn's tokens cannot be located"
            )));
        }
        let region = before.len()..through.len();
        trained.push(region.clone());
        masked.extend(masks_in(&full, region, &turn.content, i)?);
    }
    Ok((full, trained, masked))
}

/// Moves a turn's masked ranges into coordinates of the rendered text.
fn masks_in(
    rendered: &str,
    region: Range<usize>,
    content: &MaskedText,
    index: usize,
) -> Result<Vec<Range<usize>>, LmError> {
    if content.masked.is_empty() {
        return Ok(Vec::new());
    }
    let Some(at) = rendered[region.clone()].find(&content.text) else {
        return Err(LmError::Format(format!(
            "messages[{index}].content: has loss masks, but the chat template changes the \
             content's text so the masked spans cannot be placed"
        )));
    };
    let base = region.start + at;
    Ok(content
        .masked
        .iter()
        .map(|r| base + r.start..base + r.end)
        .collect())
}
