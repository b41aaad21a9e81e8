//! A parsed YAML or TOML file as a tree that remembers where every node came from.
//!
//! Loading goes: text → [`Node`] tree (with positions) → `serde_json::Value` → typed struct
//! (through `serde_path_to_error`, so a type error knows its field path). When a type error or
//! a later validation rule names a field path, [`Node::locate`] turns it back into a line and
//! column, and the user gets `file:line:col: field: message`.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::SpecError;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// One step of a field path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A field path such as `questions[3].belief_answer`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<PathSeg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(PathSeg::Key(key.into()));
        self
    }
    pub fn index(mut self, index: usize) -> Self {
        self.0.push(PathSeg::Index(index));
        self
    }
    /// Parses the dotted form produced by `serde_path_to_error` (`a.b[2].c`).
    pub fn parse(text: &str) -> Self {
        let mut segs = Vec::new();
        for part in text.split('.') {
            if part.is_empty() || part == "?" {
                continue;
            }
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !name.is_empty() {
                segs.push(PathSeg::Key(name.to_owned()));
            }
            while let Some(end) = rest.find(']') {
                if let Ok(i) = rest[1..end].parse() {
                    segs.push(PathSeg::Index(i));
                }
                rest = &rest[end + 1..];
            }
        }
        FieldPath(segs)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(k) if i == 0 => write!(f, "{k}")?,
                PathSeg::Key(k) => write!(f, ".{k}")?,
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A node of a parsed file.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar {
        value: serde_json::Value,
        pos: Pos,
    },
    Seq {
        items: Vec<Node>,
        pos: Pos,
    },
    Map {
        entries: Vec<(String, Pos, Node)>,
        pos: Pos,
    },
}

impl Node {
    pub fn pos(&self) -> Pos {
        match self {
            Node::Scalar { pos, .. } | Node::Seq { pos, .. } | Node::Map { pos, .. } => *pos,
        }
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries.iter().find(|(k, _, _)| k == key).map(|e| &e.2),
            _ => None,
        }
    }

    /// The position of the deepest node along `path` that exists. A path ending in a mapping key
    /// points at the key itself, which is where a reader looks for it.
    pub fn locate(&self, path: &FieldPath) -> Pos {
        let mut node = self;
        let mut pos = self.pos();
        for seg in &path.0 {
            match (seg, node) {
                (PathSeg::Key(k), Node::Map { entries, .. }) => {
                    match entries.iter().find(|(key, _, _)| key == k) {
                        Some((_, key_pos, child)) => {
                            pos = *key_pos;
                            node = child;
                        }
                        None => return pos,
                    }
                }
                (PathSeg::Index(i), Node::Seq { items, .. }) => match items.get(*i) {
                    Some(child) => {
                        pos = child.pos();
                        node = child;
                    }
                    None => return pos,
                },
                _ => return pos,
            }
        }
        pos
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Node::Scalar { value, .. } => value.clone(),
            Node::Seq { items, .. } => items.iter().map(Node::to_json).collect(),
            Node::Map { entries, .. } => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Deserialises this tree into `T`; a type error names its field and position.
    pub fn deserialize<T: DeserializeOwned>(&self, file: &Path) -> Result<T, SpecError> {
        serde_path_to_error::deserialize(self.to_json()).map_err(|err| {
            let path = FieldPath::parse(&err.path().to_string());
            let message = err.inner().to_string();
            // Missing fields are reported by serde on the enclosing map; name the field too.
            let path = match missing_field_name(&message) {
                Some(name) => path.key(name),
                None => path,
            };
            SpecError::at(file, self, &path, message)
        })
    }
}

fn missing_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}
