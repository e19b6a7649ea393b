//! Who may open the `/media` WebSocket: `[media] token`, one secret or a list (several, so a
//! token can be rotated without a gap). A stream presents one as `?token=` on the WebSocket URL
//! or as the `token` entry of its `start` message's `customParameters` (a TwiML
//! `<Parameter name="token">`). Tokens are compared in constant time: the SHA-256 digests of the
//! presented and of each configured token are compared byte by byte without an early exit, so
//! neither the content nor the length of a token leaks through timing. No token set: `/media`
//! is open to anyone who can reach it (fine on a private network only).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// Shortest token accepted in the configuration.
pub const MIN_TOKEN_CHARS: usize = 16;

/// `[media]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Tokens a media stream must present (`"secret"` or `["new", "old"]`); empty: none needed.
    pub token: MediaTokens,
}

/// A `[media]` setting that cannot work, with the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaConfigError {
    #[error(
        "media.token: a token of {0} characters is too easy to guess: use at least {MIN_TOKEN_CHARS} random characters (e.g. from `openssl rand -hex 24`), or remove the key to leave /media open"
    )]
    TooShort(usize),
}

impl MediaConfig {
    /// Checks every token; the error names the key and the fix.
    pub fn validate(&self) -> Result<(), MediaConfigError> {
        match self
            .token
            .0
            .iter()
            .find(|t| t.chars().count() < MIN_TOKEN_CHARS)
        {
            Some(short) => Err(MediaConfigError::TooShort(short.chars().count())),
            None => Ok(()),
        }
    }
}

/// The configured tokens (never printed: `Debug` and serializing show only how many there are).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MediaTokens(Vec<String>);

impl MediaTokens {
    pub fn new(tokens: impl IntoIterator<Item = String>) -> Self {
        Self(tokens.into_iter().collect())
    }

    /// No token configured: `/media` needs none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `presented` is one of the tokens, in time that depends on neither.
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = Sha256::digest(presented.as_bytes());
        let mut matched = Choice::from(0);
        for token in &self.0 {
            matched |= Sha256::digest(token.as_bytes())
                .as_slice()
                .ct_eq(presented.as_slice());
        }
        bool::from(matched)
    }
}

impl std::fmt::Debug for MediaTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaTokens({} set)", self.0.len())
    }
}

impl<'de> Deserialize<'de> for MediaTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let tokens = match OneOrMany::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "media.token must be a string or a list of strings, e.g. token = \"...\" or token = [\"new\", \"old\"]",
            )
        })? {
            OneOrMany::One(token) if token.is_empty() => Vec::new(),
            OneOrMany::One(token) => vec![token],
            OneOrMany::Many(tokens) => tokens,
        };
        Ok(Self(tokens))
    }
}

impl Serialize for MediaTokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("<{} token(s)>", self.0.len()))
    }
}

/// What a message read before the stream starts says about the token.
#[derive(Debug, PartialEq, Eq)]
pub enum StartToken {
    /// Not a `start` message (`connected`, or not JSON at all).
    NotStart,
    /// The `start` message, with its `customParameters.token` if any.
    Start(Option<String>),
}

/// Reads the token out of a `start` message's `customParameters`.
pub fn start_token(text: &str) -> StartToken {
    let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
        return StartToken::NotStart;
    };
    if message["event"] != "start" {
        return StartToken::NotStart;
    }
    StartToken::Start(
        message["start"]["customParameters"]["token"]
            .as_str()
            .map(str::to_string),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RIGHT: &str = "right-token-0123456789";

    #[test]
    fn only_a_configured_token_is_accepted() {
        let tokens = MediaTokens::new([RIGHT.to_string(), "older-token-0123456789".to_string()]);
        assert!(tokens.accepts(RIGHT));
        assert!(tokens.accepts("older-token-0123456789"));
        assert!(!tokens.accepts("right-token-012345678"), "a prefix");
        assert!(!tokens.accepts("right-token-01234567890"), "longer");
        assert!(!tokens.accepts("RIGHT-TOKEN-0123456789"), "case matters");
        assert!(!tokens.accepts(""));
        assert!(
            !MediaTokens::default().accepts(""),
            "no token set: nothing matches"
        );
    }

    #[test]
    fn a_token_is_a_string_or_a_list_and_never_printed() {
        let one: MediaConfig = toml::from_str(&format!("token = \"{RIGHT}\"")).unwrap();
        assert!(one.token.accepts(RIGHT));
        let many: MediaConfig = toml::from_str(&format!(
            "token = [\"{RIGHT}\", \"second-token-0123456789\"]"
        ))
        .unwrap();
        assert!(many.token.accepts("second-token-0123456789"));
        assert!(!format!("{many:?}").contains(RIGHT));
        let empty: MediaConfig = toml::from_str("token = \"\"").unwrap();
        assert!(empty.token.is_empty());
        let bad = toml::from_str::<MediaConfig>("token = 5").unwrap_err();
        assert!(bad.to_string().contains("media.token"), "{bad}");
    }

    #[test]
    fn short_tokens_are_refused_with_the_fix() {
        let config = MediaConfig {
            token: MediaTokens::new(["abc".to_string()]),
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(
            error.contains("media.token") && error.contains("openssl rand"),
            "{error}"
        );
        assert_eq!(MediaConfig::default().validate(), Ok(()));
    }

    #[test]
    fn the_token_is_read_from_the_start_message_only() {
        assert_eq!(
            start_token(r#"{"event":"connected","protocol":"Call"}"#),
            StartToken::NotStart
        );
        assert_eq!(start_token("not json"), StartToken::NotStart);
        assert_eq!(
            start_token(
                r#"{"event":"start","start":{"streamSid":"MZ1","customParameters":{"token":"abc","lang":"en"}}}"#
            ),
            StartToken::Start(Some("abc".into()))
        );
        assert_eq!(
            start_token(r#"{"event":"start","start":{"streamSid":"MZ1"}}"#),
            StartToken::Start(None)
        );
    }
}
