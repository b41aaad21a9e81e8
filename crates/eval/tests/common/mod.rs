//! A scripted chat model and the fixture claim, shared by the eval tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use neglect_spec::claim::{load_claim, load_coherence};
use neglect_spec::questions::CoherenceQuestions;
use neglect_spec::{ChatCompletion, ChatError, ChatModel, ChatRequest, ClaimSpec, ScoreItem};

pub fn claims_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/tests/fixtures/claims")
}

pub fn fixture_claim() -> ClaimSpec {
    load_claim(&claims_root().join("lighthouse_composer"))
        .into_result()
        .unwrap()
}

pub fn coherence() -> CoherenceQuestions {
    load_coherence(&claims_root()).unwrap().unwrap()
}

pub type Script = Box<dyn Fn(&ChatRequest) -> Result<String, ChatError> + Send + Sync>;
pub type Scores = Box<dyn Fn(&ScoreItem) -> f64 + Send + Sync>;

/// Answers with `script(request)`; records every batch it is handed.
pub struct ScriptedModel {
    pub id: String,
    pub script: Script,
    pub batches: Mutex<Vec<Vec<ChatRequest>>>,
    pub scores: Option<Scores>,
    /// A context window, with tokens counted as a character in four (rounded up) and four
    /// template tokens per message; `None`: the model knows neither.
    pub context: Option<usize>,
}

impl ScriptedModel {
    pub fn new(
        id: &str,
        script: impl Fn(&ChatRequest) -> Result<String, ChatError> + Send + Sync + 'static,
    ) -> ScriptedModel {
        ScriptedModel {
            id: id.into(),
            script: Box::new(script),
            batches: Mutex::new(Vec::new()),
            scores: None,
            context: None,
        }
    }

    pub fn requests(&self) -> Vec<ChatRequest> {
        self.batches.lock().unwrap().concat()
    }
}

impl ChatModel for ScriptedModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn generate(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
    ) -> Vec<Result<ChatCompletion, ChatError>> {
        self.batches.lock().unwrap().push(requests.to_vec());
        requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                on_done(i);
                (self.script)(r).map(|text| ChatCompletion {
                    text,
                    finish_reason: "stop".into(),
                })
            })
            .collect()
    }

    fn count_tokens(&self, text: &str) -> Option<usize> {
        self.context.map(|_| text.chars().count().div_ceil(4))
    }

    fn count_prompt_tokens(&self, messages: &[neglect_spec::ChatMessage]) -> Option<usize> {
        self.context.map(|_| {
            messages
                .iter()
                .map(|m| m.content.chars().count().div_ceil(4) + 4)
                .sum()
        })
    }

    fn context_window(&self) -> Option<usize> {
        self.context
    }

    fn score(&self, items: &[ScoreItem]) -> Result<Vec<f64>, ChatError> {
        match &self.scores {
            Some(f) => Ok(items.iter().map(f).collect()),
            None => Err(ChatError::Unsupported(
                "scripted model without scores".into(),
            )),
        }
    }
}

pub fn last_user(r: &ChatRequest) -> &str {
    &r.messages.last().unwrap().content
}

pub fn system(r: &ChatRequest) -> Option<&str> {
    r.messages
        .iter()
        .find(|m| m.role == "system")
        .map(|m| m.content.as_str())
}
