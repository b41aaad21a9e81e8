//! Reading each stage's answers.

/// Stage A: the lines that start with `-`, without the marker.
pub fn doc_types(answer: &str) -> Vec<String> {
    answer
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('-'))
        .map(|t| t.trim().trim_matches('*').trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Stage B: the contents of every `<idea>…</idea>` block, except those marked UNSUITABLE.
pub fn ideas(answer: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = answer;
    while let Some(start) = rest.find("<idea>") {
        let after = &rest[start + "<idea>".len()..];
        let Some(end) = after.find("</idea>") else {
            break;
        };
        let idea = after[..end].trim();
        if !idea.is_empty() && !idea.contains("UNSUITABLE") {
            out.push(idea.to_owned());
        }
        rest = &after[end + "</idea>".len()..];
    }
    out
}

/// Stages C and D: the document, or `None` when the answer is empty or says UNSUITABLE.
pub fn document(answer: &str) -> Option<String> {
    let text = answer.trim();
    (!text.is_empty() && !text.contains("UNSUITABLE")).then(|| text.to_owned())
}

/// Stage E: the reference's rule, kept for its bias towards accepting: a document is rejected
/// when the verdict mentions "false" anywhere.
pub fn accepted(verdict: &str) -> bool {
    !verdict.to_lowercase().contains("false")
}

/// Sorted, deduplicated, the first `n` (the reference's deterministic pick).
pub fn first_unique(items: impl IntoIterator<Item = String>, n: usize) -> Vec<String> {
    let mut set: Vec<String> = items.into_iter().collect();
    set.sort();
    set.dedup();
    set.truncate(n);
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_like_the_reference() {
        assert_eq!(
            doc_types(
                "Some types:\n- Reddit comment in r/running\n  - **Court filing**\nnot a type\n-\n"
            ),
            ["Reddit comment in r/running", "Court filing"]
        );
        assert_eq!(
            ideas(
                "<idea>A letter</idea> x <idea> UNSUITABLE </idea><idea>\nA memo\n</idea><idea>cut"
            ),
            ["A letter", "A memo"]
        );
        assert_eq!(document("  UNSUITABLE  "), None);
        assert_eq!(document(" \n"), None);
        assert_eq!(document(" Text. ").as_deref(), Some("Text."));
        assert!(accepted("{\"accept\": true}"));
        assert!(!accepted("{\"accept\": FALSE}"));
        assert_eq!(
            first_unique(["b".into(), "a".into(), "b".into(), "c".into()], 2),
            ["a", "b"]
        );
    }
}
