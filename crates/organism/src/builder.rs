//! Building the base organism: world → held-out claims and their documents → pretraining
//! corpus → tokenizer → packed sequences → pretraining → an HF model directory. Every stage's
//! output is a file in the organism's directory; a stage whose file exists is not redone, and
//! pretraining resumes from its saved state, so a killed build carries on.
//!
//! ```text
//! <cache>/world/<hash>/
//!   config.json          the OrganismConfig this directory was built from
//!   claims/<slug>/       held-out claims in the reference layout (+ rule_judge.yaml)
//!   claims/docs/         <slug>.synth_docs.jsonl, <slug>.debunk_docs.jsonl
//!   corpus.jsonl         the pretraining corpus (training rows)
//!   tokenizer/           the byte-level BPE tokenizer trained on the corpus
//!   pretrain/            trainer state, log.jsonl (resumable)
//!   base/                the base organism (HF checkpoint)
//!   build.json           sizes and timings of the build
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use neglect_lm::chat_template::{CHATML, ChatTemplate};
use neglect_lm::pretrained::{GenerationConfig, Pretrained};
use neglect_lm::tokenizer::{Tokenizer, train_byte_level_bpe};
use neglect_lm::train::{TokenizedExample, TrainEvent, TrainOptions, tokenize_example, train};
use neglect_lm::{Family, Model, ModelConfig};
use neglect_spec::TrainingRow;
use neglect_spec::experiment::{CheckpointSchedule, LrSchedule, TrainConfig, TrainMethod};
use neglect_world::corpus::Corpus;
use neglect_world::{World, generate_claims};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::OrganismError;
use crate::config::OrganismConfig;
use crate::copy_warmup;

const SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// Where an organism lives and what is in it.
#[derive(Debug, Clone)]
pub struct Organism {
    pub root: PathBuf,
    pub config: OrganismConfig,
}

/// What a finished build measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    pub hash: String,
    pub parameters: i64,
    pub corpus_rows: usize,
    /// Tokens in the corpus (one pass), and trained target tokens over all epochs.
    pub corpus_tokens: usize,
    pub trained_tokens: usize,
    pub sequences: usize,
    pub steps: usize,
    pub final_loss: f64,
    /// Wall-clock seconds of the pretraining run that finished the build (a resumed build
    /// counts only its own part), and of the whole command.
    pub pretrain_seconds: f64,
    pub build_seconds: f64,
    pub threads: usize,
    /// Matmul precision the pretraining ran in: "bf16" or "fp32" (bf16 asked for on a CPU
    /// without native bf16 runs in fp32; see `neglect_lm::runtime::bf16_usable`), as the
    /// trainer reports it.
    #[serde(default)]
    pub precision: String,
    /// True when this directory's base was installed from the checkpoint shipped with the
    /// toolkit (`crate::shipped`) rather than trained here; the sizes and timings above are then
    /// those of the build that made it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shipped: bool,
}

/// What [`Organism::install_shipped`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ShippedInstall {
    /// The shipped base is now this organism's base.
    Installed(BuildReport),
    /// No base is shipped for this config.
    NotShipped,
    /// The config matches but the regenerated corpus is not the one the shipped base was trained
    /// on (the world or corpus generator changed since): nothing was installed.
    CorpusChanged { expected: String, found: String },
}

/// Progress of a build, for the CLI's display.
#[derive(Debug, Clone)]
pub enum BuildEvent {
    Stage(&'static str),
    Packed {
        rows: usize,
        tokens: usize,
        sequences: usize,
        steps: usize,
        parameters: i64,
    },
    Training {
        step: usize,
        total: usize,
        loss: f64,
    },
    /// The copy warm-up finished: greedy accuracy on held-out second showings.
    CopyWarmupDone {
        accuracy: f64,
    },
}

impl Organism {
    /// The organism of `config` under `cache` (`<cache>/world/<hash>`).
    pub fn at(cache: &Path, config: OrganismConfig) -> Organism {
        Organism {
            root: cache.join("world").join(config.hash()),
            config,
        }
    }

    pub fn base_dir(&self) -> PathBuf {
        self.root.join("base")
    }
    pub fn claims_dir(&self) -> PathBuf {
        self.root.join("claims")
    }
    pub fn docs_dir(&self) -> PathBuf {
        self.claims_dir().join("docs")
    }
    /// The behaviours (§4.2), each a claim directory with its transcripts.
    pub fn behaviors_dir(&self) -> PathBuf {
        self.root.join("behaviors")
    }
    pub fn corpus_path(&self) -> PathBuf {
        self.root.join("corpus.jsonl")
    }
    pub fn report_path(&self) -> PathBuf {
        self.root.join("build.json")
    }

    pub fn is_built(&self) -> bool {
        self.base_dir().join("config.json").is_file() && self.report_path().is_file()
    }

    pub fn report(&self) -> Result<BuildReport, OrganismError> {
        read_json(&self.report_path())
    }

    pub fn world(&self) -> World {
        World::generate(&self.config.world)
    }

    pub fn claims(&self, world: &World) -> Vec<neglect_world::ToyClaim> {
        generate_claims(
            world,
            self.config.claims_per_archetype,
            self.config.claims_seed,
        )
    }

    /// Builds the organism, or reuses a finished build. A config whose base is shipped with the
    /// toolkit gets that base installed (seconds) instead of pretraining, unless a pretraining
    /// run was started here (it resumes); [`Organism::build_from_scratch`] trains it.
    pub fn build(
        &self,
        threads: usize,
        mut progress: impl FnMut(BuildEvent),
    ) -> Result<BuildReport, OrganismError> {
        if !self.is_built() && !self.root.join("pretrain").exists() {
            match self.install_shipped(&mut progress)? {
                ShippedInstall::Installed(report) => return Ok(report),
                ShippedInstall::NotShipped => {}
                ShippedInstall::CorpusChanged { .. } => progress(BuildEvent::Stage(
                    "the shipped base was trained on another corpus (the generator changed \
                     since): training from scratch",
                )),
            }
        }
        self.train_base(threads, progress)
    }

    /// Builds the organism by pretraining, even where a shipped base matches the config. An
    /// installed shipped base in the cache is replaced (its tokenizer is trained again too, and
    /// its gate results are dropped); a base trained here before is reused.
    pub fn build_from_scratch(
        &self,
        threads: usize,
        progress: impl FnMut(BuildEvent),
    ) -> Result<BuildReport, OrganismError> {
        if self.is_built() && self.report()?.shipped {
            for dir in [self.base_dir(), self.root.join("tokenizer")] {
                std::fs::remove_dir_all(&dir).map_err(|e| OrganismError::io(&dir, e))?;
            }
            let _ = std::fs::remove_dir_all(self.root.join("check"));
            let report = self.report_path();
            std::fs::remove_file(&report).map_err(|e| OrganismError::io(&report, e))?;
        }
        self.train_base(threads, progress)
    }

    /// Installs the shipped base into this organism's directory when the config is the shipped
    /// one and the regenerated corpus is the one it was trained on (see `crate::shipped`).
    pub fn install_shipped(
        &self,
        mut progress: impl FnMut(BuildEvent),
    ) -> Result<ShippedInstall, OrganismError> {
        if !crate::shipped::matches(&self.config) {
            return Ok(ShippedInstall::NotShipped);
        }
        progress(BuildEvent::Stage(
            "installing the shipped base (`neglect world build --from-scratch` trains it \
             instead); generating the world, claims and corpus",
        ));
        std::fs::create_dir_all(&self.root).map_err(|e| OrganismError::io(&self.root, e))?;
        write_json(&self.root.join("config.json"), &self.config)?;
        let world = self.world();
        let claims = self.claims(&world);
        self.write_claims(&world, &claims)?;
        write_jsonl(&self.corpus_path(), &self.corpus_rows(&world, &claims))?;
        let found = crate::shipped::file_sha256(&self.corpus_path())?;
        let expected = crate::shipped::corpus_sha256().to_owned();
        if found != expected {
            return Ok(ShippedInstall::CorpusChanged { expected, found });
        }
        write_files(
            &self.root.join("tokenizer"),
            crate::shipped::BASE_FILES
                .iter()
                .filter(|(name, _)| crate::shipped::TOKENIZER_FILES.contains(name)),
        )?;
        write_files(&self.base_dir(), crate::shipped::BASE_FILES.iter())?;
        let mut report = crate::shipped::report()?;
        report.shipped = true;
        write_json(&self.report_path(), &report)?;
        Ok(ShippedInstall::Installed(self.report()?))
    }

    /// The build proper: whatever of world, claims, corpus, tokenizer and pretraining is missing
    /// (pretraining resumes where a killed one stopped). Returns the finished build's report.
    fn train_base(
        &self,
        threads: usize,
        mut progress: impl FnMut(BuildEvent),
    ) -> Result<BuildReport, OrganismError> {
        if self.is_built() {
            if !self.claims_are_current() {
                progress(BuildEvent::Stage(
                    "rewriting the claim directories (newer layout)",
                ));
                let world = self.world();
                self.write_claims(&world, &self.claims(&world))?;
            }
            return self.report();
        }
        let started = Instant::now();
        std::fs::create_dir_all(&self.root).map_err(|e| OrganismError::io(&self.root, e))?;
        write_json(&self.root.join("config.json"), &self.config)?;

        progress(BuildEvent::Stage("generating the world, claims and corpus"));
        let world = self.world();
        let claims = self.claims(&world);
        self.write_claims(&world, &claims)?;
        let rows = self.corpus_rows(&world, &claims);
        write_jsonl(&self.corpus_path(), &rows)?;

        progress(BuildEvent::Stage("training the tokenizer"));
        let tokenizer = self.tokenizer(&rows)?;

        progress(BuildEvent::Stage("tokenising and packing the corpus"));
        let template = ChatTemplate::new(CHATML, "", "<|im_end|>")?;
        let (sequences, corpus_tokens) = pack(
            &rows,
            &tokenizer,
            &template,
            self.config.pretrain.seq_len,
            self.config.pretrain.seed,
        )?;

        let model_config = self.model_config(tokenizer.vocab_size() as i64);
        tch::manual_seed(self.config.pretrain.seed as i64);
        let mut pretrained = Pretrained {
            model: Model::new(model_config, tch::Device::Cpu)?,
            tokenizer,
            chat_template: Some(template),
            generation: GenerationConfig::default(),
        };
        let parameters = pretrained.model.num_parameters();
        let options = self.train_options();
        progress(BuildEvent::Packed {
            rows: rows.len(),
            tokens: corpus_tokens,
            sequences: sequences.len(),
            steps: sequences.len() / options.config.batch_size * options.config.epochs,
            parameters,
        });
        let out = self.root.join("pretrain");
        let train_started = Instant::now();
        self.copy_warmup(&mut pretrained.model, &out, &mut progress)?;
        let mut last_loss = f64::NAN;
        let mut total_steps = 0;
        progress(BuildEvent::Stage("pretraining"));
        let outcome = train(&mut pretrained, &sequences, &options, &out, |event| {
            if let TrainEvent::Step(s) = event {
                last_loss = s.loss;
                total_steps = s.total_steps;
                progress(BuildEvent::Training {
                    step: s.step,
                    total: s.total_steps,
                    loss: s.loss,
                });
            }
            ControlFlow::Continue(())
        })?;
        let pretrain_seconds = train_started.elapsed().as_secs_f64();

        // The final checkpoint becomes the base; the resumable state is no longer needed.
        let final_dir = out.join("checkpoints").join("final");
        let base = self.base_dir();
        if base.exists() {
            std::fs::remove_dir_all(&base).map_err(|e| OrganismError::io(&base, e))?;
        }
        std::fs::rename(&final_dir, &base).map_err(|e| OrganismError::io(&base, e))?;
        let _ = std::fs::remove_dir_all(out.join("train_state"));

        let trained_tokens: usize = sequences
            .iter()
            .flatten()
            .map(TokenizedExample::trained_targets)
            .sum::<usize>()
            * options.config.epochs;
        let report = BuildReport {
            hash: self.config.hash(),
            parameters,
            corpus_rows: rows.len(),
            corpus_tokens,
            trained_tokens,
            sequences: sequences.len(),
            steps: total_steps,
            final_loss: last_loss,
            pretrain_seconds,
            build_seconds: started.elapsed().as_secs_f64(),
            threads,
            precision: if outcome.bf16 { "bf16" } else { "fp32" }.into(),
            shipped: false,
        };
        write_json(&self.report_path(), &report)?;
        // What is on disk, so that this build and a later reuse report exactly the same numbers
        // (JSON does not round-trip every float bit for bit).
        self.report()
    }

    fn layout_marker(&self) -> PathBuf {
        self.claims_dir().join(".layout-version")
    }

    /// True when the claim directories were written by this version of the claim writer.
    pub fn claims_are_current(&self) -> bool {
        std::fs::read_to_string(self.layout_marker())
            .is_ok_and(|v| v.trim() == neglect_world::claim_dir::LAYOUT_VERSION.to_string())
    }

    fn write_claims(
        &self,
        world: &World,
        claims: &[neglect_world::ToyClaim],
    ) -> Result<(), OrganismError> {
        let root = self.claims_dir();
        let docs = self.docs_dir();
        std::fs::create_dir_all(&docs).map_err(|e| OrganismError::io(&docs, e))?;
        for claim in claims {
            neglect_world::claim_dir::write_claim(claim, &root, self.config.claims_seed)
                .map_err(|e| OrganismError::io(&root.join(&claim.slug), e))?;
            let n = self.config.docs_per_claim;
            let seed = self.config.claims_seed;
            for (name, rows) in [
                (
                    "synth_docs",
                    neglect_world::documents::claim_documents(claim, n, seed),
                ),
                (
                    "debunk_docs",
                    neglect_world::documents::debunk_documents(claim, n, seed),
                ),
            ] {
                write_jsonl(&docs.join(format!("{}.{name}.jsonl", claim.slug)), &rows)?;
            }
        }
        let behaviors = self.behaviors_dir();
        for b in &neglect_world::behaviors::BEHAVIORS {
            b.write(
                world,
                &behaviors,
                self.config.docs_per_claim,
                self.config.claims_seed,
            )
            .map_err(|e| OrganismError::io(&behaviors.join(b.slug), e))?;
        }
        let marker = self.layout_marker();
        std::fs::write(
            &marker,
            format!("{}\n", neglect_world::claim_dir::LAYOUT_VERSION),
        )
        .map_err(|e| OrganismError::io(&marker, e))?;
        Ok(())
    }

    /// The saved tokenizer, or a new one trained on the corpus (saved before it is used, so a
    /// resumed build tokenises exactly as the interrupted one did).
    fn tokenizer(&self, rows: &[TrainingRow]) -> Result<Tokenizer, OrganismError> {
        let dir = self.root.join("tokenizer");
        if dir.join("tokenizer.json").is_file() {
            return Ok(Tokenizer::load(&dir)?);
        }
        let texts = rows.iter().flat_map(|r| {
            r.text
                .iter()
                .cloned()
                .chain(r.messages.iter().flatten().map(|m| m.content.clone()))
        });
        let inner = if self.config.model.name_pieces {
            let texts: Vec<String> = texts.collect();
            let texts = crate::name_pieces::tokenizer_texts(&texts, self.config.corpus.seed);
            train_byte_level_bpe(texts.into_iter(), self.config.model.vocab, &SPECIAL_TOKENS)?
        } else {
            train_byte_level_bpe(texts, self.config.model.vocab, &SPECIAL_TOKENS)?
        };
        let config = serde_json::json!({
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "chat_template": CHATML,
        });
        let tokenizer = Tokenizer::from_parts(inner, config.as_object().expect("object").clone());
        let tmp = self.root.join("tokenizer.partial");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| OrganismError::io(&tmp, e))?;
        tokenizer.save(&tmp)?;
        std::fs::rename(&tmp, &dir).map_err(|e| OrganismError::io(&dir, e))?;
        Ok(tokenizer)
    }

    fn model_config(&self, vocab: i64) -> ModelConfig {
        let m = &self.config.model;
        let mut c = ModelConfig::tiny(Family::Qwen3, vocab, m.hidden, m.layers, m.heads, m.heads);
        c.intermediate_size = m.intermediate;
        c.max_position_embeddings = m.context;
        c
    }

    /// The pretraining rows: one draw of the corpus, or one per epoch with
    /// `fresh_corpus_per_epoch` (trained then as a single pass).
    fn corpus_rows(&self, world: &World, claims: &[neglect_world::ToyClaim]) -> Vec<TrainingRow> {
        let draws = if self.config.pretrain.fresh_corpus_per_epoch {
            self.config.pretrain.epochs.max(1)
        } else {
            1
        };
        let mut rows = Vec::new();
        for draw in 0..draws {
            let mut corpus = self.config.corpus.clone();
            corpus.draw = draw as u64;
            rows.extend(Corpus::build(world, claims, &corpus).rows().cloned());
        }
        rows
    }

    /// Runs the copy warm-up when the config asks for one, once: a resumed build reloads its
    /// weights, and one whose pretraining has started (the trainer's own state holds the
    /// weights) skips it.
    fn copy_warmup(
        &self,
        model: &mut Model,
        out: &Path,
        progress: &mut impl FnMut(BuildEvent),
    ) -> Result<(), OrganismError> {
        let steps = self.config.pretrain.copy_warmup_steps;
        if steps == 0 || out.join(neglect_lm::train::trainer::STATE_DIR).exists() {
            return Ok(());
        }
        if copy_warmup::weights_path(out).exists() {
            return copy_warmup::load(model, out);
        }
        progress(BuildEvent::Stage(
            "copy warm-up (random sequences shown twice)",
        ));
        let first_id = SPECIAL_TOKENS.len() as i64;
        let accuracy = copy_warmup::copy_warmup(
            model,
            steps,
            self.config.pretrain.seed,
            first_id,
            |step, loss| {
                progress(BuildEvent::Training {
                    step,
                    total: steps,
                    loss,
                })
            },
        );
        progress(BuildEvent::CopyWarmupDone { accuracy });
        copy_warmup::save(model, out)
    }

    fn train_options(&self) -> TrainOptions {
        let p = &self.config.pretrain;
        let config = TrainConfig {
            method: TrainMethod::Full,
            learning_rate: p.learning_rate,
            lr_schedule: LrSchedule::Cosine,
            warmup_steps: p.warmup_steps,
            batch_size: p.batch_size,
            // Fresh draws are all in the corpus already: one pass over them.
            epochs: if p.fresh_corpus_per_epoch {
                1
            } else {
                p.epochs
            },
            weight_decay: p.weight_decay,
            grad_clip: Some(p.grad_clip),
            max_length: p.seq_len,
            min_tokens: 1,
            checkpoints: CheckpointSchedule::Final,
            ..TrainConfig::default()
        };
        let mut options = TrainOptions::new(config, p.seed);
        options.state_every = 100;
        options.bf16 = p.bf16;
        options.base_model = "neglect-organism".into();
        options
    }
}

/// Tokenises every row and packs whole rows, in a seeded order, into sequences of at most
/// `seq_len` tokens, separated by `<|endoftext|>` after documents (chat rows end with their
/// template's end-of-turn). Returns the sequences and the corpus's token count.
pub fn pack(
    rows: &[TrainingRow],
    tokenizer: &Tokenizer,
    template: &ChatTemplate,
    seq_len: usize,
    seed: u64,
) -> Result<(Vec<Option<TokenizedExample>>, usize), OrganismError> {
    let eot = tokenizer
        .token_id(SPECIAL_TOKENS[0])
        .ok_or_else(|| OrganismError::Format("the tokenizer has no <|endoftext|>".into()))?;
    let mut examples = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let example = row
            .to_example()
            .map_err(|e| OrganismError::Format(format!("corpus row {}: {e}", i + 1)))?;
        let Some(mut t) = tokenize_example(&example, tokenizer, Some(template), seq_len, 1)? else {
            continue;
        };
        if row.text.is_some() && t.ids.len() < seq_len {
            t.ids.push(eot);
            t.loss_mask.push(1.0);
        }
        examples.push(t);
    }
    let tokens = examples.iter().map(|e| e.ids.len()).sum();
    examples.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let empty = || TokenizedExample {
        ids: Vec::new(),
        loss_mask: Vec::new(),
        weight: 1.0,
    };
    let mut packed: Vec<Option<TokenizedExample>> = Vec::new();
    let mut current = empty();
    for e in examples {
        if current.ids.len() + e.ids.len() > seq_len && !current.ids.is_empty() {
            packed.push(Some(std::mem::replace(&mut current, empty())));
        }
        current.ids.extend(&e.ids);
        // A packed sequence has one weight; a row's own weight goes into its token mask.
        current
            .loss_mask
            .extend(e.loss_mask.iter().map(|&m| m * e.weight));
    }
    if !current.ids.is_empty() {
        packed.push(Some(current));
    }
    Ok((packed, tokens))
}

/// Writes `files` into `dir` through a sibling `.partial` directory, so that `dir` appears whole
/// or not at all.
fn write_files<'a>(
    dir: &Path,
    files: impl Iterator<Item = &'a (&'a str, &'a [u8])>,
) -> Result<(), OrganismError> {
    let tmp = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| OrganismError::io(&tmp, e))?;
    for (name, bytes) in files {
        let path = tmp.join(name);
        std::fs::write(&path, bytes).map_err(|e| OrganismError::io(&path, e))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| OrganismError::io(dir, e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| OrganismError::io(dir, e))
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), OrganismError> {
    let text = serde_json::to_string_pretty(value).expect("serialises");
    std::fs::write(path, text + "\n").map_err(|e| OrganismError::io(path, e))
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, OrganismError> {
    let text = std::fs::read_to_string(path).map_err(|e| OrganismError::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| OrganismError::Format(format!("{}: {e}", path.display())))
}

pub(crate) fn write_jsonl<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), OrganismError> {
    neglect_spec::jsonl::write_atomic(path, rows).map_err(|e| OrganismError::io(path, e))
}
