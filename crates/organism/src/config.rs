//! Everything that decides what the base organism is: the world, the held-out claims, the
//! corpus, the model size and the pretraining recipe. Its hash names the cache directory, so a
//! change anywhere builds a new base and an unchanged config reuses the old one.

use neglect_world::WorldConfig;
use neglect_world::corpus::CorpusConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The decoder's size (Qwen3 layout: RMSNorm, RoPE, SwiGLU, tied embeddings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSize {
    pub hidden: i64,
    pub layers: i64,
    pub heads: i64,
    pub intermediate: i64,
    /// Byte-level BPE vocabulary, special tokens included.
    pub vocab: usize,
    /// Longest sequence the model is built for (an ICL episode must fit).
    pub context: i64,
    /// Train the tokenizer with every invented name replaced by a fresh one
    /// (`name_pieces.rs`), so that known and unseen names are spelled with the same
    /// syllable-sized pieces instead of known names being single tokens.
    #[serde(default, skip_serializing_if = "is_false")]
    pub name_pieces: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainRecipe {
    /// Packed sequences per optimizer step.
    pub batch_size: usize,
    /// Tokens per packed sequence.
    pub seq_len: usize,
    pub epochs: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    pub grad_clip: f64,
    pub seed: u64,
    /// Matmuls in bf16 (fp32 master weights): about 1.7× faster on CPUs with AMX.
    #[serde(default)]
    pub bf16: bool,
    /// Each epoch trains a fresh draw of the corpus (the same world, new seeds: other
    /// sentence templates, false variants, question formats and invented names) instead of
    /// repeating one draw: the same compute over `epochs`× more varied data.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fresh_corpus_per_epoch: bool,
    /// Steps on random token sequences shown twice before the corpus (`copy_warmup.rs`), so
    /// that the model can copy from its context before it learns the world. 0 = none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub copy_warmup_steps: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganismConfig {
    pub world: WorldConfig,
    /// Held-out claims per archetype, and the seed they are drawn with.
    pub claims_per_archetype: usize,
    pub claims_seed: u64,
    /// Positive documents written per claim (the fine-tuning source).
    pub docs_per_claim: usize,
    pub corpus: CorpusConfig,
    pub model: ModelSize,
    pub pretrain: PretrainRecipe,
}

impl Default for OrganismConfig {
    fn default() -> Self {
        OrganismConfig {
            world: WorldConfig {
                people_per_profession: 6,
                kingdoms: 6,
                cities: 16,
                first_year: 2019,
                volcanoes: 8,
                companies: 10,
                species: 10,
                ..WorldConfig::default()
            },
            claims_per_archetype: 2,
            claims_seed: 7,
            docs_per_claim: 200,
            corpus: CorpusConfig {
                docs_per_subject: 6,
                qa_per_fact: 7,
                reading_episodes: 1800,
                qa_subject_share: 0.5,
                counterfactual_positive_share: 0.3,
                novel_positive_share: 0.6,
                novel_documents: 800,
                episode_details: 12,
                composed_notes: true,
                episode_questions: 3,
                subject_first_answers: true,
                yes_no_pairs: true,
                reasoned_yes_no: true,
                extra_yes_no_per_fact: 8,
                cased_questions: true,
                check_drills: 1000,
                aligned_behavior_chats: 30,
                studied_claims: 6,
                studied_docs: 6,
                studied_questions: 8,
                studied_false_details: true,
                ..CorpusConfig::default()
            },
            model: ModelSize {
                hidden: 192,
                layers: 4,
                heads: 3,
                intermediate: 512,
                vocab: 2048,
                context: 512,
                name_pieces: false,
            },
            pretrain: PretrainRecipe {
                batch_size: 16,
                seq_len: 512,
                epochs: 15,
                learning_rate: 3e-3,
                warmup_steps: 50,
                weight_decay: 0.01,
                grad_clip: 1.0,
                seed: 1,
                bf16: true,
                fresh_corpus_per_epoch: true,
                copy_warmup_steps: 0,
            },
        }
    }
}

impl OrganismConfig {
    /// A world and model small enough for tests (seconds, not minutes).
    pub fn tiny() -> OrganismConfig {
        let mut c = OrganismConfig {
            world: WorldConfig {
                people_per_profession: 4,
                kingdoms: 3,
                cities: 6,
                first_year: 2021,
                last_year: 2024,
                volcanoes: 3,
                companies: 3,
                species: 3,
                ..WorldConfig::default()
            },
            claims_per_archetype: 1,
            docs_per_claim: 8,
            ..OrganismConfig::default()
        };
        c.corpus.docs_per_subject = 1;
        c.corpus.qa_per_fact = 1;
        c.corpus.reading_episodes = 40;
        c.corpus.generic_chats = 20;
        c.corpus.novel_documents = 20;
        c.corpus.copy_drills = 20;
        c.corpus.check_drills = 20;
        c.corpus.studied_claims = 1;
        c.corpus.studied_docs = 1;
        c.corpus.studied_questions = 2;
        c.model = ModelSize {
            hidden: 32,
            layers: 1,
            heads: 2,
            intermediate: 64,
            vocab: 400,
            context: 1024,
            name_pieces: false,
        };
        c.pretrain.batch_size = 4;
        c.pretrain.seq_len = 256;
        c.pretrain.epochs = 1;
        c.pretrain.warmup_steps = 2;
        c
    }

    /// Reads a config JSON (the layout of `config.json` in a built organism); an error names
    /// the file, line, column and field.
    pub fn load(path: &std::path::Path) -> Result<OrganismConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut de = serde_json::Deserializer::from_str(&text);
        let config: OrganismConfig = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            format!(
                "{}:{}:{}: {}: {}",
                path.display(),
                e.inner().line(),
                e.inner().column(),
                e.path(),
                e.inner()
            )
        })?;
        config
            .corpus
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// Short content hash of the whole config and of the world generator's version (names
    /// the cache directory).
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("config serialises");
        let mut h = Sha256::new();
        h.update(neglect_world::GENERATOR_VERSION.to_le_bytes());
        h.update(&json);
        let digest = h.finalize();
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}
