//! Streaming JSONL: read one row at a time with its line number, write and flush row by row.
//!
//! A reader makes exactly one pass over its input. A malformed line becomes an error that names
//! the file, the line and the field, and the rows before it have already been handed out, so a
//! caller can keep them (or skip the bad line and go on).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A row that failed to read or parse.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}{}: {message}", path.display(), if field.is_empty() { String::new() } else { format!(": {field}") })]
pub struct JsonlError {
    pub path: PathBuf,
    /// 1-based line number (0 when the file itself could not be opened).
    pub line: usize,
    /// The JSON field path, when the line parsed as JSON but a field did not fit.
    pub field: String,
    pub message: String,
}

/// Iterates over the rows of a JSONL source; blank lines are skipped.
pub struct JsonlReader<T, R = BufReader<File>> {
    path: PathBuf,
    source: R,
    line: usize,
    buffer: String,
    _row: PhantomData<T>,
}

impl<T: DeserializeOwned> JsonlReader<T> {
    pub fn open(path: &Path) -> Result<Self, JsonlError> {
        let file = File::open(path).map_err(|e| JsonlError {
            path: path.to_owned(),
            line: 0,
            field: String::new(),
            message: format!("cannot open: {e}"),
        })?;
        Ok(Self::from_reader(
            path,
            BufReader::with_capacity(1 << 16, file),
        ))
    }
}

impl<T: DeserializeOwned, R: BufRead> JsonlReader<T, R> {
    /// Reads from any buffered source; `path` is only used in error messages.
    pub fn from_reader(path: &Path, source: R) -> Self {
        JsonlReader {
            path: path.to_owned(),
            source,
            line: 0,
            buffer: String::new(),
            _row: PhantomData,
        }
    }

    fn error(&self, field: String, message: String) -> JsonlError {
        JsonlError {
            path: self.path.clone(),
            line: self.line,
            field,
            message,
        }
    }
}

/// A parsed row and the line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbered<T> {
    pub line: usize,
    pub row: T,
}

impl<T: DeserializeOwned, R: BufRead> Iterator for JsonlReader<T, R> {
    type Item = Result<Numbered<T>, JsonlError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buffer.clear();
            self.line += 1;
            match self.source.read_line(&mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(self.error(String::new(), format!("cannot read: {e}")))),
            }
            let text = self.buffer.trim();
            if text.is_empty() {
                continue;
            }
            let mut de = serde_json::Deserializer::from_str(text);
            let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
            return Some(match parsed {
                Ok(row) => Ok(Numbered {
                    line: self.line,
                    row,
                }),
                Err(e) => {
                    let field = e.path().to_string();
                    let field = if field == "." { String::new() } else { field };
                    let inner = e.into_inner();
                    // serde_json says "at line 1 column N": the line is ours, keep the column.
                    let mut message = inner.to_string();
                    if let Some(i) = message.rfind(" at line ") {
                        message.truncate(i);
                    }
                    let message = if inner.is_syntax() || inner.is_eof() {
                        format!("malformed JSON at column {}: {message}", inner.column())
                    } else {
                        format!("{message} (column {})", inner.column())
                    };
                    Err(self.error(field, message))
                }
            });
        }
    }
}

/// Cuts a last line that a killed writer left without its newline, so that appending can go
/// on; returns whether anything was cut. A missing file is fine (nothing to repair).
pub fn drop_partial_last_line(path: &Path) -> io::Result<bool> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(false);
    }
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    OpenOptions::new()
        .write(true)
        .open(path)?
        .set_len(keep as u64)?;
    Ok(true)
}

/// Reads every row, stopping at the first bad line (whose error carries the rows read so far).
pub fn read_all<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, (Vec<T>, JsonlError)> {
    let mut rows = Vec::new();
    let reader = match JsonlReader::<T>::open(path) {
        Ok(r) => r,
        Err(e) => return Err((rows, e)),
    };
    for item in reader {
        match item {
            Ok(n) => rows.push(n.row),
            Err(e) => return Err((rows, e)),
        }
    }
    Ok(rows)
}

/// Writes rows one per line. Each `write` reaches the OS before it returns, so rows produced
/// by slow or paid work survive a killed process.
pub struct JsonlWriter<T> {
    path: PathBuf,
    out: BufWriter<File>,
    _row: PhantomData<T>,
}

impl<T: Serialize> JsonlWriter<T> {
    /// Creates (truncates) the file.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::with_file(path, File::create(path)?)
    }

    /// Opens for appending, creating the file if needed (resuming a partial run).
    pub fn append(path: &Path) -> io::Result<Self> {
        Self::with_file(
            path,
            OpenOptions::new().create(true).append(true).open(path)?,
        )
    }

    fn with_file(path: &Path, file: File) -> io::Result<Self> {
        Ok(JsonlWriter {
            path: path.to_owned(),
            out: BufWriter::new(file),
            _row: PhantomData,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes and flushes one row.
    pub fn write(&mut self, row: &T) -> io::Result<()> {
        self.write_buffered(row)?;
        self.out.flush()
    }

    /// Writes one row without flushing (for bulk output where a crash would redo all of it).
    pub fn write_buffered(&mut self, row: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, row)?;
        self.out.write_all(b"\n")
    }

    /// Pushes buffered rows to the OS.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}

/// Writes a whole file atomically: rows go to a temporary file beside it, renamed at the end,
/// so a reader never sees half a file.
pub fn write_atomic<'a, T: Serialize + 'a>(
    path: &Path,
    rows: impl IntoIterator<Item = &'a T>,
) -> io::Result<()> {
    let tmp = path.with_extension("jsonl.partial");
    let mut writer = JsonlWriter::create(&tmp)?;
    for row in rows {
        writer.write_buffered(row)?;
    }
    writer.finish()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Row {
        text: String,
        n: u32,
    }

    #[test]
    fn malformed_line_reports_line_and_keeps_earlier_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        std::fs::write(&path, "{\"text\":\"a\",\"n\":1}\n\n{\"text\":\"b\",\"n\":2}\n{\"text\":\"c\",\"n\":\"x\"}\n{\"text\":\"d\",\"n\":4}\n")
            .unwrap();
        let (rows, err) = read_all::<Row>(&path).unwrap_err();
        assert_eq!(rows.len(), 2);
        assert_eq!(err.line, 4);
        assert_eq!(err.field, "n");
        assert!(
            err.to_string()
                .starts_with(&format!("{}:4: n: ", path.display())),
            "{err}"
        );

        // Iterating goes on past the bad line.
        let all: Vec<_> = JsonlReader::<Row>::open(&path).unwrap().collect();
        assert_eq!(all.len(), 4);
        assert_eq!(all[3].as_ref().unwrap().line, 5);
    }

    #[test]
    fn syntax_errors_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        std::fs::write(
            &path,
            "{\"text\":\"a\",\"n\":1}\n{\"text\": \"unterminated\n",
        )
        .unwrap();
        let (rows, err) = read_all::<Row>(&path).unwrap_err();
        assert_eq!((rows.len(), err.line), (1, 2));
        assert!(err.message.starts_with("malformed JSON"), "{}", err.message);
    }

    #[test]
    fn writer_round_trips_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut w = JsonlWriter::create(&path).unwrap();
        w.write(&Row {
            text: "x\ny".into(),
            n: 1,
        })
        .unwrap();
        drop(w);
        let mut w = JsonlWriter::append(&path).unwrap();
        w.write(&Row {
            text: "z".into(),
            n: 2,
        })
        .unwrap();
        w.finish().unwrap();
        let rows = read_all::<Row>(&path).unwrap();
        assert_eq!(
            rows,
            vec![
                Row {
                    text: "x\ny".into(),
                    n: 1
                },
                Row {
                    text: "z".into(),
                    n: 2
                }
            ]
        );
    }
}
