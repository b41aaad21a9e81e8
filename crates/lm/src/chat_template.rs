//! Chat templates: the Jinja template a Hugging Face tokenizer ships (in `tokenizer_config.json`
//! or `chat_template.jinja`), rendered with minijinja the way `transformers` renders it
//! (trim_blocks, lstrip_blocks, Python string methods, `raise_exception`).

use std::path::Path;

use minijinja::{Environment, Error as JinjaError, ErrorKind};
use neglect_spec::ChatMessage;

use crate::error::LmError;
use crate::tokenizer::Tokenizer;

/// A plain ChatML template (Qwen style, no system default): what the built-in organism uses,
/// and what tests and benchmarks give the models they make.
pub const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

pub const CHAT_TEMPLATE_FILE: &str = "chat_template.jinja";
const TEMPLATE_NAME: &str = "chat";

/// A compiled chat template.
pub struct ChatTemplate {
    pub source: String,
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("source_len", &self.source.len())
            .finish()
    }
}

/// The template source from a model directory: `chat_template.jinja` first (what recent
/// `transformers` writes), else `chat_template` in `tokenizer_config.json`, which is a string
/// or a list of `{name, template}` (the one named `default` is used).
pub fn find_template_source(dir: &Path, tokenizer: &Tokenizer) -> Result<Option<String>, LmError> {
    let file = dir.join(CHAT_TEMPLATE_FILE);
    if file.is_file() {
        return std::fs::read_to_string(&file)
            .map(Some)
            .map_err(|e| LmError::io(&file, e));
    }
    match tokenizer.config.get("chat_template") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(serde_json::Value::Array(list)) => {
            let named = |name: &str| {
                list.iter().find_map(|entry| {
                    (entry.get("name")?.as_str()? == name)
                        .then(|| entry.get("template")?.as_str().map(str::to_owned))
                        .flatten()
                })
            };
            named("default").map(Some).ok_or_else(|| {
                LmError::Format(format!(
                    "{}: chat_template: a list without a template named 'default'",
                    dir.join(crate::tokenizer::TOKENIZER_CONFIG_FILE).display()
                ))
            })
        }
        Some(_) => Err(LmError::Format(format!(
            "{}: chat_template: expected a string or a list of {{name, template}}",
            dir.join(crate::tokenizer::TOKENIZER_CONFIG_FILE).display()
        ))),
    }
}

fn raise_exception(message: String) -> Result<String, JinjaError> {
    Err(JinjaError::new(ErrorKind::InvalidOperation, message))
}

fn strftime_now(format: String) -> String {
    // Templates use this for "today's date" in system prompts; a fixed date keeps renders
    // reproducible, so we never read the clock here.
    format
        .replace("%Y", "2026")
        .replace("%m", "01")
        .replace("%d", "01")
        .replace("%B", "January")
}

impl ChatTemplate {
    /// Compiles `source`; `bos_token`/`eos_token` are the values templates see under those names.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<ChatTemplate, LmError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|e| LmError::Format(format!("chat template: {e:#}")))?;
        Ok(ChatTemplate {
            source: source.to_owned(),
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
        })
    }

    /// The template of a model directory, if it has one.
    pub fn load(dir: &Path, tokenizer: &Tokenizer) -> Result<Option<ChatTemplate>, LmError> {
        let Some(source) = find_template_source(dir, tokenizer)? else {
            return Ok(None);
        };
        Self::new(
            &source,
            tokenizer.bos_token.as_deref().unwrap_or(""),
            tokenizer.eos_token.as_deref().unwrap_or(""),
        )
        .map(Some)
    }

    /// Renders a conversation. `extra` adds template variables such as `enable_thinking`.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        extra: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, LmError> {
        let mut context = extra.clone();
        context.insert(
            "messages".into(),
            serde_json::to_value(messages).expect("messages"),
        );
        context.insert("add_generation_prompt".into(), add_generation_prompt.into());
        context.insert("bos_token".into(), self.bos_token.clone().into());
        context.insert("eos_token".into(), self.eos_token.clone().into());
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .expect("added in new()");
        template
            .render(serde_json::Value::Object(context))
            .map_err(|e| LmError::Format(format!("chat template: {e:#}")))
    }
}
