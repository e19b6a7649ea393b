//! Where the real-browser tests' node scripts live, and why those tests cannot run here when
//! they cannot (Debian `chromium`, `node`, npm `playwright-core` in `tests/browser/node_modules`,
//! all installed by `make test`).

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Why the browser tests cannot run here, if they cannot.
pub fn missing_browser_tools() -> Option<String> {
    let chromium = std::env::var_os("HOTLINE_CHROMIUM")
        .or_else(|| std::env::var_os("CHROMIUM"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Some(format!(
            "{} is missing (Debian package `chromium`, installed by `make test` from scripts/test-packages.txt; or set HOTLINE_CHROMIUM / CHROMIUM)",
            chromium.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing (Debian package `nodejs`)".into());
    }
    let playwright = browser_dir().join("node_modules/playwright-core/package.json");
    if !playwright.is_file() {
        return Some(format!(
            "{} is missing: run `npm ci --prefix tests/browser` (done by `make test`)",
            playwright.display()
        ));
    }
    None
}
