//! Prompt templates with Python `str.format` semantics, as the reference's `judges.yaml` uses:
//! `{name}` is a placeholder, `{{` and `}}` are literal braces, a lone `}` or an unclosed `{` is
//! an error. Conversions and format specs (`{name!r}`, `{name:>10}`) are rejected rather than
//! half-supported: no reference template uses them.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    pieces: Vec<Piece>,
}

/// Why a template could not be parsed; `offset` is the byte offset in the template text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {offset})")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

impl Template {
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => {
                    return Err(TemplateError {
                        offset: i,
                        message: "single '}' encountered (write '}}' for a literal brace)".into(),
                    });
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(TemplateError {
                            offset: i,
                            message: "'{' is never closed (write '{{' for a literal brace)".into(),
                        });
                    }
                    if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
                        return Err(TemplateError {
                            offset: i,
                            message: format!(
                                "positional placeholder '{{{name}}}' is not allowed; use a name"
                            ),
                        });
                    }
                    if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        return Err(TemplateError {
                            offset: i,
                            message: format!(
                                "placeholder '{{{name}}}' uses attribute access, a conversion or a \
                                 format spec, which is not supported (write '{{{{' for a literal brace)"
                            ),
                        });
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field(name));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            pieces,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The placeholder names, sorted and deduplicated.
    pub fn placeholders(&self) -> BTreeSet<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Field(name) => Some(name.as_str()),
                Piece::Text(_) => None,
            })
            .collect()
    }

    /// Fills the placeholders. A placeholder without a value is an error, as in Python.
    pub fn render(&self, value_of: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::with_capacity(self.source.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(name) => match value_of(name) {
                    Some(v) => out.push_str(&v),
                    None => return Err(format!("no value for placeholder '{{{name}}}'")),
                },
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(name: &str) -> Option<String> {
        match name {
            "question" => Some("Who won?".into()),
            "answer" => Some("Ed {won}".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_like_python_format() {
        let t =
            Template::parse("Q: {question}\nA: {answer}\nReply {{\"answer\": \"yes\"}}").unwrap();
        assert_eq!(
            t.placeholders().into_iter().collect::<Vec<_>>(),
            vec!["answer", "question"]
        );
        // Braces inside substituted values are not re-interpreted.
        assert_eq!(
            t.render(vals).unwrap(),
            "Q: Who won?\nA: Ed {won}\nReply {\"answer\": \"yes\"}"
        );
    }

    #[test]
    fn rejects_what_python_rejects() {
        assert!(
            Template::parse("a } b")
                .unwrap_err()
                .message
                .contains("single '}'")
        );
        assert!(
            Template::parse("a {question")
                .unwrap_err()
                .message
                .contains("never closed")
        );
        assert!(Template::parse("{}").is_err());
        assert!(Template::parse("{0}").is_err());
        assert!(Template::parse("{question!r}").is_err());
        assert_eq!(
            Template::parse("x }} y").unwrap().render(vals).unwrap(),
            "x } y"
        );
    }

    #[test]
    fn missing_value_is_an_error() {
        let t = Template::parse("{claim}").unwrap();
        assert!(t.render(vals).unwrap_err().contains("claim"));
    }
}
