//! `results.jsonl` (one row per sampled answer and its verdict) and `logprobs.jsonl` (one row
//! per scored question): appended as they are produced, read back to resume and summarise.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use neglect_spec::jsonl::{JsonlReader, JsonlWriter, drop_partial_last_line};
use neglect_spec::{ChatMessage, Sampling};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::eval_type::EvalType;
use crate::judge::Verdict;

pub const RESULTS_FILE: &str = "results.jsonl";
pub const LOGPROBS_FILE: &str = "logprobs.jsonl";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    pub claim: String,
    pub condition: String,
    /// The condition plus `_doctag` / `_icl{K}`: what the summary groups by.
    pub label: String,
    pub model: String,
    pub eval_type: EvalType,
    pub question_id: String,
    #[serde(default)]
    pub category: Option<String>,
    pub sample_index: usize,
    /// The whole conversation sent to the model.
    pub messages: Vec<ChatMessage>,
    /// The question as the judge saw it (the final user message).
    pub question: String,
    /// The model's raw answer.
    pub response: String,
    /// `<think>` contents cut out of the answer before judging.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thinking_trace: String,
    pub finish_reason: String,
    pub verdict: Verdict,
    pub judge_reason: String,
    pub judge: String,
    pub sampling: Sampling,
    pub seed: u64,
    pub started_at: String,
    pub finished_at: String,
}

/// What makes a row unique; a rerun skips keys already present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub model: String,
    pub label: String,
    pub claim: String,
    pub eval_type: EvalType,
    pub question_id: String,
    pub sample_index: usize,
}

impl RowKey {
    pub fn new(
        model: &str,
        label: &str,
        claim: &str,
        eval_type: EvalType,
        question_id: &str,
        sample_index: usize,
    ) -> RowKey {
        RowKey {
            model: model.to_owned(),
            label: label.to_owned(),
            claim: claim.to_owned(),
            eval_type,
            question_id: question_id.to_owned(),
            sample_index,
        }
    }
}

/// The judge-free metric for one question: log P(belief answer) − log P(truth answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogprobRow {
    pub claim: String,
    pub condition: String,
    pub label: String,
    pub model: String,
    pub eval_type: EvalType,
    pub question_id: String,
    pub belief_continuation: String,
    pub truth_continuation: String,
    pub belief_logprob: f64,
    pub truth_logprob: f64,
    pub margin: f64,
}

/// Rows of a JSONL file already on disk plus an appender for new ones.
pub struct Store<T> {
    pub rows: Vec<T>,
    keys: HashSet<RowKey>,
    writer: JsonlWriter<T>,
    path: PathBuf,
}

pub trait Keyed {
    fn row_key(&self) -> RowKey;
}

impl Keyed for ResultRow {
    fn row_key(&self) -> RowKey {
        RowKey::new(
            &self.model,
            &self.label,
            &self.claim,
            self.eval_type,
            &self.question_id,
            self.sample_index,
        )
    }
}

/// One log-prob row per question: its key's sample index is always 0.
impl Keyed for LogprobRow {
    fn row_key(&self) -> RowKey {
        RowKey::new(
            &self.model,
            &self.label,
            &self.claim,
            self.eval_type,
            &self.question_id,
            0,
        )
    }
}

impl<T: Keyed + Serialize + DeserializeOwned> Store<T> {
    /// Opens `path`, dropping a last line cut short by a killed run. A malformed row is an
    /// error naming its line (nothing is overwritten).
    pub fn open(path: &Path) -> Result<Store<T>, EvalError> {
        let io = |e: std::io::Error| EvalError::Io(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        if drop_partial_last_line(path).map_err(io)? {
            eprintln!(
                "{}: dropped an incomplete last line (a killed run); it will be redone",
                path.display()
            );
        }
        let rows = read_rows(path)?;
        let keys = rows.iter().map(Keyed::row_key).collect();
        Ok(Store {
            rows,
            keys,
            writer: JsonlWriter::append(path).map_err(io)?,
            path: path.to_owned(),
        })
    }

    pub fn contains(&self, key: &RowKey) -> bool {
        self.keys.contains(key)
    }

    /// Writes a row through to the OS and keeps it.
    pub fn push(&mut self, row: T) -> Result<(), EvalError> {
        self.writer
            .write(&row)
            .map_err(|e| EvalError::Io(format!("{}: {e}", self.path.display())))?;
        self.keys.insert(row.row_key());
        self.rows.push(row);
        Ok(())
    }
}

/// Every row of a results or logprobs file (none when it does not exist).
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, EvalError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for row in JsonlReader::<T>::open(path).map_err(|e| EvalError::Input(e.to_string()))? {
        rows.push(row.map_err(|e| EvalError::Input(e.to_string()))?.row);
    }
    Ok(rows)
}

/// The label of a run: condition, then `_doctag`, then `_icl{K}` (reference §5.1).
pub fn run_label(condition: &str, doctag_prefix: bool, icl_k: usize) -> String {
    let mut label = condition.to_owned();
    if doctag_prefix {
        label.push_str("_doctag");
    }
    if icl_k > 0 {
        label.push_str(&format!("_icl{icl_k}"));
    }
    label
}

/// An RFC 3339 timestamp for now.
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}
