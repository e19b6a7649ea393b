//! The `[sip]` section of `hotline.toml`: where the SIP channel listens, who may call, how we
//! register at the trunk, and where and how callers are transferred. Off unless
//! `[sip] enabled = true`, so `hotline serve` without SIP settings runs as before.
//!
//! ```toml
//! [sip]
//! enabled = true
//! udp_listen = "0.0.0.0:5060"
//! public_address = "203.0.113.7"          # written into SDP c= and Contact
//! trunk_allowlist = ["192.0.2.10"]
//! [sip.transfer]
//! target = "tel:+85221234567"             # default human target
//! mode = "blind_then_bridged"             # blind | bridged | blind_then_bridged
//! intent_targets = { billing = "sip:billing@pbx.example" }
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[sip]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    pub enabled: bool,
    /// UDP listen address; empty: no UDP.
    pub udp_listen: String,
    /// TCP listen address; empty: no TCP.
    pub tcp_listen: String,
    /// Public IP for SDP `c=` and Contact (behind NAT); empty: the listen/interface address.
    pub public_address: String,
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Source IPs of the trunk/PBX allowed to call without authentication.
    pub trunk_allowlist: Vec<String>,
    /// Digest users for callers outside the allowlist (`[sip.inbound_auth]`).
    pub inbound_auth: Option<SipInboundAuthConfig>,
    /// Register at a trunk/PBX (`[sip.register]`).
    pub register: Option<SipRegisterConfig>,
    /// Where outbound INVITEs (bridged transfers, `tel:` targets) are sent, `host:port`.
    pub outbound_proxy: String,
    /// End a call with BYE after this many seconds without RTP; 0: never.
    pub rtp_timeout_s: u32,
    /// Nice value (-20..0) of the bridge's thread, which paces every call's RTP: below 0 it
    /// runs ahead of everything else on the box. Needs CAP_SYS_NICE (or root); without it the
    /// thread keeps the normal priority and says so once.
    pub pacing_nice: i32,
    /// Out-of-dialog INVITE and REGISTER allowed per source address and second, on average;
    /// over it they are answered 503 with `Retry-After`. 0: no limit. A trunk sends every
    /// call from one address: keep this above its busiest call rate.
    pub rate_limit_per_s: f64,
    /// How many of those one source may send at once before the average applies.
    pub rate_limit_burst: u32,
    /// User-Agent fragments (case-insensitive) whose requests are dropped unanswered: SIP
    /// scanners. Default: friendly-scanner, sipvicious, sipcli, VaxSIPUserAgent, pplsip,
    /// sundayddr, iWar, sip-scan.
    pub blocked_user_agents: Vec<String>,
    /// What a new call gets while every line (`[server] max_calls`) is busy: `reject` (503
    /// with `Retry-After`, the default: the trunk tries elsewhere or plays its busy tone) or
    /// `announce` (answered, told in the default language that all lines are busy, hung up).
    pub when_full: SipWhenFull,
    pub transfer: SipTransferConfig,
}

/// `[sip] when_full`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SipWhenFull {
    #[default]
    Reject,
    Announce,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            udp_listen: "0.0.0.0:5060".into(),
            tcp_listen: "0.0.0.0:5060".into(),
            public_address: String::new(),
            rtp_port_min: 10000,
            rtp_port_max: 20000,
            trunk_allowlist: Vec::new(),
            inbound_auth: None,
            register: None,
            outbound_proxy: String::new(),
            rtp_timeout_s: 60,
            pacing_nice: -10,
            rate_limit_per_s: 2.0,
            rate_limit_burst: 20,
            blocked_user_agents: sip_bridge::KNOWN_SCANNERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            when_full: SipWhenFull::Reject,
            transfer: SipTransferConfig::default(),
        }
    }
}

/// `[sip.inbound_auth]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SipInboundAuthConfig {
    pub realm: String,
    pub users: Vec<SipUserConfig>,
}

/// One `[[sip.inbound_auth.users]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SipUserConfig {
    pub username: String,
    pub password: String,
}

/// `[sip.register]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SipRegisterConfig {
    /// e.g. `sip:pbx.example.com:5060`.
    pub registrar: String,
    pub username: String,
    pub password: String,
    /// Digest user when the PBX gives a separate authentication ID.
    pub auth_username: String,
    pub realm: String,
    pub expires_s: u32,
}

impl Default for SipRegisterConfig {
    fn default() -> Self {
        Self {
            registrar: String::new(),
            username: String::new(),
            password: String::new(),
            auth_username: String::new(),
            realm: String::new(),
            expires_s: 300,
        }
    }
}

/// How SIP callers are handed to a human.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SipTransferMode {
    Blind,
    Bridged,
    #[default]
    BlindThenBridged,
}

/// `[sip.transfer]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SipTransferConfig {
    /// Default target (`sip:` or `tel:`); empty: use the engine's `[transfer] target`.
    pub target: String,
    /// Targets per intent/queue name; a transfer whose target is such a name goes there.
    pub intent_targets: BTreeMap<String, String>,
    pub mode: SipTransferMode,
    /// How long the agent may ring (bridged) or the trunk may take (blind).
    pub ring_timeout_s: u32,
    /// Speak the conversation summary to the agent before connecting the caller (bridged).
    pub brief_agent: bool,
}

impl Default for SipTransferConfig {
    fn default() -> Self {
        Self {
            target: String::new(),
            intent_targets: BTreeMap::new(),
            mode: SipTransferMode::default(),
            ring_timeout_s: 30,
            brief_agent: true,
        }
    }
}

/// Why the `[sip]` section cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SipConfigError {
    #[error("[sip] {key} = {value:?} is not an address; write it as IP:PORT (e.g. 0.0.0.0:5060)")]
    BadSocketAddr { key: &'static str, value: String },
    #[error("[sip] {key} = {value:?} is not an IP address; write e.g. 192.0.2.10")]
    BadIp { key: &'static str, value: String },
    #[error(
        "[sip] rate_limit_per_s = {per_second} / rate_limit_burst = {burst}: give a rate above 0 (0 turns the limit off) and a burst of at least 1"
    )]
    BadRateLimit { per_second: f64, burst: u32 },
    #[error("[sip] {0}")]
    Bridge(#[from] sip_bridge::ConfigError),
}

fn socket_addr(key: &'static str, value: &str) -> Result<Option<SocketAddr>, SipConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| SipConfigError::BadSocketAddr {
            key,
            value: value.to_string(),
        })
}

fn ip(key: &'static str, value: &str) -> Result<IpAddr, SipConfigError> {
    value.trim().parse().map_err(|_| SipConfigError::BadIp {
        key,
        value: value.to_string(),
    })
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

impl SipConfig {
    /// The bridge configuration these settings describe (validated).
    pub fn bridge_config(&self) -> Result<sip_bridge::BridgeConfig, SipConfigError> {
        self.check_rate_limit()?;
        let per_second = self.rate_limit_per_s;
        let config = sip_bridge::BridgeConfig {
            udp_listen: socket_addr("udp_listen", &self.udp_listen)?,
            tcp_listen: socket_addr("tcp_listen", &self.tcp_listen)?,
            advertised_ip: match non_empty(&self.public_address) {
                Some(address) => Some(ip("public_address", &address)?),
                None => None,
            },
            rtp_port_min: self.rtp_port_min,
            rtp_port_max: self.rtp_port_max,
            trunk_allowlist: self
                .trunk_allowlist
                .iter()
                .map(|a| ip("trunk_allowlist", a))
                .collect::<Result<_, _>>()?,
            inbound_auth: self
                .inbound_auth
                .as_ref()
                .map(|auth| sip_bridge::InboundAuth {
                    realm: auth.realm.clone(),
                    users: auth
                        .users
                        .iter()
                        .map(|u| sip_bridge::SipUser {
                            username: u.username.clone(),
                            password: u.password.clone(),
                        })
                        .collect(),
                }),
            registration: self
                .register
                .as_ref()
                .map(|r| sip_bridge::TrunkRegistration {
                    registrar: r.registrar.clone(),
                    username: r.username.clone(),
                    password: r.password.clone(),
                    auth_username: non_empty(&r.auth_username),
                    realm: non_empty(&r.realm),
                    expires: r.expires_s,
                }),
            outbound_proxy: socket_addr("outbound_proxy", &self.outbound_proxy)?,
            rtp_timeout: (self.rtp_timeout_s > 0)
                .then(|| Duration::from_secs(u64::from(self.rtp_timeout_s))),
            request_rate: (per_second > 0.0).then_some(sip_bridge::RequestRate {
                per_second,
                burst: self.rate_limit_burst,
            }),
            blocked_user_agents: self.blocked_user_agents.clone(),
            busy_retry_after: Duration::from_secs(crate::lifecycle::RETRY_AFTER_SECS),
            busy_answer: match self.when_full {
                SipWhenFull::Reject => sip_bridge::BusyAnswer::Reject,
                SipWhenFull::Announce => sip_bridge::BusyAnswer::Announce,
            },
            ..sip_bridge::BridgeConfig::default()
        };
        config.validate()?;
        Ok(config)
    }

    /// `rate_limit_per_s` and `rate_limit_burst` can work (checked at load, even with SIP off).
    pub fn check_rate_limit(&self) -> Result<(), SipConfigError> {
        let per_second = self.rate_limit_per_s;
        if !per_second.is_finite()
            || per_second < 0.0
            || (per_second > 0.0 && self.rate_limit_burst == 0)
        {
            return Err(SipConfigError::BadRateLimit {
                per_second,
                burst: self.rate_limit_burst,
            });
        }
        Ok(())
    }

    /// The transfer target for what the conversation asked: a `sip:`/`tel:` URI as is, an
    /// intent name through `intent_targets`, else the default target (`fallback` when ours is
    /// empty). `None` when nothing is configured.
    pub fn resolve_target(&self, asked: &str, fallback: &str) -> Option<String> {
        let asked = asked.trim();
        let scheme = asked.split(':').next().unwrap_or("").to_ascii_lowercase();
        if asked.contains(':') && matches!(scheme.as_str(), "sip" | "sips" | "tel") {
            return Some(asked.to_string());
        }
        self.transfer
            .intent_targets
            .get(asked)
            .and_then(|t| non_empty(t))
            .or_else(|| non_empty(&self.transfer.target))
            .or_else(|| non_empty(fallback))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_by_default_and_toml_round_trips() {
        let config = SipConfig::default();
        assert!(!config.enabled);
        let text = r#"
            enabled = true
            udp_listen = "127.0.0.1:5080"
            tcp_listen = ""
            public_address = "203.0.113.7"
            trunk_allowlist = ["192.0.2.10"]
            rtp_timeout_s = 0
            [register]
            registrar = "sip:pbx.example.com"
            username = "hotline"
            password = "pw"
            [transfer]
            target = "tel:+85221234567"
            mode = "bridged"
            intent_targets = { billing = "sip:billing@pbx.example" }
        "#;
        let parsed: SipConfig = toml::from_str(text).expect("valid [sip]");
        let bridge = parsed.bridge_config().expect("usable");
        assert_eq!(bridge.udp_listen, Some("127.0.0.1:5080".parse().unwrap()));
        assert_eq!(bridge.tcp_listen, None);
        assert_eq!(bridge.advertised_ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(bridge.rtp_timeout, None);
        assert_eq!(bridge.registration.unwrap().expires, 300);
        assert_eq!(parsed.transfer.mode, SipTransferMode::Bridged);
    }

    #[test]
    fn bad_values_name_the_key() {
        let config = SipConfig {
            trunk_allowlist: vec!["pbx.example".into()],
            ..SipConfig::default()
        };
        let error = config.bridge_config().unwrap_err();
        assert!(error.to_string().contains("trunk_allowlist"), "{error}");
        let config = SipConfig {
            udp_listen: "5060".into(),
            trunk_allowlist: vec!["192.0.2.1".into()],
            ..SipConfig::default()
        };
        assert!(matches!(
            config.bridge_config(),
            Err(SipConfigError::BadSocketAddr {
                key: "udp_listen",
                ..
            })
        ));
        let config = SipConfig {
            rate_limit_burst: 0,
            trunk_allowlist: vec!["192.0.2.1".into()],
            ..SipConfig::default()
        };
        let error = config.bridge_config().unwrap_err().to_string();
        assert!(error.contains("rate_limit_burst"), "{error}");
        let config = SipConfig {
            rate_limit_per_s: 0.0,
            rate_limit_burst: 0,
            trunk_allowlist: vec!["192.0.2.1".into()],
            ..SipConfig::default()
        };
        assert_eq!(
            config.bridge_config().unwrap().request_rate,
            None,
            "0 turns it off"
        );
        let defaults = SipConfig {
            trunk_allowlist: vec!["192.0.2.1".into()],
            ..SipConfig::default()
        }
        .bridge_config()
        .unwrap();
        assert_eq!(
            defaults.request_rate,
            Some(sip_bridge::RequestRate {
                per_second: 2.0,
                burst: 20
            })
        );
        assert!(
            defaults
                .blocked_user_agents
                .iter()
                .any(|a| a == "friendly-scanner")
        );
        // Nobody may call: the bridge's own check speaks.
        assert!(matches!(
            SipConfig::default().bridge_config(),
            Err(SipConfigError::Bridge(
                sip_bridge::ConfigError::EmptyAllowlist
            ))
        ));
    }

    #[test]
    fn targets_resolve_by_uri_intent_default_then_engine_fallback() {
        let mut config = SipConfig::default();
        config
            .transfer
            .intent_targets
            .insert("billing".into(), "sip:billing@pbx".into());
        assert_eq!(
            config.resolve_target("tel:+852123", "sip:x@y").as_deref(),
            Some("tel:+852123")
        );
        assert_eq!(
            config.resolve_target("billing", "sip:x@y").as_deref(),
            Some("sip:billing@pbx")
        );
        assert_eq!(
            config.resolve_target("", "sip:x@y").as_deref(),
            Some("sip:x@y")
        );
        config.transfer.target = "sip:desk@pbx".into();
        assert_eq!(
            config.resolve_target("unknown", "sip:x@y").as_deref(),
            Some("sip:desk@pbx")
        );
        assert_eq!(SipConfig::default().resolve_target("", " "), None);
    }
}
