//! A secret read from the environment (API key, Authorization header) that never shows up in
//! logs or debug output, and the one place such secrets are looked up.

use std::fmt;

use crate::dialogue::engine_load_error::EngineLoadError;

/// A secret string; `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one header it goes into.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Looks up environment variables; tests pass a map instead of the process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment as an [`EnvLookup`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The secret in variable `var` (named by the setting `setting`); `None` when `var` is empty
/// (no secret wanted), an error when it is named but unset or empty.
pub fn read_secret(
    var: &str,
    setting: &str,
    env: EnvLookup<'_>,
) -> Result<Option<SecretValue>, EngineLoadError> {
    let var = var.trim();
    if var.is_empty() {
        return Ok(None);
    }
    match env(var) {
        Some(value) if !value.trim().is_empty() => Ok(Some(SecretValue::new(value.trim()))),
        _ => Err(EngineLoadError::MissingSecret {
            var: var.to_string(),
            setting: setting.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_missing_ones_name_the_variable_and_setting() {
        let env = |name: &str| (name == "KEY").then(|| "sk-very-secret".to_string());
        let secret = read_secret("KEY", "dialogue.llm.api_key_env", &env)
            .ok()
            .flatten();
        assert_eq!(
            secret.as_ref().map(SecretValue::expose),
            Some("sk-very-secret")
        );
        assert!(
            !format!(
                "{secret:?} {}",
                secret.clone().unwrap_or(SecretValue::new(""))
            )
            .contains("sk-")
        );
        assert_eq!(read_secret("", "x", &env).ok(), Some(None));
        let err = read_secret("NOPE", "dialogue.llm.api_key_env", &env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("NOPE") && err.contains("dialogue.llm.api_key_env"),
            "{err}"
        );
    }
}
