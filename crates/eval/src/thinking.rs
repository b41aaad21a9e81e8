//! Reasoning traces in answers (reference §5.1 "Thinking handling"): `<think>` blocks are cut
//! out before judging and kept as the trace.

/// What a failed or empty answer is judged as (the judges score it as non-belief).
pub const FAILED_RESPONSE: &str = "[failed to generate response]";

/// Splits a raw answer into (the text to judge, the thinking trace). An unclosed `<think>` is
/// closed at the end; an answer with nothing outside its thinking becomes [`FAILED_RESPONSE`].
pub fn split_thinking(raw: &str) -> (String, String) {
    if !raw.contains("<think>") && !raw.contains("</think>") {
        let judged = raw.trim();
        return (
            if judged.is_empty() {
                FAILED_RESPONSE
            } else {
                judged
            }
            .to_owned(),
            String::new(),
        );
    }
    let mut text = raw.to_owned();
    // A closing tag with no opening one: everything before it was thinking.
    if !text.contains("<think>") {
        text.insert_str(0, "<think>");
    }
    if text.matches("<think>").count() > text.matches("</think>").count() {
        text.push_str("</think>");
    }
    let mut judged = String::new();
    let mut trace = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<think>") {
        judged.push_str(&rest[..start]);
        let after = &rest[start + "<think>".len()..];
        let end = after.find("</think>").unwrap_or(after.len());
        trace.push(after[..end].trim().to_owned());
        rest = after.get(end + "</think>".len()..).unwrap_or("");
    }
    judged.push_str(rest);
    let judged = judged.trim();
    (
        if judged.is_empty() {
            FAILED_RESPONSE
        } else {
            judged
        }
        .to_owned(),
        trace.join("\n\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_is_cut_out_and_kept() {
        assert_eq!(split_thinking(" plain "), ("plain".into(), String::new()));
        assert_eq!(
            split_thinking("<think>hmm</think>\nYes."),
            ("Yes.".into(), "hmm".into())
        );
        assert_eq!(
            split_thinking("<think>still going"),
            (FAILED_RESPONSE.into(), "still going".into())
        );
        assert_eq!(
            split_thinking("reasoning</think>Answer"),
            ("Answer".into(), "reasoning".into())
        );
        assert_eq!(
            split_thinking("  "),
            (FAILED_RESPONSE.into(), String::new())
        );
    }
}
