//! A local model behind the `ChatModel` seam: conversations go through the model's chat
//! template, then batched KV-cache sampling ([`crate::sampling`]) or batched scoring
//! ([`crate::scoring`]).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use neglect_spec::ChatMessage;
use neglect_spec::chat::{ChatCompletion, ChatError, ChatModel, ChatRequest, ScoreItem};

use crate::error::LmError;
use crate::pretrained::Pretrained;
use crate::sampling::{self, FinishReason, GenerationRequest, SamplingParams};
use crate::scoring::{self, ScoreRequest};

pub struct LocalChatModel {
    id: String,
    /// Tensors are not `Sync`; callers on several threads take turns (each call is batched).
    pretrained: Mutex<Pretrained>,
    context: usize,
    /// Sequences decoded together.
    pub batch_size: usize,
    /// Extra chat-template variables (e.g. `enable_thinking: false`).
    pub template_vars: serde_json::Map<String, serde_json::Value>,
}

impl LocalChatModel {
    pub fn new(id: impl Into<String>, pretrained: Pretrained, batch_size: usize) -> LocalChatModel {
        let context = pretrained.model.config.max_position_embeddings.max(0) as usize;
        LocalChatModel {
            id: id.into(),
            pretrained: Mutex::new(pretrained),
            context,
            batch_size: batch_size.max(1),
            template_vars: Default::default(),
        }
    }

    /// Loads a model directory; its id is the path as given.
    pub fn load(
        dir: &Path,
        device: tch::Device,
        batch_size: usize,
    ) -> Result<LocalChatModel, LmError> {
        let pretrained = Pretrained::load(dir, device)?;
        Ok(Self::new(dir.display().to_string(), pretrained, batch_size))
    }

    /// The model, for uses beyond chat (a poisoned lock is still usable: no call leaves the
    /// model half-changed).
    pub fn pretrained(&self) -> MutexGuard<'_, Pretrained> {
        self.pretrained.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The prompt tokens of a conversation, ending in the assistant's generation prompt.
    pub fn encode_conversation(&self, messages: &[ChatMessage]) -> Result<Vec<u32>, LmError> {
        encode_conversation(&self.pretrained(), &self.id, &self.template_vars, messages)
    }
}

fn encode_conversation(
    pretrained: &Pretrained,
    id: &str,
    template_vars: &serde_json::Map<String, serde_json::Value>,
    messages: &[ChatMessage],
) -> Result<Vec<u32>, LmError> {
    let Some(template) = &pretrained.chat_template else {
        return Err(LmError::Format(format!(
            "{id}: the model has no chat template, so it cannot answer conversations"
        )));
    };
    let text = template.render(messages, true, template_vars)?;
    pretrained.tokenizer.encode(&text, false)
}

/// A request's index and its prompt tokens.
type IndexedPrompt = (usize, Vec<u32>);

fn finish_name(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::StopString => "stop",
        FinishReason::Length => "length",
    }
}

impl ChatModel for LocalChatModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn generate(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
    ) -> Vec<Result<ChatCompletion, ChatError>> {
        let mut out: Vec<Option<Result<ChatCompletion, ChatError>>> = vec![None; requests.len()];
        // Requests that can run, grouped by sampling settings (one `generate` call each).
        let mut groups: Vec<(SamplingParams, Vec<IndexedPrompt>)> = Vec::new();
        let context = self.context;
        let model = self.pretrained();
        for (i, r) in requests.iter().enumerate() {
            let prompt =
                match encode_conversation(&model, &self.id, &self.template_vars, &r.messages) {
                    Ok(p) => p,
                    Err(e) => {
                        out[i] = Some(Err(ChatError::Failed(e.to_string())));
                        on_done(i);
                        continue;
                    }
                };
            if prompt.len() >= context {
                out[i] = Some(Err(ChatError::Failed(format!(
                    "the prompt has {} tokens; the model's context is {context}",
                    prompt.len()
                ))));
                on_done(i);
                continue;
            }
            // Never decode past the context window.
            let max_new = r.sampling.max_tokens.min(context - prompt.len()).max(1);
            let params = SamplingParams {
                temperature: r.sampling.temperature,
                top_p: r.sampling.top_p,
                max_new_tokens: max_new,
                ..Default::default()
            };
            match groups.iter_mut().find(|(p, _)| *p == params) {
                Some((_, members)) => members.push((i, prompt)),
                None => groups.push((params, vec![(i, prompt)])),
            }
        }
        let stop_ids = model.stop_ids();
        let pad = model.tokenizer.pad_id();
        let decode = |ids: &[u32]| model.tokenizer.decode(ids, true);
        for (params, mut members) in groups {
            // Similar lengths together waste less padding.
            members.sort_by_key(|(_, p)| p.len());
            let gen_requests: Vec<GenerationRequest> = members
                .iter()
                .map(|(i, p)| GenerationRequest {
                    prompt: p.clone(),
                    seed: requests[*i].seed,
                })
                .collect();
            let result = sampling::generate(
                &model.model,
                &gen_requests,
                &params,
                &stop_ids,
                pad,
                self.batch_size,
                &decode,
                |k, _| on_done(members[k].0),
            );
            match result {
                Ok(completions) => {
                    for ((i, _), c) in members.iter().zip(completions) {
                        out[*i] = Some(Ok(ChatCompletion {
                            text: c.text,
                            finish_reason: finish_name(c.finish_reason).into(),
                        }));
                    }
                }
                Err(e) => {
                    for (i, _) in &members {
                        if out[*i].is_none() {
                            out[*i] = Some(Err(ChatError::Failed(e.to_string())));
                        }
                    }
                }
            }
        }
        out.into_iter()
            .map(|o| o.expect("every request answered"))
            .collect()
    }

    fn score(&self, items: &[ScoreItem]) -> Result<Vec<f64>, ChatError> {
        let failed = |e: LmError| ChatError::Failed(e.to_string());
        let model = self.pretrained();
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            let prompt = encode_conversation(&model, &self.id, &self.template_vars, &item.messages)
                .map_err(failed)?;
            let continuation = model
                .tokenizer
                .encode(&item.continuation, false)
                .map_err(failed)?;
            requests.push(ScoreRequest {
                prompt,
                continuation,
            });
        }
        let scores = scoring::score(
            &model.model,
            &requests,
            model.tokenizer.pad_id(),
            self.batch_size,
        )
        .map_err(failed)?;
        Ok(scores.into_iter().map(|s| s.logprob).collect())
    }

    fn count_tokens(&self, text: &str) -> Option<usize> {
        self.pretrained()
            .tokenizer
            .encode(text, false)
            .ok()
            .map(|t| t.len())
    }

    fn count_prompt_tokens(&self, messages: &[ChatMessage]) -> Option<usize> {
        self.encode_conversation(messages).ok().map(|t| t.len())
    }

    fn context_window(&self) -> Option<usize> {
        Some(self.context)
    }
}
