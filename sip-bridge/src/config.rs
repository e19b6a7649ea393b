//! What the bridge needs to know before it can take calls: where to listen, which trunk may
//! call, which ports RTP may use. Validated once, before anything binds.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::error::ConfigError;

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
    /// Source IPs allowed to send out-of-dialog requests (the trunk / PBX). Others get 403.
    pub trunk_allowlist: Vec<IpAddr>,
    /// Caller frames queued for the engine before the oldest are dropped.
    pub inbound_event_capacity: usize,
    /// Jitter buffer: packets held, and longest wait, before a gap is concealed.
    pub jitter_max_held: usize,
    pub jitter_max_wait: Duration,
    /// User-Agent / Server header value.
    pub user_agent: String,
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
            inbound_event_capacity: 500,
            jitter_max_held: 3,
            jitter_max_wait: Duration::from_millis(60),
            user_agent: concat!("hotline-sip-bridge/", env!("CARGO_PKG_VERSION")).to_string(),
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
        if self.trunk_allowlist.is_empty() {
            return Err(ConfigError::EmptyAllowlist);
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
