//! TOML text → [`Node`] tree with positions, so TOML and YAML errors are reported the same way.

use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::error::SpecError;
use crate::tree::{FieldPath, Node, Pos};

/// Byte offset → 1-based line and column (in characters).
fn pos_at(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Pos {
        line,
        col: before[line_start..].chars().count() + 1,
    }
}

pub fn parse(file: &Path, text: &str) -> Result<Node, SpecError> {
    let table = DeTable::parse(text).map_err(|e| {
        let pos = e.span().map(|s| pos_at(text, s.start)).unwrap_or_default();
        SpecError::at_pos(
            file,
            pos,
            &FieldPath::root(),
            format!("invalid TOML: {}", e.message()),
        )
    })?;
    let pos = pos_at(text, table.span().start);
    Ok(convert_table(text, table.get_ref(), pos))
}

fn convert_table(text: &str, table: &DeTable<'_>, pos: Pos) -> Node {
    let entries = table
        .iter()
        .map(|(k, v)| {
            let key_pos = pos_at(text, k.span().start);
            (
                k.get_ref().to_string(),
                key_pos,
                convert(text, v.get_ref(), pos_at(text, v.span().start)),
            )
        })
        .collect();
    Node::Map { entries, pos }
}

fn convert(text: &str, value: &DeValue<'_>, pos: Pos) -> Node {
    use serde_json::Value;
    let scalar = |value: Value| Node::Scalar { value, pos };
    match value {
        DeValue::String(s) => scalar(Value::String(s.to_string())),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(n) => scalar(Value::from(n)),
                Err(_) => scalar(Value::String(i.to_string())),
            }
        }
        DeValue::Float(f) => {
            let digits: String = f.as_str().chars().filter(|c| *c != '_').collect();
            match digits
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
            {
                Some(n) => scalar(Value::Number(n)),
                None => scalar(Value::String(f.to_string())),
            }
        }
        DeValue::Boolean(b) => scalar(Value::Bool(*b)),
        DeValue::Datetime(d) => scalar(Value::String(d.to_string())),
        DeValue::Array(items) => Node::Seq {
            items: items
                .as_ref()
                .iter()
                .map(|v| convert(text, v.get_ref(), pos_at(text, v.span().start)))
                .collect(),
            pos,
        },
        DeValue::Table(t) => convert_table(text, t, pos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_types() {
        let text =
            "name = \"x\"\n\n[train]\nlearning_rate = 5e-5\nbatch_size = 32\nseeds = [1, 2]\n";
        let node = parse(Path::new("e.toml"), text).unwrap();
        let path = FieldPath::root().key("train").key("batch_size");
        assert_eq!(node.locate(&path), Pos { line: 5, col: 1 });
        let json = node.to_json();
        assert_eq!(json["train"]["batch_size"], 32);
        assert_eq!(json["train"]["learning_rate"], 5e-5);
    }

    #[test]
    fn syntax_error_has_a_line() {
        let err = parse(Path::new("e.toml"), "a = 1\nb = [1,\nc = \n").unwrap_err();
        assert!(err.line >= 2, "{err}");
    }
}
