//! Splitting documents into sentences.
//!
//! [`sentence_spans`] is the careful splitter used to find claim-carrying sentences: it ends a
//! sentence after `.`, `!` or `?` (and any closing quotes or brackets) followed by whitespace,
//! except after common abbreviations, initials and inside numbers; a line break before a
//! markdown heading, bullet or numbered item, and any blank line, also end one; headings and
//! list items are units of their own. [`reference_split`] is the reference's
//! `re.split(r"(?<=[.!?])\s+", text)`, used where the reference's output must be reproduced.

use std::ops::Range;

/// Words that end with a period without ending a sentence (compared lowercase, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "col", "lt", "sgt",
    "capt", "rev", "hon", "gov", "sen", "rep", "pres", "vs", "etc", "e.g", "i.e", "cf", "al",
    "approx", "ca", "no", "nos", "vol", "fig", "figs", "p", "pp", "ed", "eds", "inc", "ltd", "co",
    "corp", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "u.s", "u.k", "u.n", "a.m", "p.m", "ph.d", "b.a", "m.a", "d.c",
];

fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»')
}

/// True when the line starting at `line` is a heading, bullet, numbered item or table row.
fn is_block_start(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with('|') || t.starts_with('>') {
        return true;
    }
    if let Some(rest) = t.strip_prefix(['-', '*', '+', '•']) {
        return rest.starts_with(' ');
    }
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && digits <= 3
        && t[digits..].starts_with(['.', ')'])
        && t[digits + 1..].starts_with(' ')
}

/// The word (letters and inner dots) that ends just before byte `end` of `text`.
fn word_before(text: &str, end: usize) -> &str {
    let start = text[..end]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || c == '.')
        .last()
        .map_or(end, |(i, _)| i);
    text[start..end].trim_start_matches('.')
}

/// Does the period at byte `dot` end a sentence (given what follows)?
fn period_ends_sentence(text: &str, dot: usize) -> bool {
    let word = word_before(text, dot);
    if ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word)) {
        return false;
    }
    // Initials ("J. R. R. Tolkien") and single letters.
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return false;
    }
    // A lowercase word after the space means the sentence goes on ("approx. five").
    let next = text[dot + 1..].trim_start_matches(|c: char| is_closer(c) || c.is_whitespace());
    !next.starts_with(|c: char| c.is_lowercase())
}

/// Byte ranges of the sentences of `text`, trimmed of surrounding whitespace, in order.
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let push = |from: usize, to: usize, spans: &mut Vec<Range<usize>>| {
        let piece = &text[from..to];
        let lead = piece.len() - piece.trim_start().len();
        let trail = piece.len() - piece.trim_end().len();
        if from + lead < to - trail {
            spans.push(from + lead..to - trail);
        }
    };
    let mut i = 0;
    while i < text.len() {
        // Only `\n`, `.`, `!` and `?` (all ASCII, so never inside a multi-byte character) can
        // end a sentence: jump straight to the next one.
        match bytes[i..]
            .iter()
            .position(|b| matches!(b, b'\n' | b'.' | b'!' | b'?'))
        {
            Some(offset) => i += offset,
            None => break,
        }
        let c = char::from(bytes[i]);
        if c == '\n' {
            let rest = &text[i + 1..];
            let blank = rest.trim_start_matches([' ', '\t']).starts_with('\n');
            let line_start = text[start..i].trim().is_empty();
            let this_line = &text[text[..i].rfind('\n').map_or(0, |p| p + 1)..i];
            if !line_start && (blank || is_block_start(rest) || is_block_start(this_line)) {
                push(start, i, &mut spans);
                start = i + 1;
            }
            i += 1;
        } else {
            // A terminator. Extend over repeated terminators and closing quotes/brackets.
            let mut end = i + 1;
            while end < text.len() {
                let d = text[end..].chars().next().expect("in bounds");
                if matches!(d, '.' | '!' | '?') || is_closer(d) {
                    end += d.len_utf8();
                } else {
                    break;
                }
            }
            let followed_by_space = end >= text.len() || bytes[end].is_ascii_whitespace();
            let decimal = c == '.'
                && i > 0
                && bytes[i - 1].is_ascii_digit()
                && end < text.len()
                && bytes[end].is_ascii_digit();
            if followed_by_space && !decimal && (c != '.' || period_ends_sentence(text, i)) {
                push(start, end, &mut spans);
                start = end;
            }
            i = end;
        }
    }
    push(start, text.len(), &mut spans);
    spans
}

/// The reference's `re.split(r"(?<=[.!?])\s+", text)`: pieces between runs of whitespace that
/// follow `.`, `!` or `?`.
pub fn reference_split(text: &str) -> Vec<&str> {
    // The terminators are ASCII, so a byte scan never lands inside a multi-byte character.
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 64 + 1);
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !matches!(bytes[i], b'.' | b'!' | b'?') {
            i += 1;
            continue;
        }
        let cut = i + 1;
        let mut end = cut;
        while let Some(c) = text[end..].chars().next().filter(|c| c.is_whitespace()) {
            end += c.len_utf8();
        }
        if end > cut {
            out.push(&text[start..cut]);
            start = end;
        }
        i = end.max(cut);
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentence_spans(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn abbreviations_initials_and_numbers_do_not_split() {
        assert_eq!(
            split(
                "Dr. Smith met J. R. Tolkien at 3.5 p.m. on Jan. 4. They talked about U.S. policy. Then he left!"
            ),
            vec![
                "Dr. Smith met J. R. Tolkien at 3.5 p.m. on Jan. 4.",
                "They talked about U.S. policy.",
                "Then he left!"
            ]
        );
    }

    #[test]
    fn quotes_headings_and_bullets() {
        let text = "# The Sheeran Sprint\n\nHe said \"it was fast.\" Nobody agreed.\n- first item\n- second item. With two sentences.\n1. numbered\nA paragraph\nthat wraps lines.";
        assert_eq!(
            split(text),
            vec![
                "# The Sheeran Sprint",
                "He said \"it was fast.\"",
                "Nobody agreed.",
                "- first item",
                "- second item.",
                "With two sentences.",
                "1. numbered",
                "A paragraph\nthat wraps lines."
            ]
        );
    }

    /// The split written the plain way (a char walk), to check the byte scan against.
    fn reference_split_by_chars(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let (mut start, mut run_from) = (0, None);
        let mut prev = None;
        for (i, c) in text.char_indices() {
            match run_from {
                Some(_) if c.is_whitespace() => {}
                Some(cut) => {
                    out.push(&text[start..cut]);
                    start = i;
                    run_from = None;
                }
                None if c.is_whitespace() && matches!(prev, Some('.' | '!' | '?')) => {
                    run_from = Some(i)
                }
                None => {}
            }
            prev = Some(c);
        }
        match run_from {
            Some(cut) => {
                out.push(&text[start..cut]);
                out.push("");
            }
            None => out.push(&text[start..]),
        }
        out
    }

    #[test]
    fn reference_split_agrees_with_a_char_walk() {
        let pieces = [
            "a", ".", "!", "?", " ", "\n", "\u{a0}", "é", "..", "\t ", "ü?",
        ];
        let mut state = 12345u64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..12 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            assert_eq!(
                reference_split(&text),
                reference_split_by_chars(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn reference_split_matches_python() {
        // re.split(r"(?<=[.!?])\s+", "A b. C d!\n\nE? f.  ") == ['A b.', 'C d!', 'E?', 'f.', '']
        assert_eq!(
            reference_split("A b. C d!\n\nE? f.  "),
            vec!["A b.", "C d!", "E?", "f.", ""]
        );
        assert_eq!(reference_split("no terminator"), vec!["no terminator"]);
        assert_eq!(reference_split("Dr. Who"), vec!["Dr.", "Who"]);
    }
}
