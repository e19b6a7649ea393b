//! Keeps us registered at a trunk or PBX (RFC 3261 §10): REGISTER with digest auth at start,
//! refresh at 75 % of the expiry the registrar grants, back off and retry on failure.
//!
//! rsipstack's `Registration::keep_alive` runs the protocol; this file builds it from the
//! config and publishes the state so the engine (and `/healthz`) can tell whether the trunk
//! will route calls to us.

use std::time::Instant;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::sip::Uri;
use rsipstack::transaction::endpoint::EndpointInnerRef;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::TrunkRegistration;

/// Where our registration at the trunk stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationState {
    /// No registration configured.
    Disabled,
    /// The first REGISTER has not been answered yet.
    Pending,
    /// Registered; `expires` seconds granted; `refreshes` successful REGISTERs so far.
    Registered {
        expires: u32,
        refreshes: u32,
        at: Instant,
    },
    /// The last attempt failed (retrying with backoff): status code, or 0 for no answer.
    Failed { status: u16, reason: String },
}

/// Starts the registration task; the watch follows its state.
pub(crate) fn start_registration(
    endpoint: EndpointInnerRef,
    settings: TrunkRegistration,
    contact: Option<Uri>,
    stop: CancellationToken,
) -> Result<watch::Receiver<RegistrationState>, String> {
    let registrar = Uri::try_from(settings.registrar.as_str())
        .map_err(|e| format!("registrar `{}` is not a SIP URI: {e}", settings.registrar))?;
    let (state_tx, state) = watch::channel(RegistrationState::Pending);
    let credential = Credential {
        username: settings.username.clone(),
        password: settings.password.clone(),
        realm: settings.realm.clone(),
        auth_username: settings.auth_username.clone(),
    };
    let mut registration = Registration::new(endpoint, Some(credential));
    if let Some(mut uri) = contact {
        uri.auth = Some(rsipstack::sip::Auth {
            user: settings.username.clone(),
            password: None,
        });
        registration.contact = Some(rsipstack::sip::typed::Contact {
            display_name: None,
            uri,
            params: vec![],
        });
    }
    let expires = settings.expires.max(1);
    tokio::spawn(async move {
        let mut refreshes = 0u32;
        let registrar_text = registrar.to_string();
        registration
            .keep_alive(registrar, expires, stop, |outcome| {
                let next = match outcome {
                    RefreshOutcome::Registered(response) => {
                        refreshes += 1;
                        let granted = response
                            .headers
                            .iter()
                            .find_map(|h| match h {
                                rsipstack::sip::Header::Expires(e) => e.value().trim().parse().ok(),
                                _ => None,
                            })
                            .unwrap_or(expires);
                        info!(registrar = %registrar_text, granted, refreshes, "registered at the trunk");
                        RegistrationState::Registered {
                            expires: granted,
                            refreshes,
                            at: Instant::now(),
                        }
                    }
                    RefreshOutcome::Rejected(response) => {
                        let status = u16::from(response.status_code.clone());
                        warn!(registrar = %registrar_text, status,
                              "registration rejected; check the username/password and the registrar's realm");
                        RegistrationState::Failed {
                            status,
                            reason: response.status_code.to_string(),
                        }
                    }
                    RefreshOutcome::Failed(error) => {
                        warn!(registrar = %registrar_text, %error, "registrar unreachable; retrying");
                        RegistrationState::Failed {
                            status: 0,
                            reason: error.to_string(),
                        }
                    }
                };
                state_tx.send_replace(next);
            })
            .await;
    });
    Ok(state)
}
