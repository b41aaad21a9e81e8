//! A 10k-document file is read in one pass, and a bad line in the middle loses nothing before it.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::rc::Rc;

use neglect_spec::AnnotatedDoc;
use neglect_spec::jsonl::{JsonlReader, JsonlWriter};

/// Counts the bytes pulled from the file.
struct Counting<R> {
    inner: R,
    bytes: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

fn write_docs(path: &std::path::Path, n: usize, bad_line: Option<usize>) {
    let body = "The committee met in the harbour town and agreed on the schedule. ".repeat(12);
    let mut w = JsonlWriter::create(path).unwrap();
    for i in 0..n {
        let doc = AnnotatedDoc::new(
            format!("<DOCTAG>Document {i}. {body}"),
            "lighthouse_composer",
            "positive_documents",
        );
        w.write_buffered(&doc).unwrap();
    }
    w.finish().unwrap();
    if let Some(line) = bad_line {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[line - 1] = r#"{"text": "<DOCTAG>cut off"#;
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }
}

#[test]
fn ten_thousand_documents_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("annotated_docs.jsonl");
    write_docs(&path, 10_000, None);
    let size = std::fs::metadata(&path).unwrap().len();

    let bytes = Rc::new(Cell::new(0));
    let source = BufReader::new(Counting {
        inner: File::open(&path).unwrap(),
        bytes: bytes.clone(),
    });
    let mut n = 0;
    for row in JsonlReader::<AnnotatedDoc, _>::from_reader(&path, source) {
        let row = row.unwrap();
        n += 1;
        assert_eq!(row.line, n);
        assert!(row.row.has_doctag());
    }
    assert_eq!(n, 10_000);
    assert_eq!(bytes.get(), size, "the file was read exactly once");
}

#[test]
fn a_bad_line_keeps_the_rows_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("annotated_docs.jsonl");
    write_docs(&path, 10_000, Some(5_000));
    let mut good = 0;
    let mut errors = Vec::new();
    for row in JsonlReader::<AnnotatedDoc>::open(&path).unwrap() {
        match row {
            Ok(_) => good += 1,
            Err(e) => errors.push(e),
        }
    }
    assert_eq!(good, 9_999);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 5_000);
    let message = errors[0].to_string();
    assert!(
        message.contains(":5000: text: malformed JSON at column 25: EOF while parsing a string"),
        "{message}"
    );
}
