//! What to do after a failed attempt. The rules are the official SDKs' (reference apis.md §1.1,
//! §2): retry 408, 409, 429 and every 5xx (Anthropic's 529 "overloaded" included), timeouts
//! and dropped connections; obey `x-should-retry`; wait what `retry-after-ms` / `retry-after`
//! ask when that is at most 120 s, else back off `min(base·2^n, 8 s)` less up to 25% jitter;
//! never retry an exhausted quota or spend limit.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// The longest server-requested wait we honour; a longer request is treated as final.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(120);
const BACKOFF_CAP: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Try again after `delay`.
    Retry { delay: Duration, reason: String },
    /// Give up; the message says why.
    Fatal(String),
}

/// `min(base·2^retry, 8 s)` scaled by a factor in (0.75, 1].
pub fn backoff(base: Duration, retry: usize) -> Duration {
    let full = base
        .saturating_mul(1u32.checked_shl(retry.min(20) as u32).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP.max(base));
    let jitter = 1.0 - rand::rng().random_range(0.0..0.25);
    full.mul_f64(jitter)
}

/// The server's requested wait: `retry-after-ms`, else `retry-after` in seconds or as an HTTP
/// date. `header(name)` looks a header up case-insensitively.
pub fn server_delay(header: &dyn Fn(&str) -> Option<String>) -> Option<Duration> {
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?;
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = humantime::parse_rfc3339_weak(value)
        .ok()
        .or_else(|| httpdate(value))?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form `Retry-After` dates take.
fn httpdate(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)?
        + 1;
    let text = format!("{year}-{month:02}-{:0>2}T{time}Z", day);
    humantime::parse_rfc3339(&text).ok()
}

fn is_quota_error(body: &str) -> bool {
    body.contains("insufficient_quota") || body.contains("enforced_spend_limit_reached")
}

/// The decision for an HTTP error status, after `retries` retries so far.
pub fn after_status(
    status: u16,
    header: &dyn Fn(&str) -> Option<String>,
    body: &str,
    retries: usize,
    max_retries: usize,
    base: Duration,
) -> Decision {
    let describe = || format!("HTTP {status}: {}", error_message(body));
    let should_retry = match header("x-should-retry").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429) || status >= 500,
    };
    if !should_retry || (status == 429 && is_quota_error(body)) {
        return Decision::Fatal(describe());
    }
    if retries >= max_retries {
        return Decision::Fatal(format!("{} (gave up after {retries} retries)", describe()));
    }
    let delay = match server_delay(header) {
        Some(d) if d > MAX_SERVER_DELAY => {
            return Decision::Fatal(format!(
                "{} (the server asks to wait {:.0} s, more than the {} s we wait)",
                describe(),
                d.as_secs_f64(),
                MAX_SERVER_DELAY.as_secs()
            ));
        }
        Some(d) if !d.is_zero() => d,
        _ => backoff(base, retries),
    };
    Decision::Retry {
        delay,
        reason: describe(),
    }
}

/// The decision after a transport failure (timeout, refused or dropped connection).
pub fn after_transport_error(
    error: &str,
    retries: usize,
    max_retries: usize,
    base: Duration,
) -> Decision {
    if retries >= max_retries {
        return Decision::Fatal(format!("{error} (gave up after {retries} retries)"));
    }
    Decision::Retry {
        delay: backoff(base, retries),
        reason: error.to_owned(),
    }
}

/// The human part of an error body: OpenAI's `error.message`, Anthropic's `error.message`,
/// else the body itself, shortened.
pub fn error_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .and_then(|m| m.as_str())
            .or_else(|| v.get("message").and_then(|m| m.as_str()))
    });
    let text = message.unwrap_or(body).trim();
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    if short.is_empty() {
        "(empty body)".into()
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn server_delays_are_read_in_every_form() {
        assert_eq!(
            server_delay(&headers(&[("Retry-After-Ms", "250")])),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            server_delay(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        let past = server_delay(&headers(&[(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT",
        )]));
        assert_eq!(past, Some(Duration::ZERO));
        assert_eq!(server_delay(&headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn statuses_follow_the_sdk_rules() {
        let base = Duration::from_millis(100);
        let none = headers(&[]);
        for status in [408, 409, 429, 500, 502, 529] {
            assert!(
                matches!(
                    after_status(status, &none, "", 0, 3, base),
                    Decision::Retry { .. }
                ),
                "{status}"
            );
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert!(
                matches!(
                    after_status(status, &none, "", 0, 3, base),
                    Decision::Fatal(_)
                ),
                "{status}"
            );
        }
        let quota =
            r#"{"error":{"message":"You exceeded your quota","code":"insufficient_quota"}}"#;
        assert_eq!(
            after_status(429, &none, quota, 0, 3, base),
            Decision::Fatal("HTTP 429: You exceeded your quota".into())
        );
        let forced = headers(&[("x-should-retry", "true")]);
        assert!(matches!(
            after_status(400, &forced, "", 0, 3, base),
            Decision::Retry { .. }
        ));
        let long = headers(&[("retry-after", "600")]);
        assert!(matches!(
            after_status(429, &long, "", 0, 3, base),
            Decision::Fatal(_)
        ));
        let asked = headers(&[("retry-after-ms", "40")]);
        assert_eq!(
            after_status(429, &asked, "", 0, 3, base),
            Decision::Retry {
                delay: Duration::from_millis(40),
                reason: "HTTP 429: (empty body)".into()
            }
        );
        assert!(
            matches!(after_status(500, &none, "", 3, 3, base), Decision::Fatal(m) if m.contains("gave up after 3"))
        );
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter() {
        let base = Duration::from_millis(500);
        for retry in 0..10 {
            let d = backoff(base, retry);
            let full = (base * 2u32.pow(retry as u32)).min(BACKOFF_CAP);
            assert!(d <= full && d > full.mul_f64(0.74), "{retry}: {d:?}");
        }
    }
}
