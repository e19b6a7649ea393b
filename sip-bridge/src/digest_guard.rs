//! Digest authentication of inbound INVITEs (RFC 3261 §22, MD5): an alternative to the source
//! allowlist for trunks and PBXs whose address is not fixed.
//!
//! A request without valid credentials gets `401 Unauthorized` with a fresh nonce; the peer
//! repeats it with an `Authorization` header, which is checked against the configured users.
//! Nonces are remembered for five minutes and only those we issued are accepted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rsipstack::dialog::authenticate::verify_digest;
use rsipstack::sip::typed::Authorization;
use rsipstack::sip::{Header, Method, Request};

/// A user allowed to call in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUser {
    pub username: String,
    pub password: String,
}

/// Inbound digest authentication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAuth {
    /// Realm shown in the challenge (e.g. `hotline`).
    pub realm: String,
    pub users: Vec<SipUser>,
}

/// How a request's credentials checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestVerdict {
    /// Valid credentials of this user.
    Authenticated(String),
    /// No Authorization header: challenge.
    Missing,
    /// Unknown user, unknown/expired nonce, wrong realm or wrong response: challenge again.
    Invalid(&'static str),
}

const NONCE_LIFETIME: Duration = Duration::from_secs(300);
const MAX_NONCES: usize = 10_000;

pub(crate) struct DigestGuard {
    settings: InboundAuth,
    nonces: Mutex<HashMap<String, Instant>>,
}

impl DigestGuard {
    pub fn new(settings: InboundAuth) -> DigestGuard {
        DigestGuard {
            settings,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.nonces.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A `WWW-Authenticate` header with a new nonce.
    pub fn challenge(&self) -> Header {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let now = Instant::now();
        {
            let mut nonces = self.nonces();
            nonces.retain(|_, issued| now.duration_since(*issued) < NONCE_LIFETIME);
            if nonces.len() < MAX_NONCES {
                nonces.insert(nonce.clone(), now);
            }
        }
        Header::WwwAuthenticate(
            format!(
                "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm=MD5",
                self.settings.realm
            )
            .into(),
        )
    }

    /// Checks the request's `Authorization` header.
    pub fn verify(&self, request: &Request) -> DigestVerdict {
        let Some(raw) = request.headers.iter().find_map(|h| match h {
            Header::Authorization(a) => Some(a.value().to_string()),
            _ => None,
        }) else {
            return DigestVerdict::Missing;
        };
        self.verify_header(&request.method, &raw)
    }

    fn verify_header(&self, method: &Method, raw: &str) -> DigestVerdict {
        let Ok(auth) = Authorization::parse(raw) else {
            return DigestVerdict::Invalid("malformed Authorization header");
        };
        if auth.realm != self.settings.realm {
            return DigestVerdict::Invalid("wrong realm");
        }
        let fresh = self
            .nonces()
            .get(&auth.nonce)
            .is_some_and(|issued| issued.elapsed() < NONCE_LIFETIME);
        if !fresh {
            return DigestVerdict::Invalid("nonce not issued by us or expired");
        }
        let Some(user) = self
            .settings
            .users
            .iter()
            .find(|u| u.username == auth.username)
        else {
            return DigestVerdict::Invalid("unknown user");
        };
        if verify_digest(&auth, &user.password, method, raw) {
            DigestVerdict::Authenticated(user.username.clone())
        } else {
            DigestVerdict::Invalid("wrong password (digest response mismatch)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsipstack::dialog::authenticate::compute_digest;
    use rsipstack::sip::headers::auth::Algorithm;

    fn guard() -> DigestGuard {
        DigestGuard::new(InboundAuth {
            realm: "hotline".into(),
            users: vec![SipUser {
                username: "pbx".into(),
                password: "s3cret".into(),
            }],
        })
    }

    fn nonce_of(header: &Header) -> String {
        let text = header.to_string();
        let start = text.find("nonce=\"").unwrap() + 7;
        text[start..].split('"').next().unwrap().to_string()
    }

    fn authorization(user: &str, password: &str, nonce: &str) -> String {
        let uri = "sip:hotline@127.0.0.1:5060";
        let response = compute_digest(
            user,
            password,
            "hotline",
            nonce,
            &Method::Invite,
            uri,
            Algorithm::Md5,
            None,
        );
        format!(
            "Digest username=\"{user}\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5"
        )
    }

    #[test]
    fn accepts_the_right_password_on_our_nonce_only() {
        let guard = guard();
        let nonce = nonce_of(&guard.challenge());
        assert_eq!(
            guard.verify_header(&Method::Invite, &authorization("pbx", "s3cret", &nonce)),
            DigestVerdict::Authenticated("pbx".into())
        );
        assert!(matches!(
            guard.verify_header(&Method::Invite, &authorization("pbx", "wrong", &nonce)),
            DigestVerdict::Invalid(_)
        ));
        assert!(matches!(
            guard.verify_header(&Method::Invite, &authorization("eve", "s3cret", &nonce)),
            DigestVerdict::Invalid("unknown user")
        ));
        assert!(matches!(
            guard.verify_header(&Method::Invite, &authorization("pbx", "s3cret", "0badc0de")),
            DigestVerdict::Invalid(_)
        ));
        assert!(matches!(
            guard.verify_header(&Method::Invite, "Digest garbage"),
            DigestVerdict::Invalid(_)
        ));
    }
}
