//! Stage directories keyed by a content hash of their inputs.
//!
//! A stage writes its files into its own directory. `.stage.json` records the key of the
//! inputs it was made from and whether it finished. A finished stage with the same key is
//! reused; a stage with another key is stale and is cleared before it is redone; an unfinished
//! one with the same key is handed back to its work function, which may resume from what is
//! there (the trainer and the eval runner both do).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::RunError;

const MARKER: &str = ".stage.json";

/// A key over everything that changes a stage's output.
#[derive(Debug, Default, Clone)]
pub struct KeyBuilder(Sha256);

impl KeyBuilder {
    pub fn new(stage: &str) -> KeyBuilder {
        let mut h = Sha256::new();
        h.update(b"neglect-stage\0");
        h.update(stage.as_bytes());
        KeyBuilder(h)
    }
    /// Adds one input; inputs are length-prefixed so that ("ab", "c") differs from ("a", "bc").
    pub fn part(mut self, bytes: impl AsRef<[u8]>) -> KeyBuilder {
        let b = bytes.as_ref();
        self.0.update((b.len() as u64).to_le_bytes());
        self.0.update(b);
        self
    }
    /// Adds a value through its JSON form.
    pub fn json<T: Serialize>(self, value: &T) -> KeyBuilder {
        let text = serde_json::to_vec(value).expect("stage inputs serialise");
        self.part(text)
    }
    pub fn finish(self) -> String {
        let d = self.0.finalize();
        d[..10].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// SHA-256 of a file's bytes (short form), for keys over input files.
pub fn file_hash(path: &Path) -> Result<String, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::io(path, e))?;
    let d = Sha256::digest(&bytes);
    Ok(d[..10].iter().map(|b| format!("{b:02x}")).collect())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Marker {
    key: String,
    finished: bool,
    /// How many times the work function was started for this key (a killed and resumed stage
    /// counts twice; a reused one is not started at all).
    attempts: usize,
    #[serde(default)]
    finished_at: Option<String>,
}

/// One stage's directory.
#[derive(Debug, Clone)]
pub struct Stage {
    pub dir: PathBuf,
    pub key: String,
}

/// What `Stage::run` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// Finished earlier with the same inputs.
    Reused,
    /// Done now (fresh, resumed, or redone because the inputs changed).
    Done,
}

impl Stage {
    pub fn new(dir: PathBuf, key: String) -> Stage {
        Stage { dir, key }
    }

    fn read_marker(&self) -> Option<Marker> {
        let text = std::fs::read_to_string(self.dir.join(MARKER)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write_marker(&self, marker: &Marker) -> Result<(), RunError> {
        let path = self.dir.join(MARKER);
        let tmp = self.dir.join(".stage.json.partial");
        let text = serde_json::to_string_pretty(marker).expect("marker serialises");
        std::fs::write(&tmp, text).map_err(|e| RunError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| RunError::io(&path, e))
    }

    /// True when the stage finished with this key.
    pub fn is_finished(&self) -> bool {
        self.read_marker()
            .is_some_and(|m| m.finished && m.key == self.key)
    }

    /// Times the work was started under the current key (0 if never).
    pub fn attempts(&self) -> usize {
        self.read_marker()
            .filter(|m| m.key == self.key)
            .map_or(0, |m| m.attempts)
    }

    /// Runs `work` in the stage directory unless it already finished with this key.
    pub fn run(
        &self,
        work: impl FnOnce(&Path) -> Result<(), RunError>,
    ) -> Result<StageOutcome, RunError> {
        let previous = self.read_marker();
        if let Some(m) = &previous
            && m.finished
            && m.key == self.key
        {
            return Ok(StageOutcome::Reused);
        }
        let attempts = match &previous {
            Some(m) if m.key == self.key => m.attempts,
            Some(_) => {
                // Made from other inputs: nothing in it can be trusted.
                std::fs::remove_dir_all(&self.dir).map_err(|e| RunError::io(&self.dir, e))?;
                0
            }
            None => 0,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| RunError::io(&self.dir, e))?;
        let mut marker = Marker {
            key: self.key.clone(),
            finished: false,
            attempts: attempts + 1,
            finished_at: None,
        };
        self.write_marker(&marker)?;
        work(&self.dir)?;
        marker.finished = true;
        marker.finished_at = Some(neglect_eval::results::now());
        self.write_marker(&marker)?;
        Ok(StageOutcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        let a = KeyBuilder::new("s").part("ab").part("c").finish();
        let b = KeyBuilder::new("s").part("a").part("bc").finish();
        assert_ne!(a, b);
        assert_eq!(a, KeyBuilder::new("s").part("ab").part("c").finish());
    }

    #[test]
    fn a_finished_stage_is_reused_and_a_changed_key_redoes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("stage");
        let mut runs = 0;
        let s = Stage::new(dir.clone(), "k1".into());
        let outcome = s
            .run(|d| {
                runs += 1;
                std::fs::write(d.join("out.txt"), "one").map_err(|e| RunError::io(d, e))
            })
            .unwrap();
        assert_eq!(outcome, StageOutcome::Done);
        assert_eq!(
            s.run(|_| panic!("must not run")).unwrap(),
            StageOutcome::Reused
        );
        assert_eq!(s.attempts(), 1);

        let changed = Stage::new(dir.clone(), "k2".into());
        assert!(!changed.is_finished());
        changed
            .run(|d| {
                runs += 1;
                assert!(!d.join("out.txt").exists(), "stale output was cleared");
                Ok(())
            })
            .unwrap();
        assert_eq!(runs, 2);
    }

    #[test]
    fn a_failed_stage_is_retried_and_counts_its_attempts() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Stage::new(tmp.path().join("stage"), "k".into());
        let err = s.run(|_| Err(RunError::Input("boom".into())));
        assert!(err.is_err());
        assert!(!s.is_finished());
        s.run(|_| Ok(())).unwrap();
        assert!(s.is_finished());
        assert_eq!(s.attempts(), 2);
    }
}
