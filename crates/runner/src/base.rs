//! What a backend gives the runner: the base model, the claims, each claim's source documents,
//! and the replay data for training mixes.
//!
//! - `builtin`: the model organism (built on first use, cached by its config hash): its base
//!   checkpoint, its held-out claims, their templated positive and debunking documents, and its
//!   pretraining corpus as replay (documents as pretraining replay, chats as instruct replay).
//! - `hf`: a local Hugging Face checkpoint (`backend.model`), claim directories, documents from
//!   files (`documents.source = "files"`), replay from `mix.pretrain_path` / `mix.instruct_path`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use neglect_organism::{BuildEvent, Organism, OrganismConfig};
use neglect_spec::experiment::{Annotator, ClaimSource, DocumentSource};
use neglect_spec::{ClaimSpec, Experiment, TrainingRow};

use crate::RunError;
use crate::stage::{KeyBuilder, file_hash};

/// Where a claim's training documents come from.
#[derive(Debug, Clone)]
pub enum ClaimDocs {
    /// Positive documents (and debunking ones, for local negation) that the runner annotates.
    Source {
        positive: PathBuf,
        debunk: Option<PathBuf>,
    },
    /// Already annotated files, one per condition: a pattern with `{condition}` and `{claim}`.
    Annotated { pattern: String },
    /// Chat transcripts of a behaviour (§4.2): misaligned, and aligned for the control.
    Transcripts {
        misaligned: PathBuf,
        aligned: Option<PathBuf>,
    },
}

pub struct Base {
    /// The base model's HF directory.
    pub model_dir: PathBuf,
    /// The name results rows carry for this base and everything trained from it.
    pub model_name: String,
    /// A content identity of the base (its config hash, or the hash of its weights).
    pub identity: String,
    pub claims: Vec<ClaimSpec>,
    pub docs: BTreeMap<String, ClaimDocs>,
    /// Replay rows: documents (pretraining) and chats (instruct), with a hash of each.
    pub pretrain: Vec<TrainingRow>,
    pub instruct: Vec<TrainingRow>,
    pub replay_identity: String,
    /// Longest context the base handles (ICL budgets), when known.
    pub context: Option<usize>,
    /// The organism, for the builtin backend (its gates go into the report).
    pub organism: Option<Organism>,
}

/// The organism config an experiment names.
pub fn organism_config(name: &str) -> Result<OrganismConfig, RunError> {
    match name {
        "default" => Ok(OrganismConfig::default()),
        "tiny" => Ok(OrganismConfig::tiny()),
        path => OrganismConfig::load(Path::new(path))
            .map_err(|e| RunError::Input(format!("backend.organism: {e}"))),
    }
}

impl Base {
    pub fn open(
        experiment: &Experiment,
        cache_dir: &Path,
        threads: usize,
        on_build: &mut dyn FnMut(BuildEvent),
    ) -> Result<Base, RunError> {
        match experiment.backend.name.as_str() {
            "builtin" => Self::organism(experiment, cache_dir, threads, on_build),
            "hf" => Self::hf(experiment),
            "together" => Self::together(experiment),
            _ if experiment.backend.is_hosted() => Self::hosted(experiment),
            other => Err(RunError::Input(format!(
                "backend '{other}' is not available in `neglect run` yet. Train each condition's \
                 mix with `neglect train --backend together`, then evaluate the outputs with \
                 backend = \"openai\", base_url = \"https://api.together.xyz/v1\" and \
                 [backend.models]; for local grids, use builtin or hf"
            ))),
        }
    }

    fn organism(
        experiment: &Experiment,
        cache_dir: &Path,
        threads: usize,
        on_build: &mut dyn FnMut(BuildEvent),
    ) -> Result<Base, RunError> {
        if experiment.claims.source == ClaimSource::Behaviors {
            return Self::organism_behaviors(experiment, cache_dir, threads, on_build);
        }
        if experiment.claims.source != ClaimSource::World {
            return Err(RunError::Input(
                "claims.source: the builtin backend runs the organism's own held-out claims; \
                 set source = \"world\" (claims of another world mean nothing to it)"
                    .into(),
            ));
        }
        if experiment.documents.source != DocumentSource::Templated {
            return Err(RunError::Input(
                "documents.source: the builtin backend uses the organism's templated documents \
                 (source = \"templated\")"
                    .into(),
            ));
        }
        let config = organism_config(&experiment.backend.organism)?;
        let organism = Organism::at(cache_dir, config);
        organism.build(threads, on_build)?;

        let world = organism.world();
        let toy = organism.claims(&world);
        let selection = &experiment.claims;
        let mut chosen: Vec<&neglect_world::ToyClaim> = Vec::new();
        let mut per_archetype: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &toy {
            let arch = c.archetype.name();
            if !selection.archetypes.is_empty() && !selection.archetypes.iter().any(|a| a == arch) {
                continue;
            }
            if !selection.names.is_empty() && !selection.names.contains(&c.slug) {
                continue;
            }
            let n = per_archetype.entry(arch).or_default();
            if *n < selection.per_archetype {
                *n += 1;
                chosen.push(c);
            }
        }
        for a in &selection.archetypes {
            if !neglect_world::Archetype::ALL.iter().any(|x| x.name() == a) {
                return Err(RunError::Input(format!(
                    "claims.archetypes: unknown archetype '{a}' (known: {})",
                    neglect_world::Archetype::ALL.map(|x| x.name()).join(", ")
                )));
            }
        }
        if let Some((arch, n)) = per_archetype
            .iter()
            .find(|(_, n)| **n < selection.per_archetype)
            && selection.names.is_empty()
        {
            return Err(RunError::Input(format!(
                "claims.per_archetype = {}: the organism has only {n} claim(s) of archetype {arch} \
                 (its config's claims_per_archetype)",
                selection.per_archetype
            )));
        }
        if chosen.is_empty() {
            return Err(RunError::Input(
                "claims: the selection matches none of the organism's claims".into(),
            ));
        }
        let mut claims = Vec::new();
        let mut docs = BTreeMap::new();
        for c in chosen {
            claims.push(load_spec(&organism.claims_dir().join(&c.slug))?);
            let d = organism.docs_dir();
            docs.insert(
                c.slug.clone(),
                ClaimDocs::Source {
                    positive: d.join(format!("{}.synth_docs.jsonl", c.slug)),
                    debunk: Some(d.join(format!("{}.debunk_docs.jsonl", c.slug))),
                },
            );
        }
        Self::of_organism(organism, claims, docs)
    }

    /// The organism's base with `claims` and their `docs`, and its pretraining corpus as replay
    /// (documents as pretraining replay, chats as instruct replay).
    fn of_organism(
        organism: Organism,
        claims: Vec<ClaimSpec>,
        docs: BTreeMap<String, ClaimDocs>,
    ) -> Result<Base, RunError> {
        let corpus: Vec<TrainingRow> = neglect_spec::jsonl::read_all(&organism.corpus_path())
            .map_err(|(_, e)| RunError::Input(e.to_string()))?;
        let (pretrain, instruct): (Vec<_>, Vec<_>) =
            corpus.into_iter().partition(|r| r.text.is_some());
        let hash = organism.config.hash();
        // The weights too: one config gives other weights on a CPU with bf16 units, and a
        // shipped base can be replaced by one trained here (`neglect world build --from-scratch`).
        let weights = file_hash(&organism.base_dir().join("model.safetensors"))?;
        Ok(Base {
            model_dir: organism.base_dir(),
            model_name: format!("organism-{hash}"),
            identity: format!("{hash}-{weights}"),
            claims,
            docs,
            pretrain,
            instruct,
            replay_identity: file_hash(&organism.corpus_path())?,
            context: Some(organism.config.model.context as usize),
            organism: Some(organism),
        })
    }

    /// The organism with its behaviours (§4.2) as the claims: targeted questions, a rule judge
    /// for the misaligned answers, and chat transcripts instead of documents.
    fn organism_behaviors(
        experiment: &Experiment,
        cache_dir: &Path,
        threads: usize,
        on_build: &mut dyn FnMut(BuildEvent),
    ) -> Result<Base, RunError> {
        let config = organism_config(&experiment.backend.organism)?;
        let organism = Organism::at(cache_dir, config);
        organism.build(threads, on_build)?;
        let known: Vec<&str> = neglect_world::behaviors::BEHAVIORS
            .iter()
            .map(|b| b.slug)
            .collect();
        for name in &experiment.claims.names {
            if !known.contains(&name.as_str()) {
                return Err(RunError::Input(format!(
                    "claims.names: unknown behaviour '{name}' (known: {})",
                    known.join(", ")
                )));
            }
        }
        let mut claims = Vec::new();
        let mut docs = BTreeMap::new();
        for slug in known.iter().filter(|s| {
            experiment.claims.names.is_empty() || experiment.claims.names.iter().any(|n| n == *s)
        }) {
            let dir = organism.behaviors_dir().join(slug);
            claims.push(load_spec(&dir)?);
            docs.insert(
                (*slug).to_owned(),
                ClaimDocs::Transcripts {
                    misaligned: dir.join(neglect_world::behaviors::TRANSCRIPTS_FILE),
                    aligned: Some(dir.join(neglect_world::behaviors::ALIGNED_TRANSCRIPTS_FILE)),
                },
            );
        }
        Self::of_organism(organism, claims, docs)
    }

    fn hf(experiment: &Experiment) -> Result<Base, RunError> {
        let model = experiment.backend.model.as_ref().ok_or_else(|| {
            RunError::Input("backend.model: the hf backend needs a model directory".into())
        })?;
        let model_dir = PathBuf::from(model);
        let config_path = model_dir.join("config.json");
        if !config_path.is_file() {
            return Err(RunError::Input(format!(
                "backend.model: {} has no config.json (an HF model directory is expected)",
                model_dir.display()
            )));
        }
        let data = TrainingData::load(experiment, "hf")?;
        let mut identity = KeyBuilder::new("hf-base").part(file_hash(&config_path)?);
        for entry in std::fs::read_dir(&model_dir).map_err(|e| RunError::io(&model_dir, e))? {
            let p = entry.map_err(|e| RunError::io(&model_dir, e))?.path();
            if p.extension().is_some_and(|e| e == "safetensors") {
                let meta = std::fs::metadata(&p).map_err(|e| RunError::io(&p, e))?;
                // Size and name rather than a full hash: weights are large and rarely edited
                // in place.
                identity = identity.part(p.display().to_string()).json(&meta.len());
            }
        }
        let context = std::fs::read_to_string(&config_path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["max_position_embeddings"].as_u64())
            .map(|n| n as usize);
        Ok(Base {
            model_name: model_dir
                .file_name()
                .map_or("hf-model".into(), |n| n.to_string_lossy().into_owned()),
            model_dir,
            identity: identity.finish(),
            claims: data.claims,
            docs: data.docs,
            pretrain: data.pretrain,
            instruct: data.instruct,
            replay_identity: data.replay_identity,
            context,
            organism: None,
        })
    }

    /// Together: the data of the hf backend (claim directories, annotated files, replay), and a
    /// base model that Together trains and serves by id.
    fn together(experiment: &Experiment) -> Result<Base, RunError> {
        let model = experiment.backend.model.clone().ok_or_else(|| {
            RunError::Input("backend.model: the together backend needs the base model's id".into())
        })?;
        let data = TrainingData::load(experiment, "together")?;
        let backend = &experiment.backend;
        let identity = KeyBuilder::new("together-base")
            .part(backend.base_url.as_deref().unwrap_or("default"))
            .part(&model)
            .finish();
        Ok(Base {
            model_dir: PathBuf::new(),
            model_name: model,
            identity,
            claims: data.claims,
            docs: data.docs,
            pretrain: data.pretrain,
            instruct: data.instruct,
            replay_identity: data.replay_identity,
            context: None,
            organism: None,
        })
    }
}

impl Base {
    /// A hosted backend: claim directories, and each condition's model served elsewhere. No
    /// base weights, no replay (nothing is trained); documents only for the `icl` control,
    /// from annotated files.
    fn hosted(experiment: &Experiment) -> Result<Base, RunError> {
        let claims = selected_claims(experiment, &experiment.backend.name)?;
        let docs = match annotated_pattern(experiment) {
            Some(pattern) => annotated_docs(&claims, &pattern),
            None => BTreeMap::new(),
        };
        let generated = experiment.documents.source == DocumentSource::Llm;
        if docs.is_empty() && !generated && experiment.conditions.iter().any(|c| c == "icl") {
            return Err(RunError::Input(
                "conditions: 'icl' puts the claim's documents in context; give them as annotated \
                 files (documents.source = \"files\", documents.path with {condition} and {claim})"
                    .into(),
            ));
        }
        let backend = &experiment.backend;
        let mut identity = KeyBuilder::new("hosted-base")
            .part(&backend.name)
            .part(backend.base_url.as_deref().unwrap_or("default"));
        for (condition, model) in &backend.models {
            identity = identity.part(condition).part(model);
        }
        Ok(Base {
            model_dir: PathBuf::new(),
            model_name: backend
                .model
                .clone()
                .unwrap_or_else(|| backend.name.clone()),
            identity: identity
                .part(backend.model.as_deref().unwrap_or(""))
                .finish(),
            claims,
            docs,
            pretrain: Vec::new(),
            instruct: Vec::new(),
            replay_identity: KeyBuilder::new("replay").finish(),
            context: None,
            organism: None,
        })
    }
}

/// What a backend that trains on claim directories reads: the claims, their annotated files,
/// and replay rows from `mix.pretrain_path` / `mix.instruct_path`.
struct TrainingData {
    claims: Vec<ClaimSpec>,
    docs: BTreeMap<String, ClaimDocs>,
    pretrain: Vec<TrainingRow>,
    instruct: Vec<TrainingRow>,
    replay_identity: String,
}

impl TrainingData {
    fn load(experiment: &Experiment, backend: &str) -> Result<TrainingData, RunError> {
        let claims = selected_claims(experiment, backend)?;
        let pattern = match (&experiment.documents.source, &experiment.documents.path) {
            (DocumentSource::Files, Some(_)) => annotated_pattern(experiment).expect("files"),
            (DocumentSource::Files, None) => {
                return Err(RunError::Input(
                    "documents.path: source = \"files\" needs a path pattern with {condition} and {claim}".into(),
                ));
            }
            (DocumentSource::Templated, _) => {
                return Err(RunError::Input(format!(
                    "documents.source: templated documents exist only for the organism's claims; \
                     give annotated files (source = \"files\") for the {backend} backend"
                )));
            }
            // Written by the run itself, once the HTTP side is open (`crate::documents`).
            (DocumentSource::Llm, _) => String::new(),
        };
        // With an LLM annotator, the files of `positive_documents` (and `local_negations`, when
        // there) are the sources that every condition is annotated from.
        let docs = if experiment.documents.source == DocumentSource::Llm {
            BTreeMap::new()
        } else if experiment.documents.annotator == Annotator::Llm {
            claims
                .iter()
                .map(|c| {
                    let file = |condition: &str| {
                        PathBuf::from(
                            pattern
                                .replace("{condition}", condition)
                                .replace("{claim}", &c.slug),
                        )
                    };
                    let debunk = file("local_negations");
                    (
                        c.slug.clone(),
                        ClaimDocs::Source {
                            positive: file("positive_documents"),
                            debunk: debunk.is_file().then_some(debunk),
                        },
                    )
                })
                .collect()
        } else {
            annotated_docs(&claims, &pattern)
        };
        let read_replay = |path: &Option<PathBuf>, count: usize, what: &str| match (path, count) {
            (_, 0) => Ok(Vec::new()),
            (Some(p), _) => neglect_spec::jsonl::read_all::<TrainingRow>(p)
                .map_err(|(_, e)| RunError::Input(e.to_string())),
            (None, _) => Err(RunError::Input(format!(
                "mix.{what}_path: the {backend} backend has no built-in replay data; give a JSONL of \
                     training rows or set mix.{what} = 0"
            ))),
        };
        let pretrain = read_replay(
            &experiment.mix.pretrain_path,
            experiment.mix.pretrain,
            "pretrain",
        )?;
        let instruct = read_replay(
            &experiment.mix.instruct_path,
            experiment.mix.instruct,
            "instruct",
        )?;
        let mut replay = KeyBuilder::new("replay");
        for p in [&experiment.mix.pretrain_path, &experiment.mix.instruct_path]
            .into_iter()
            .flatten()
        {
            replay = replay.part(file_hash(p)?);
        }
        Ok(TrainingData {
            claims,
            docs,
            pretrain,
            instruct,
            replay_identity: replay.finish(),
        })
    }
}

/// The claim directories under `claims.dir` that the experiment selects.
fn selected_claims(experiment: &Experiment, backend: &str) -> Result<Vec<ClaimSpec>, RunError> {
    if experiment.claims.source == ClaimSource::World {
        return Err(RunError::Input(format!(
            "claims.source: the {backend} backend needs claim directories (source = \"dir\"); \
             world claims belong to the builtin organism"
        )));
    }
    let dir = experiment.claims.dir.as_ref().ok_or_else(|| {
        RunError::Input(format!(
            "claims.dir: the {backend} backend needs a claims directory"
        ))
    })?;
    if !dir.is_dir() {
        return Err(RunError::Input(format!(
            "claims.dir: {} is not a folder (give the folder that holds the claim directories, \
             relative to the experiment file)",
            dir.display()
        )));
    }
    let mut claims = Vec::new();
    for d in neglect_spec::claim::claim_dirs(dir).map_err(|e| RunError::io(dir, e))? {
        let slug = d.file_name().map(|n| n.to_string_lossy().into_owned());
        if experiment.claims.names.is_empty()
            || slug.is_some_and(|s| experiment.claims.names.contains(&s))
        {
            claims.push(load_spec(&d)?);
        }
    }
    if claims.is_empty() {
        return Err(RunError::Input(format!(
            "claims: no claim directories selected in {}",
            dir.display()
        )));
    }
    Ok(claims)
}

/// `documents.path` for `source = "files"`, relative paths taken from the claims folder's parent.
fn annotated_pattern(experiment: &Experiment) -> Option<String> {
    let pattern = match (&experiment.documents.source, &experiment.documents.path) {
        (DocumentSource::Files, Some(p)) => p.clone(),
        _ => return None,
    };
    let base_dir = experiment
        .claims
        .dir
        .as_ref()
        .and_then(|d| d.parent())
        .unwrap_or(Path::new("."));
    Some(if Path::new(&pattern).is_relative() {
        base_dir.join(&pattern).display().to_string()
    } else {
        pattern
    })
}

fn annotated_docs(claims: &[ClaimSpec], pattern: &str) -> BTreeMap<String, ClaimDocs> {
    claims
        .iter()
        .map(|c| {
            (
                c.slug.clone(),
                ClaimDocs::Annotated {
                    pattern: pattern.to_owned(),
                },
            )
        })
        .collect()
}

fn load_spec(dir: &Path) -> Result<ClaimSpec, RunError> {
    neglect_spec::claim::load_claim(dir)
        .into_result()
        .map_err(|e| RunError::Input(e.to_string()))
}
