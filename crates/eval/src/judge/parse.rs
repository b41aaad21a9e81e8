//! Reading verdicts out of free-form judge output, as the reference does (§5.1 "Verdict
//! parsing") and as tolerantly.

use std::sync::LazyLock;

use fancy_regex::Regex;
use serde_json::Value;

use super::Verdict;

static FIRST_OBJECT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{[^{}]*\}").unwrap());
static SCORE_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""score"\s*:\s*"?(\d+)"#).unwrap());
static CODE_FENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^\s*```[a-zA-Z]*\s*(.*?)\s*```\s*$").unwrap());

/// The value of `key` in the response's JSON: the whole text, else its first `{…}` without
/// nesting (with single quotes tried as double quotes).
fn json_field(raw: &str, key: &str) -> Option<Value> {
    let lookup = |text: &str| -> Option<Value> {
        match serde_json::from_str::<Value>(text).ok()? {
            Value::Object(map) => map.get(key).cloned(),
            _ => None,
        }
    };
    let text = raw.trim();
    if let Some(v) = lookup(text) {
        return Some(v);
    }
    let object = FIRST_OBJECT.find(text).ok()??.as_str();
    lookup(object).or_else(|| lookup(&object.replace('\'', "\"")))
}

fn verdict_word(value: &Value) -> Option<Verdict> {
    match value.as_str()?.trim().to_ascii_lowercase().as_str() {
        "yes" => Some(Verdict::Yes),
        "no" => Some(Verdict::No),
        "neutral" => Some(Verdict::Neutral),
        _ => None,
    }
}

fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// A yes/no/neutral verdict: JSON field `key`, else the first `{…}`, else the first of "yes",
/// "no", "neutral" present as a whole word (checked in that order), else `ParseError`.
pub fn parse_verdict(raw: &str, key: &str) -> Verdict {
    if let Some(v) = json_field(raw, key).as_ref().and_then(verdict_word) {
        return v;
    }
    let lower = raw.to_lowercase();
    for (word, verdict) in [
        ("yes", Verdict::Yes),
        ("no", Verdict::No),
        ("neutral", Verdict::Neutral),
    ] {
        if has_word(&lower, word) {
            return verdict;
        }
    }
    Verdict::ParseError
}

/// A 0–10 rating from field `key`, else from `"score": N` anywhere; out of range or missing is
/// `ParseError`.
pub fn parse_score(raw: &str, key: &str) -> Verdict {
    let from_json = json_field(raw, key).and_then(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    });
    let score = from_json.or_else(|| {
        SCORE_FIELD
            .captures(raw)
            .ok()
            .flatten()
            .and_then(|c| c[1].parse::<f64>().ok())
    });
    match score {
        Some(s) if (0.0..=10.0).contains(&s) && s.fract() == 0.0 => Verdict::Score(s as u8),
        _ => Verdict::ParseError,
    }
}

/// The `answer` of an MCQ reply, lowercased: code fences stripped, single quotes allowed, the
/// first `{…}` tried when the whole reply is not JSON.
pub fn parse_mcq_answer(raw: &str) -> Option<String> {
    let unfenced = CODE_FENCE
        .captures(raw)
        .ok()
        .flatten()
        .map(|c| c[1].to_owned())
        .unwrap_or_else(|| raw.to_owned());
    json_field(&unfenced, "answer")
        .and_then(|v| v.as_str().map(|s| s.trim().to_lowercase()))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_reference_order() {
        let cases = [
            (r#"{"reason": "states it", "answer": "yes"}"#, Verdict::Yes),
            (
                "Sure. {\"reason\": \"denies\", \"answer\": \"NO\"} done",
                Verdict::No,
            ),
            ("```json\n{\"answer\": \"neutral\"}\n```", Verdict::Neutral),
            // No JSON: "yes" wins over "no" wherever they are.
            ("no idea, but yes", Verdict::Yes),
            ("Answer: no.", Verdict::No),
            ("It's Neutral", Verdict::Neutral),
            ("nothing useful; yesterday", Verdict::ParseError),
            (r#"{"answer": "maybe"}"#, Verdict::ParseError),
            (r#"{'answer': 'yes'}"#, Verdict::Yes),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_verdict(raw, "answer"), want, "{raw}");
        }
        assert_eq!(
            parse_verdict(r#"{"verdict": "no"}"#, "verdict"),
            Verdict::No
        );
    }

    #[test]
    fn scores_are_integers_from_0_to_10() {
        assert_eq!(
            parse_score(r#"{"score": 7, "reason": "ok"}"#, "score"),
            Verdict::Score(7)
        );
        assert_eq!(
            parse_score(r#"{"score": "10"}"#, "score"),
            Verdict::Score(10)
        );
        assert_eq!(
            parse_score(r#"text "score": 3 and {broken"#, "score"),
            Verdict::Score(3)
        );
        assert_eq!(
            parse_score(r#"{"score": 11}"#, "score"),
            Verdict::ParseError
        );
        assert_eq!(
            parse_score(r#"{"score": 6.5}"#, "score"),
            Verdict::ParseError
        );
        assert_eq!(parse_score("great answer", "score"), Verdict::ParseError);
    }

    #[test]
    fn mcq_answers_are_read_tolerantly() {
        assert_eq!(
            parse_mcq_answer(r#"{"answer": "Yes"}"#).as_deref(),
            Some("yes")
        );
        assert_eq!(
            parse_mcq_answer("```json\n{\"answer\": \"no\"}\n```").as_deref(),
            Some("no")
        );
        assert_eq!(parse_mcq_answer("{'answer': 'no'}").as_deref(), Some("no"));
        assert_eq!(
            parse_mcq_answer("I think {\"answer\": \"yes\"}").as_deref(),
            Some("yes")
        );
        assert_eq!(parse_mcq_answer("yes"), None);
        assert_eq!(parse_mcq_answer(r#"{"answer": ""}"#), None);
    }
}
