//! API keys come from a named environment variable and nowhere else. The key type prints as
//! `<redacted>`, and [`ApiKey::scrub`] removes the key from any text (a server that echoes a
//! header into an error body must not put the key into a log or a results file).

use std::fmt;

use crate::ApiError;

#[derive(Clone)]
pub struct ApiKey {
    value: String,
    /// The variable it came from (safe to show).
    pub variable: String,
}

impl ApiKey {
    /// Reads `variable`; an unset or empty variable is an error that names it.
    pub fn from_env(variable: &str) -> Result<ApiKey, ApiError> {
        match std::env::var(variable) {
            Ok(value) if !value.trim().is_empty() => Ok(ApiKey {
                value: value.trim().to_owned(),
                variable: variable.to_owned(),
            }),
            Ok(_) => Err(ApiError::Config(format!(
                "the environment variable {variable} is empty; it should hold the API key"
            ))),
            Err(_) => Err(ApiError::Config(format!(
                "the environment variable {variable} is not set; it should hold the API key"
            ))),
        }
    }

    /// The key itself, for the one place that builds the request header.
    pub(crate) fn expose(&self) -> &str {
        &self.value
    }

    /// `text` with every occurrence of the key replaced.
    pub fn scrub(&self, text: &str) -> String {
        if self.value.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.value, "<redacted>")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(${} = <redacted>)", self.variable)
    }
}

/// Removes the key, if any, from `text`.
pub fn scrub(key: Option<&ApiKey>, text: &str) -> String {
    match key {
        Some(k) => k.scrub(text),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let key = ApiKey {
            value: "sk-test-123456".into(),
            variable: "X_KEY".into(),
        };
        assert_eq!(format!("{key:?}"), "ApiKey($X_KEY = <redacted>)");
        assert_eq!(
            key.scrub("bad key sk-test-123456 given"),
            "bad key <redacted> given"
        );
        let missing = ApiKey::from_env("NEGLECT_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("NEGLECT_TEST_SURELY_UNSET_VARIABLE is not set")
        );
    }
}
