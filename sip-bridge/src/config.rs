//! What the bridge needs to know before it can take calls: where to listen, which trunk may
//! call, which ports RTP may use. Validated once, before anything binds.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::call_gate::{BusyAnswer, CallGate};
use crate::digest_guard::InboundAuth;
use crate::error::ConfigError;
use crate::scanner_filter::KNOWN_SCANNERS;
use crate::source_rate_limit::RequestRate;

/// Outbound registration to a trunk or PBX (so it routes calls for an account to us).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkRegistration {
    /// Registrar URI, e.g. `sip:pbx.example.com:5060`.
    pub registrar: String,
    /// Account (AOR user part), e.g. `hotline`.
    pub username: String,
    pub password: String,
    /// Digest user when it differs from the account (PBX "authentication ID").
    pub auth_username: Option<String>,
    pub realm: Option<String>,
    /// Expiry asked for, in seconds; refreshed at 75 % of what the registrar grants.
    pub expires: u32,
}

/// Configuration of a [`crate::SipBridge`].
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// UDP SIP listen address (`0.0.0.0:5060` by default; port 0 picks a free one).
    pub udp_listen: Option<SocketAddr>,
    /// TCP SIP listen address.
    pub tcp_listen: Option<SocketAddr>,
    /// Address written into Contact and SDP `c=`; defaults to the listen address, or the
    /// first non-loopback interface when listening on 0.0.0.0.
    pub advertised_ip: Option<IpAddr>,
    /// IP the RTP sockets bind to.
    pub rtp_bind_ip: IpAddr,
    /// Inclusive RTP port range; each call takes an even port and the odd one above (RTCP).
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Source IPs allowed to send out-of-dialog requests (the trunk / PBX). Others get 403,
    /// or a 401 digest challenge when `inbound_auth` is set.
    pub trunk_allowlist: Vec<IpAddr>,
    /// Digest authentication for callers outside the allowlist.
    pub inbound_auth: Option<InboundAuth>,
    /// Register to a trunk/PBX at start and keep the registration fresh.
    pub registration: Option<TrunkRegistration>,
    /// Where outbound INVITEs (the agent leg of a bridged transfer) go when the target URI
    /// is a `tel:` number or should not be resolved directly (the trunk / PBX).
    pub outbound_proxy: Option<SocketAddr>,
    /// End a call with BYE when no RTP arrives for this long (dead call); `None` disables.
    pub rtp_timeout: Option<Duration>,
    /// Caller frames queued for the engine before the oldest are dropped.
    pub inbound_event_capacity: usize,
    /// Jitter buffer: packets held, and longest wait, before a gap is concealed.
    pub jitter_max_held: usize,
    pub jitter_max_wait: Duration,
    /// User-Agent / Server header value.
    pub user_agent: String,
    /// Whether the engine takes new calls now: while it does not, OPTIONS and new INVITEs are
    /// answered 503 with `Retry-After: busy_retry_after`. Always open by default.
    pub call_gate: CallGate,
    /// Seconds in the `Retry-After` of those 503s.
    pub busy_retry_after: Duration,
    /// What a new INVITE gets while the gate says every line is busy.
    pub busy_answer: BusyAnswer,
    /// User-Agent fragments (case-insensitive) whose requests are dropped unanswered: SIP
    /// scanners. Default: [`KNOWN_SCANNERS`].
    pub blocked_user_agents: Vec<String>,
    /// Out-of-dialog INVITE and REGISTER allowed per source address; over it, 503 with
    /// `Retry-After`. `None`: no limit (the default of the bridge alone).
    pub request_rate: Option<RequestRate>,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            udp_listen: Some(SocketAddr::from(([0, 0, 0, 0], 5060))),
            tcp_listen: Some(SocketAddr::from(([0, 0, 0, 0], 5060))),
            advertised_ip: None,
            rtp_bind_ip: IpAddr::from([0, 0, 0, 0]),
            rtp_port_min: 10000,
            rtp_port_max: 20000,
            trunk_allowlist: Vec::new(),
            inbound_auth: None,
            registration: None,
            outbound_proxy: None,
            rtp_timeout: Some(Duration::from_secs(60)),
            inbound_event_capacity: 500,
            jitter_max_held: 3,
            jitter_max_wait: Duration::from_millis(60),
            user_agent: concat!("hotline-sip-bridge/", env!("CARGO_PKG_VERSION")).to_string(),
            call_gate: CallGate::always_open(),
            busy_retry_after: Duration::from_secs(5),
            busy_answer: BusyAnswer::Reject,
            blocked_user_agents: KNOWN_SCANNERS.iter().map(|s| s.to_string()).collect(),
            request_rate: None,
        }
    }
}

impl BridgeConfig {
    /// Checks the configuration can work at all.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.udp_listen.is_none() && self.tcp_listen.is_none() {
            return Err(ConfigError::NoListener);
        }
        if self.rtp_port_min >= self.rtp_port_max {
            return Err(ConfigError::EmptyRtpPortRange {
                min: self.rtp_port_min,
                max: self.rtp_port_max,
            });
        }
        if let Some(auth) = &self.inbound_auth
            && (auth.users.is_empty() || auth.realm.is_empty())
        {
            return Err(ConfigError::EmptyInboundAuth);
        }
        if self.trunk_allowlist.is_empty() && self.inbound_auth.is_none() {
            return Err(ConfigError::EmptyAllowlist);
        }
        if let Some(rate) = self.request_rate
            && (!rate.per_second.is_finite() || rate.per_second <= 0.0 || rate.burst == 0)
        {
            return Err(ConfigError::BadRequestRate {
                per_second: rate.per_second.to_string(),
                burst: rate.burst,
            });
        }
        if let Some(registration) = &self.registration {
            let scheme = registration.registrar.split(':').next().unwrap_or("");
            if !matches!(scheme, "sip" | "sips") || registration.username.is_empty() {
                return Err(ConfigError::BadRegistration(registration.registrar.clone()));
            }
        }
        Ok(())
    }

    /// Whether a request from `source` may start a call or query us.
    pub fn is_trunk(&self, source: IpAddr) -> bool {
        let source = match source {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(source),
            v4 => v4,
        };
        self.trunk_allowlist.contains(&source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_needs_an_allowlist_and_then_validates() {
        let mut config = BridgeConfig::default();
        assert_eq!(config.validate(), Err(ConfigError::EmptyAllowlist));
        config.trunk_allowlist.push("192.0.2.1".parse().unwrap());
        assert_eq!(config.validate(), Ok(()));
        config.rtp_port_max = config.rtp_port_min;
        assert!(matches!(
            config.validate(),
            Err(ConfigError::EmptyRtpPortRange { .. })
        ));
        config.rtp_port_max = 20000;
        config.trunk_allowlist.clear();
        config.inbound_auth = Some(InboundAuth {
            realm: "hotline".into(),
            users: vec![],
        });
        assert_eq!(config.validate(), Err(ConfigError::EmptyInboundAuth));
        config.inbound_auth = Some(InboundAuth {
            realm: "hotline".into(),
            users: vec![crate::digest_guard::SipUser {
                username: "pbx".into(),
                password: "pw".into(),
            }],
        });
        assert_eq!(
            config.validate(),
            Ok(()),
            "digest auth replaces the allowlist"
        );
        config.registration = Some(TrunkRegistration {
            registrar: "pbx.example.com".into(),
            username: "hotline".into(),
            password: "pw".into(),
            auth_username: None,
            realm: None,
            expires: 300,
        });
        assert!(matches!(
            config.validate(),
            Err(ConfigError::BadRegistration(_))
        ));
        config.registration = None;
        config.udp_listen = None;
        config.tcp_listen = None;
        assert_eq!(config.validate(), Err(ConfigError::NoListener));
    }

    #[test]
    fn allowlist_matches_v4_and_v4_mapped_v6() {
        let config = BridgeConfig {
            trunk_allowlist: vec!["192.0.2.1".parse().unwrap()],
            ..BridgeConfig::default()
        };
        assert!(config.is_trunk("192.0.2.1".parse().unwrap()));
        assert!(config.is_trunk("::ffff:192.0.2.1".parse().unwrap()));
        assert!(!config.is_trunk("192.0.2.2".parse().unwrap()));
    }
}
