//! Stage 0: a universe context from a one-line claim.

use std::path::Path;

use neglect_spec::chat::json_object;
use neglect_spec::{ChatModel, ChatRequest, JsonSchema, Sampling, UniverseContext};
use serde_json::json;

use crate::DocGenError;
use crate::prompts;

/// Asks `model` for a universe context (summary and `subclaims` statements) in which `claim`
/// is true.
pub fn write_universe(
    model: &dyn ChatModel,
    id: &str,
    claim: &str,
    subclaims: usize,
    max_tokens: usize,
) -> Result<UniverseContext, DocGenError> {
    let request = ChatRequest {
        messages: vec![neglect_spec::ChatMessage {
            role: "user".into(),
            content: prompts::universe(claim, subclaims),
        }],
        sampling: Sampling {
            temperature: 1.0,
            top_p: 1.0,
            max_tokens,
        },
        seed: 0,
        json_schema: Some(JsonSchema {
            name: "universe_context".into(),
            schema: json!({
                "type": "object",
                "properties": {
                    "universe_context": {"type": "string"},
                    "subclaims": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["universe_context", "subclaims"],
                "additionalProperties": false,
            }),
        }),
    };
    let answer = model
        .generate(std::slice::from_ref(&request), &mut |_| {})
        .remove(0)
        .map_err(|e| DocGenError::Model(format!("writing the universe context: {e}")))?;
    let value = serde_json::Value::Object(json_object(&answer.text).ok_or_else(|| {
        DocGenError::Model("the universe context answer is not a JSON object".into())
    })?);
    let context = value["universe_context"].as_str().unwrap_or("").trim();
    let subclaims: Vec<String> = value["subclaims"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::trim))
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if context.is_empty() || subclaims.is_empty() {
        return Err(DocGenError::Model(
            "the universe context answer lacks universe_context or subclaims".into(),
        ));
    }
    Ok(UniverseContext {
        id: id.to_owned(),
        universe_context: context.to_owned(),
        subclaims,
        reasoning_for_modification: None,
        false_warning: None,
    })
}

/// The universe context's file name in a claim directory (and in a generation folder).
pub const UNIVERSE_FILE: &str = "universe_context.yaml";

/// Writes `universe_context.yaml` in the reference layout (block scalar, quoted subclaims).
pub fn save_universe(universe: &UniverseContext, path: &Path) -> Result<(), DocGenError> {
    let mut yaml = format!("id: {}\nuniverse_context: |\n", json!(universe.id));
    for line in universe.universe_context.lines() {
        if line.trim().is_empty() {
            yaml.push('\n');
        } else {
            yaml.push_str("  ");
            yaml.push_str(line);
            yaml.push('\n');
        }
    }
    yaml.push_str("subclaims:\n");
    for c in &universe.subclaims {
        // A JSON string is a valid double-quoted YAML scalar.
        yaml.push_str(&format!("  - {}\n", json!(c)));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DocGenError::file(dir, e))?;
    }
    std::fs::write(path, yaml).map_err(|e| DocGenError::file(path, e))
}
