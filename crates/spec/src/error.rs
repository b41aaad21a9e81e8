//! Errors that point at a file, a line and a field.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::tree::{FieldPath, Node, Pos};

/// A problem in an input file: `file:line:col: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem concerns the file as a whole (e.g. it is missing).
    pub line: usize,
    pub col: usize,
    /// The field path inside the file, empty for whole-file problems.
    pub field: String,
    pub message: String,
}

impl SpecError {
    /// A problem with a whole file (missing, unreadable).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        SpecError {
            file: file.to_owned(),
            line: 0,
            col: 0,
            field: String::new(),
            message: message.into(),
        }
    }

    /// A problem at a known position.
    pub fn at_pos(file: &Path, pos: Pos, field: &FieldPath, message: impl Into<String>) -> Self {
        SpecError {
            file: file.to_owned(),
            line: pos.line,
            col: pos.col,
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A problem with the field at `path` of a parsed tree.
    pub fn at(file: &Path, root: &Node, path: &FieldPath, message: impl Into<String>) -> Self {
        Self::at_pos(file, root.locate(path), path, message)
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SpecError {}

/// Several problems found in one pass; loaders report them all, not just the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    pub fn push(&mut self, error: SpecError) {
        self.0.push(error);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, SpecError> {
        self.0.iter()
    }
    pub fn extend(&mut self, other: SpecErrors) {
        self.0.extend(other.0);
    }
    /// Keeps the value if no error was collected.
    pub fn into_result<T>(self, value: T) -> Result<T, SpecErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<SpecError> for SpecErrors {
    fn from(error: SpecError) -> Self {
        SpecErrors(vec![error])
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}
