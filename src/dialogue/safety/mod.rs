//! The safety layer wrapped around any engine: personal data (IDs, card and phone numbers ...)
//! is found and redacted before a request leaves the process or is stored, and every reply
//! sentence is checked against a blacklist before it is spoken.

pub(super) mod blacklist;
pub(super) mod filter;
pub(super) mod pii_checks;
pub(super) mod pii_normalised_text;
pub(super) mod pii_redaction;
pub(super) mod pii_scanner;

#[cfg(test)]
mod pii_tests;
