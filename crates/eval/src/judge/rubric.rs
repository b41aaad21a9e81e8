//! The LLM rubric judge: a claim's `judges.yaml` template, filled in with Python `str.format`
//! semantics, sent as one user message to any `ChatModel`, the verdict read from its JSON.

use std::sync::Arc;

use neglect_spec::ClaimSpec;
use neglect_spec::chat::{ChatModel, ChatRequest, Sampling};

use super::cache::{JudgeCache, cache_key};
use super::parse::{parse_score, parse_verdict};
use super::{Judge, JudgeError, JudgeInput, Judgement};
use crate::eval_type::EvalType;
use crate::prompt::message;

pub struct LlmJudge {
    model: Arc<dyn ChatModel>,
    /// The reference's defaults: temperature 1, a generous token limit.
    pub temperature: f64,
    pub max_tokens: usize,
    cache: Option<Arc<JudgeCache>>,
}

impl LlmJudge {
    pub fn new(model: Arc<dyn ChatModel>, cache: Option<Arc<JudgeCache>>) -> LlmJudge {
        LlmJudge {
            model,
            temperature: 1.0,
            max_tokens: 4096,
            cache,
        }
    }

    /// The prompt the judge model gets for one answer.
    pub fn render(input: &JudgeInput) -> Result<String, JudgeError> {
        let Some(rubric) = &input.rubric else {
            return Err(JudgeError::Unsupported(format!(
                "claim '{}' has no judge template for {}",
                input.claim_slug, input.eval_type
            )));
        };
        rubric
            .template
            .render(|name| match name {
                "question" => Some(input.question.clone()),
                "answer" => Some(input.answer.clone()),
                "claim" => Some(input.claim.clone()),
                _ => None,
            })
            .map_err(JudgeError::Unsupported)
    }
}

impl Judge for LlmJudge {
    fn id(&self) -> String {
        self.model.id().to_owned()
    }

    fn check(
        &self,
        claim: &ClaimSpec,
        eval_type: EvalType,
        has_rubric: bool,
    ) -> Result<(), String> {
        if has_rubric {
            return Ok(());
        }
        Err(match eval_type.judge_template_key() {
            Some(key) => format!("{}/judges.yaml has no '{key}' template for the LLM judge", claim.dir.display()),
            None => "no rubric for the LLM judge (coherence needs coherence_questions.yaml with a judge_rubric)".into(),
        })
    }

    fn prefers_batches(&self) -> bool {
        !self.model.answers_concurrently()
    }

    fn judge(&self, inputs: &[JudgeInput]) -> Vec<Result<Judgement, JudgeError>> {
        let mut raw: Vec<Option<Result<String, JudgeError>>> = vec![None; inputs.len()];
        let mut misses: Vec<(usize, String, ChatRequest)> = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let prompt = match Self::render(input) {
                Ok(p) => p,
                Err(e) => {
                    raw[i] = Some(Err(e));
                    continue;
                }
            };
            let key = cache_key(
                self.model.id(),
                &prompt,
                Some(self.max_tokens),
                self.temperature,
                input.seed,
            );
            if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&key)) {
                raw[i] = Some(Ok(hit));
                continue;
            }
            let request = ChatRequest {
                messages: vec![message("user", &prompt)],
                sampling: Sampling {
                    temperature: self.temperature,
                    top_p: 1.0,
                    max_tokens: self.max_tokens,
                },
                seed: input.seed,
                json_schema: None,
            };
            misses.push((i, key, request));
        }
        if !misses.is_empty() {
            let requests: Vec<ChatRequest> = misses.iter().map(|(_, _, r)| r.clone()).collect();
            let answers = self.model.generate(&requests, &mut |_| {});
            for ((i, key, _), answer) in misses.into_iter().zip(answers) {
                raw[i] = Some(match answer {
                    Ok(completion) => {
                        if let Some(cache) = &self.cache
                            && let Err(e) = cache.put(key, completion.text.clone())
                        {
                            return vec![Err(JudgeError::Failed(e.to_string())); inputs.len()];
                        }
                        Ok(completion.text)
                    }
                    Err(e) => Err(JudgeError::Failed(e.to_string())),
                });
            }
        }
        inputs
            .iter()
            .zip(raw)
            .map(|(input, raw)| {
                let raw = raw.expect("every input handled")?;
                let key = input
                    .rubric
                    .as_ref()
                    .map(|r| r.verdict_key.as_str())
                    .unwrap_or("answer");
                let verdict = if input.eval_type.is_rating() {
                    parse_score(&raw, key)
                } else {
                    parse_verdict(&raw, key)
                };
                Ok(Judgement {
                    verdict,
                    reason: raw,
                })
            })
            .collect()
    }
}
