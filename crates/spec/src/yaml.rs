//! YAML text → [`Node`] tree with positions (yaml-rust2's event parser).
//!
//! Every scalar is kept as a string (or null): all our YAML schemas are string-typed, and this
//! spares users YAML 1.1 surprises such as an unquoted `belief_answer: no` turning into `false`.
//! Duplicate mapping keys are an error (PyYAML silently keeps the last one).

use std::collections::HashMap;
use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::error::SpecError;
use crate::tree::{FieldPath, Node, Pos};

/// Parses one YAML document. An empty file gives an empty mapping.
pub fn parse(file: &Path, text: &str) -> Result<Node, SpecError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        let pos = pos_of(e.marker());
        return Err(SpecError::at_pos(
            file,
            pos,
            &FieldPath::root(),
            format!("invalid YAML: {}", e.info()),
        ));
    }
    if let Some((pos, message)) = builder.error {
        return Err(SpecError::at_pos(file, pos, &FieldPath::root(), message));
    }
    Ok(builder.root.unwrap_or(Node::Map {
        entries: Vec::new(),
        pos: Pos { line: 1, col: 1 },
    }))
}

/// Reads and parses a YAML file.
pub fn read(file: &Path) -> Result<Node, SpecError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| SpecError::file(file, format!("cannot read: {e}")))?;
    parse(file, &text)
}

fn pos_of(mark: &Marker) -> Pos {
    Pos {
        line: mark.line(),
        col: mark.col() + 1,
    }
}

/// A container being filled: a sequence, or a mapping with the key awaiting its value.
enum Open {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(String, Pos, Node)>,
        pending_key: Option<(String, Pos)>,
        pos: Pos,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<(Pos, String)>,
}

impl Builder {
    fn fail(&mut self, pos: Pos, message: String) {
        if self.error.is_none() {
            self.error = Some((pos, message));
        }
    }

    /// Places a finished node into the enclosing container (or as the document root).
    fn push(&mut self, node: Node) {
        let pos = node.pos();
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                Some((key, key_pos)) => entries.push((key, key_pos, node)),
                None => {
                    let key = match &node {
                        Node::Scalar {
                            value: serde_json::Value::String(s),
                            ..
                        } => s.clone(),
                        Node::Scalar {
                            value: serde_json::Value::Null,
                            ..
                        } => String::new(),
                        _ => {
                            self.fail(pos, "mapping keys must be plain strings".to_owned());
                            return;
                        }
                    };
                    if entries.iter().any(|(k, _, _)| *k == key) {
                        self.fail(pos, format!("duplicate key '{key}'"));
                    }
                    if let Some(Open::Map { pending_key, .. }) = self.stack.last_mut() {
                        *pending_key = Some((key, pos));
                    }
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let pos = pos_of(&mark);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let is_null = style == TScalarStyle::Plain
                    && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let value = if is_null {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(text)
                };
                let node = Node::Scalar { value, pos };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq {
                items: Vec::new(),
                pos,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map {
                entries: Vec::new(),
                pending_key: None,
                pos,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Open::Seq { items, pos, anchor }) => (Node::Seq { items, pos }, anchor),
                    Some(Open::Map {
                        entries,
                        pos,
                        anchor,
                        ..
                    }) => {
                        // A block mapping's start event is marked at its first ':'; the first key
                        // is where a reader looks.
                        let pos = entries.first().map(|e| e.1).unwrap_or(pos);
                        (Node::Map { entries, pos }, anchor)
                    }
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node);
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => self.push(node),
                None => self.fail(pos, "alias to an unknown anchor".to_owned()),
            },
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Node, SpecError> {
        parse(Path::new("t.yaml"), text)
    }

    #[test]
    fn positions_are_one_based_and_point_at_keys() {
        let node = p("questions:\n  - id: a\n    question: Who?\n  - id: b\n    question: What?\n")
            .unwrap();
        let path = FieldPath::root().key("questions").index(1).key("question");
        assert_eq!(node.locate(&path), Pos { line: 5, col: 5 });
        let path = FieldPath::root().key("questions").index(0);
        assert_eq!(node.locate(&path), Pos { line: 2, col: 5 });
    }

    #[test]
    fn scalars_stay_strings() {
        let node = p("a: no\nb: 'yes'\nc: 12\nd:\ne: ~\n").unwrap();
        let json = node.to_json();
        assert_eq!(json["a"], "no");
        assert_eq!(json["b"], "yes");
        assert_eq!(json["c"], "12");
        assert!(json["d"].is_null());
        assert!(json["e"].is_null());
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = p("id: x\nquestion: a\nid: y\n").unwrap_err();
        assert_eq!((err.line, err.message.as_str()), (3, "duplicate key 'id'"));
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = p("questions:\n  - id: a\n   question: [unclosed\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
        assert!(err.message.starts_with("invalid YAML"), "{err}");
    }

    #[test]
    fn block_scalars_and_aliases() {
        let node = p("base: &b |\n  line one\n  line two\ncopy: *b\n").unwrap();
        let json = node.to_json();
        assert_eq!(json["base"], "line one\nline two\n");
        assert_eq!(json["copy"], json["base"]);
    }
}
