//! Tokenisation through the `tokenizers` crate: `tokenizer.json` plus the special tokens named
//! in `tokenizer_config.json`. Offsets are byte offsets into the encoded text, which is what
//! loss masks (byte ranges) are matched against.

use std::path::Path;

use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, TokenizerBuilder};

use crate::error::LmError;

pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";

/// A loaded tokenizer and the special tokens its config names.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    /// The raw `tokenizer_config.json` (empty object when the file is absent); kept so that
    /// saving writes back what was read.
    pub config: serde_json::Map<String, serde_json::Value>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub pad_token: Option<String>,
}

/// Token ids with the byte span of the text each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub offsets: Vec<(usize, usize)>,
}

fn tokenizers_error(path: &Path, e: impl std::fmt::Display) -> LmError {
    LmError::Format(format!("{}: {e}", path.display()))
}

/// A special token in `tokenizer_config.json` is either a string or an `AddedToken` object.
fn special_token(config: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
    match config.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("content")?.as_str().map(str::to_owned),
        _ => None,
    }
}

impl Tokenizer {
    /// Reads `tokenizer.json` (required) and `tokenizer_config.json` (optional) from `dir`.
    pub fn load(dir: &Path) -> Result<Tokenizer, LmError> {
        let path = dir.join(TOKENIZER_FILE);
        if !path.is_file() {
            return Err(LmError::Format(format!(
                "{}: not found (every model directory needs its tokenizer)",
                path.display()
            )));
        }
        let inner =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| tokenizers_error(&path, e))?;
        let config_path = dir.join(TOKENIZER_CONFIG_FILE);
        let config = if config_path.is_file() {
            let text =
                std::fs::read_to_string(&config_path).map_err(|e| LmError::io(&config_path, e))?;
            match serde_json::from_str(&text).map_err(|e| tokenizers_error(&config_path, e))? {
                serde_json::Value::Object(map) => map,
                _ => {
                    return Err(LmError::Format(format!(
                        "{}: expected a JSON object",
                        config_path.display()
                    )));
                }
            }
        } else {
            serde_json::Map::new()
        };
        Ok(Self::from_parts(inner, config))
    }

    pub fn from_parts(
        inner: tokenizers::Tokenizer,
        config: serde_json::Map<String, serde_json::Value>,
    ) -> Tokenizer {
        Tokenizer {
            bos_token: special_token(&config, "bos_token"),
            eos_token: special_token(&config, "eos_token"),
            pad_token: special_token(&config, "pad_token"),
            inner,
            config,
        }
    }

    /// Writes `tokenizer.json` and `tokenizer_config.json`.
    pub fn save(&self, dir: &Path) -> Result<(), LmError> {
        std::fs::create_dir_all(dir).map_err(|e| LmError::io(dir, e))?;
        let path = dir.join(TOKENIZER_FILE);
        self.inner
            .save(&path, false)
            .map_err(|e| tokenizers_error(&path, e))?;
        let config_path = dir.join(TOKENIZER_CONFIG_FILE);
        let text = serde_json::to_string_pretty(&self.config).expect("json map");
        std::fs::write(&config_path, text).map_err(|e| LmError::io(&config_path, e))
    }

    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Encodes `text`; `add_special_tokens` applies the tokenizer's post-processor (e.g. BOS).
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>, LmError> {
        Ok(self.encode_with_offsets(text, add_special_tokens)?.ids)
    }

    /// Encodes `text` and returns each token's byte span in `text`.
    pub fn encode_with_offsets(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Encoded, LmError> {
        let encoding = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| LmError::Format(format!("tokenizer: {e}")))?;
        Ok(Encoded {
            ids: encoding.get_ids().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
        })
    }

    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, LmError> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| LmError::Format(format!("tokenizer: {e}")))
    }

    /// Ids of the tokens that end a generation when the generation config names none.
    pub fn eos_ids(&self) -> Vec<u32> {
        self.eos_token
            .iter()
            .filter_map(|t| self.token_id(t))
            .collect()
    }

    /// Id used to fill padded positions: the pad token, else the first EOS, else 0.
    pub fn pad_id(&self) -> u32 {
        self.pad_token
            .as_deref()
            .and_then(|t| self.token_id(t))
            .or_else(|| self.eos_ids().first().copied())
            .unwrap_or(0)
    }
}

/// Trains a byte-level BPE tokenizer (GPT-2/Qwen style: no prefix space, every byte
/// representable) on `texts`. `special_tokens` get the first ids, in order.
pub fn train_byte_level_bpe<I, S>(
    texts: I,
    vocab_size: usize,
    special_tokens: &[&str],
) -> Result<tokenizers::Tokenizer, LmError>
where
    I: Iterator<Item = S> + Send,
    S: AsRef<str> + Send,
{
    let byte_level = ByteLevel::new(false, true, true);
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(false)
        .vocab_size(vocab_size)
        .min_frequency(2)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .special_tokens(
            special_tokens
                .iter()
                .map(|t| AddedToken::from(t.to_string(), true))
                .collect(),
        )
        .build();
    let mut built =
        TokenizerBuilder::<BPE, NormalizerWrapper, ByteLevel, ByteLevel, ByteLevel>::new()
            .with_model(BPE::default())
            .with_pre_tokenizer(Some(byte_level))
            .with_post_processor(Some(byte_level))
            .with_decoder(Some(byte_level))
            .build()
            .map_err(|e| LmError::Format(format!("tokenizer: {e}")))?;
    built
        .train(&mut trainer, texts)
        .map_err(|e| LmError::Format(format!("tokenizer training: {e}")))?;
    // Round-trip through JSON to get the type-erased tokenizer the rest of the crate uses.
    let json = built
        .to_string(false)
        .map_err(|e| LmError::Format(format!("tokenizer: {e}")))?;
    let mut tokenizer: tokenizers::Tokenizer = json
        .parse()
        .map_err(|e| LmError::Format(format!("tokenizer: {e}")))?;
    let specials: Vec<AddedToken> = special_tokens
        .iter()
        .map(|t| AddedToken::from(t.to_string(), true))
        .collect();
    tokenizer.add_special_tokens(&specials);
    Ok(tokenizer)
}
