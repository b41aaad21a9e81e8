//! The base checkpoint shipped with the toolkit (model-organism.md allows one once a build takes
//! longer than ten minutes), so that a fresh machine runs experiments on the default organism in
//! minutes instead of pretraining it first.
//!
//! It is the default config's base exactly as `neglect world build --from-scratch` trained it;
//! `shipped/README.md` gives the command, the machine and the date. Installing it writes the
//! organism directory a build writes: the world, claims and corpus are regenerated from the config
//! (seconds), the tokenizer and weights come from the shipped files. The corpus is checked
//! against the one the weights were trained on, so a changed generator is never paired with stale
//! weights: installing refuses, and a build trains instead.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::OrganismError;
use crate::builder::BuildReport;
use crate::config::OrganismConfig;

const CONFIG: &str = include_str!("../shipped/config.json");
const BUILD: &str = include_str!("../shipped/build.json");
const CORPUS_SHA256: &str = include_str!("../shipped/corpus.sha256");

/// The files of the base's HF directory, by name. The tokenizer directory of the organism holds
/// the same two tokenizer files.
pub const BASE_FILES: [(&str, &[u8]); 4] = [
    ("config.json", include_bytes!("../shipped/base/config.json")),
    (
        "model.safetensors",
        include_bytes!("../shipped/base/model.safetensors"),
    ),
    (
        "tokenizer.json",
        include_bytes!("../shipped/base/tokenizer.json"),
    ),
    (
        "tokenizer_config.json",
        include_bytes!("../shipped/base/tokenizer_config.json"),
    ),
];
pub const TOKENIZER_FILES: [&str; 2] = ["tokenizer.json", "tokenizer_config.json"];

/// The organism config the shipped base was built from.
pub fn config() -> Result<OrganismConfig, OrganismError> {
    serde_json::from_str(CONFIG)
        .map_err(|e| OrganismError::Format(format!("shipped/config.json: {e}")))
}

/// The build report of the shipped base (its sizes and the timings of the build that made it).
pub fn report() -> Result<BuildReport, OrganismError> {
    serde_json::from_str(BUILD)
        .map_err(|e| OrganismError::Format(format!("shipped/build.json: {e}")))
}

/// SHA-256 (hex) of the `corpus.jsonl` the shipped base was trained on.
pub fn corpus_sha256() -> &'static str {
    CORPUS_SHA256.split_whitespace().next().unwrap_or("")
}

/// True when `config` is the one the shipped base was built from (equal configs have equal
/// hashes: the hash is of the config and this binary's generator version).
pub fn matches(config: &OrganismConfig) -> bool {
    self::config().is_ok_and(|shipped| &shipped == config)
}

/// SHA-256 (hex) of a file, read in one go (a corpus is tens of MB).
pub fn file_sha256(path: &Path) -> Result<String, OrganismError> {
    let bytes = std::fs::read(path).map_err(|e| OrganismError::io(path, e))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
