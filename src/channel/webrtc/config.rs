//! `[webrtc]`: how browsers reach the engine (the voice widget). Its own section, so the
//! channel depends on nothing else of the configuration.

use serde::{Deserialize, Serialize};

/// A STUN or TURN server handed to the browser (and used by the engine's own ICE agent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IceServerConfig {
    /// `stun:host:port`, `turn:host:port?transport=udp`, `turns:host:443?transport=tcp`.
    pub urls: Vec<String>,
    /// TURN user name (empty for STUN).
    pub username: String,
    /// TURN password (empty for STUN).
    pub credential: String,
}

/// The browser channel's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebRtcConfig {
    /// Accept browser calls at `POST /webrtc/calls`.
    pub enabled: bool,
    /// The local address media is bound to (one interface). Empty: the address the machine
    /// uses to reach other hosts (found at start), or 127.0.0.1 when it has none.
    pub bind_address: String,
    /// The public IP address to announce instead of `bind_address` when the engine sits behind
    /// a 1:1 NAT (a cloud VM's elastic IP). Empty: announce `bind_address`.
    pub public_address: String,
    /// UDP (and ICE-TCP) ports for browser media, `first-last`: one port per call, so the
    /// range is also a ceiling on browser calls. Open this range in the firewall.
    pub ports: String,
    /// Also offer ICE over TCP on the call's port (browsers behind UDP-blocking firewalls).
    pub ice_tcp: bool,
    /// Browser calls at once; beyond it a new call gets 503 with `Retry-After`.
    pub max_calls: usize,
    /// Origins (`https://shop.example.com`) whose pages may start calls. Empty: only pages
    /// served by hotline itself (and requests without an Origin header, such as curl).
    /// `*` allows any origin.
    pub allowed_origins: Vec<String>,
    /// STUN/TURN servers handed to the page (`GET /webrtc/config`).
    pub ice_servers: Vec<IceServerConfig>,
    /// Longest offer accepted, in bytes (browser offers are 3-8 KB).
    pub max_offer_bytes: usize,
    /// Seconds a call may take to connect after the answer before it is given up.
    pub connect_timeout_secs: u64,
}

impl Default for WebRtcConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bind_address: String::new(),
            public_address: String::new(),
            ports: "50000-50199".to_string(),
            ice_tcp: false,
            max_calls: 40,
            allowed_origins: Vec::new(),
            ice_servers: Vec::new(),
            max_offer_bytes: 64 * 1024,
            connect_timeout_secs: 20,
        }
    }
}

/// A `[webrtc]` setting that cannot work, with the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebRtcConfigError {
    #[error(
        "webrtc.ports = {0:?} is not a port range: write it as first-last, e.g. \"50000-50199\""
    )]
    Ports(String),
    #[error("webrtc.bind_address = {0:?} is not an IP address (e.g. 10.0.0.5 or 127.0.0.1)")]
    BindAddress(String),
    #[error("webrtc.public_address = {0:?} is not an IP address (e.g. 203.0.113.7)")]
    PublicAddress(String),
    #[error("webrtc.max_calls must be at least 1 (or set webrtc.enabled = false)")]
    NoCalls,
    #[error(
        "webrtc.ice_servers: {0:?} is not a STUN/TURN URL: use stun:host:port, turn:host:port or turns:host:port"
    )]
    IceServer(String),
    #[error(
        "webrtc.allowed_origins: {0:?} is not an origin: use scheme://host[:port] (no path), or \"*\""
    )]
    Origin(String),
}

impl WebRtcConfig {
    /// The port range, first and last included.
    pub fn port_range(&self) -> Result<(u16, u16), WebRtcConfigError> {
        let bad = || WebRtcConfigError::Ports(self.ports.clone());
        let (first, last) = self.ports.split_once('-').ok_or_else(bad)?;
        let first: u16 = first.trim().parse().map_err(|_| bad())?;
        let last: u16 = last.trim().parse().map_err(|_| bad())?;
        if first == 0 || last < first {
            return Err(bad());
        }
        Ok((first, last))
    }

    /// Checks every setting; the error names the key and the fix.
    pub fn validate(&self) -> Result<(), WebRtcConfigError> {
        self.port_range()?;
        for (value, error) in [
            (
                &self.bind_address,
                WebRtcConfigError::BindAddress as fn(String) -> WebRtcConfigError,
            ),
            (&self.public_address, WebRtcConfigError::PublicAddress),
        ] {
            if !value.trim().is_empty() && value.trim().parse::<std::net::IpAddr>().is_err() {
                return Err(error(value.clone()));
            }
        }
        if self.max_calls == 0 {
            return Err(WebRtcConfigError::NoCalls);
        }
        for url in self.ice_servers.iter().flat_map(|s| &s.urls) {
            let scheme_ok = ["stun:", "stuns:", "turn:", "turns:"]
                .iter()
                .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len());
            if !scheme_ok {
                return Err(WebRtcConfigError::IceServer(url.clone()));
            }
        }
        for origin in &self.allowed_origins {
            if origin != "*" && !is_origin(origin) {
                return Err(WebRtcConfigError::Origin(origin.clone()));
            }
        }
        Ok(())
    }
}

/// `scheme://host[:port]` with nothing after it.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(WebRtcConfig::default().validate(), Ok(()));
        assert_eq!(WebRtcConfig::default().port_range(), Ok((50000, 50199)));
    }

    #[test]
    fn bad_settings_name_the_key() {
        let bad_ports = WebRtcConfig {
            ports: "5000".into(),
            ..Default::default()
        };
        assert!(
            bad_ports
                .validate()
                .unwrap_err()
                .to_string()
                .contains("webrtc.ports")
        );
        let reversed = WebRtcConfig {
            ports: "6000-5000".into(),
            ..Default::default()
        };
        assert!(reversed.validate().is_err());
        let origin = WebRtcConfig {
            allowed_origins: vec!["https://shop.example.com/page".into()],
            ..Default::default()
        };
        assert!(
            origin
                .validate()
                .unwrap_err()
                .to_string()
                .contains("allowed_origins")
        );
        let ice = WebRtcConfig {
            ice_servers: vec![IceServerConfig {
                urls: vec!["stun.example.com:3478".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(
            ice.validate()
                .unwrap_err()
                .to_string()
                .contains("ice_servers")
        );
        let public = WebRtcConfig {
            public_address: "my-host".into(),
            ..Default::default()
        };
        assert!(
            public
                .validate()
                .unwrap_err()
                .to_string()
                .contains("public_address")
        );
    }
}
