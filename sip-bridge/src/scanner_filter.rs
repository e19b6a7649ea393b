//! SIP scanners (SIPVicious and its kin) sweep the internet for open PBXs with OPTIONS,
//! REGISTER and INVITE, and announce themselves in `User-Agent`. Their requests are dropped
//! without an answer: an answer only tells them a SIP server lives here.

/// User-Agent fragments of well-known scanners (matched case-insensitively anywhere in the
/// header): the default of `BridgeConfig::blocked_user_agents`.
pub const KNOWN_SCANNERS: [&str; 8] = [
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "VaxSIPUserAgent",
    "pplsip",
    "sundayddr",
    "iWar",
    "sip-scan",
];

/// The User-Agent fragments whose requests are dropped.
#[derive(Debug, Clone, Default)]
pub struct ScannerFilter {
    fragments: Vec<String>,
}

impl ScannerFilter {
    pub fn new(fragments: &[String]) -> Self {
        Self {
            fragments: fragments
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .filter(|f| !f.is_empty())
                .collect(),
        }
    }

    /// The fragment `user_agent` contains, if it is a scanner's.
    pub fn scanner_in(&self, user_agent: &str) -> Option<&str> {
        let user_agent = user_agent.to_ascii_lowercase();
        self.fragments
            .iter()
            .find(|fragment| user_agent.contains(fragment.as_str()))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> ScannerFilter {
        let fragments: Vec<String> = KNOWN_SCANNERS.iter().map(|s| s.to_string()).collect();
        ScannerFilter::new(&fragments)
    }

    #[test]
    fn known_scanners_are_recognised_in_any_case() {
        let filter = known();
        assert_eq!(
            filter.scanner_in("friendly-scanner"),
            Some("friendly-scanner")
        );
        assert_eq!(filter.scanner_in("SIPVicious 0.3.4"), Some("sipvicious"));
        assert_eq!(
            filter.scanner_in("vaxsipuseragent/3.1"),
            Some("vaxsipuseragent")
        );
        assert_eq!(filter.scanner_in("iWar"), Some("iwar"));
    }

    #[test]
    fn phones_and_pbxs_pass() {
        let filter = known();
        for agent in [
            "Asterisk PBX 20.5.0",
            "FreeSWITCH-mod_sofia/1.10",
            "baresip v3.10",
            "Zoiper rv2.10",
            "",
        ] {
            assert_eq!(filter.scanner_in(agent), None, "{agent}");
        }
        assert_eq!(
            ScannerFilter::new(&[" ".into()]).scanner_in("anything"),
            None
        );
    }
}
