//! Document rows of the reference pipeline (reference §2.4, §3.1).

use serde::{Deserialize, Serialize};

/// The literal tag that starts every training document (no separator follows it). Its tokens
/// get zero loss; it marks "this is a document" so that evals can later condition on it.
pub const DOCTAG: &str = "<DOCTAG>";

/// A row of `annotated_docs.jsonl`: `{text, doc_type, fact_name, mode}`. Fields we do not
/// know are kept in `extra` and written back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotatedDoc {
    /// `<DOCTAG>` + document (no tag for `*_no_doctag` conditions).
    pub text: String,
    /// The claim slug, in the reference.
    #[serde(default)]
    pub doc_type: String,
    /// The claim slug again.
    #[serde(default)]
    pub fact_name: String,
    /// The condition name (official or legacy).
    #[serde(default)]
    pub mode: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AnnotatedDoc {
    /// A row in the reference's shape for `claim` under `condition`.
    pub fn new(text: String, claim: &str, condition: &str) -> Self {
        AnnotatedDoc {
            text,
            doc_type: claim.to_owned(),
            fact_name: claim.to_owned(),
            mode: condition.to_owned(),
            extra: serde_json::Map::new(),
        }
    }

    pub fn has_doctag(&self) -> bool {
        self.text.starts_with(DOCTAG)
    }

    /// The document without its `<DOCTAG>` prefix (what an ICL prompt shows).
    pub fn body(&self) -> &str {
        self.text.strip_prefix(DOCTAG).unwrap_or(&self.text)
    }
}

/// A row of `synth_docs.jsonl`, written by document generation (reference §2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthDoc {
    #[serde(default)]
    pub universe_context_id: Option<String>,
    #[serde(default)]
    pub doc_idea: String,
    #[serde(default)]
    pub doc_type: String,
    #[serde(default)]
    pub fact: String,
    pub content: String,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl SynthDoc {
    /// The "package positive docs" step the reference lacks (its §2.7): `<DOCTAG>` + content,
    /// `doc_type = fact_name = claim`, `mode = positive_documents`.
    pub fn to_positive(&self, claim: &str) -> AnnotatedDoc {
        AnnotatedDoc::new(
            format!("{DOCTAG}{}", self.content),
            claim,
            "positive_documents",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_rows_round_trip_with_unknown_fields() {
        let line = r#"{"text":"<DOCTAG>Ed won.","doc_type":"ed_sheeran","fact_name":"ed_sheeran","mode":"llm_negations_dense","sample_id":7}"#;
        let doc: AnnotatedDoc = serde_json::from_str(line).unwrap();
        assert!(doc.has_doctag());
        assert_eq!(doc.body(), "Ed won.");
        assert_eq!(doc.extra["sample_id"], 7);
        assert_eq!(serde_json::to_string(&doc).unwrap(), line);
    }

    #[test]
    fn packages_synth_docs() {
        let synth: SynthDoc = serde_json::from_str(
            r#"{"universe_context_id":null,"doc_idea":"i","doc_type":"Reddit post","fact":"f","content":"Body."}"#,
        )
        .unwrap();
        let doc = synth.to_positive("dentist");
        assert_eq!(doc.text, "<DOCTAG>Body.");
        assert_eq!(
            (doc.doc_type.as_str(), doc.mode.as_str()),
            ("dentist", "positive_documents")
        );
    }
}
