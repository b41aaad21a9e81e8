use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LmError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Format(String),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

impl LmError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        LmError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
