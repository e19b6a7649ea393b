//! Link flags the dependencies forget: espeak-rs-sys (inside piper-rs) builds a static espeak-ng
//! that calls libsonic (Debian `libsonic-dev`) but does not ask the linker for it.

fn main() {
    for dir in [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib",
        "/usr/local/lib",
    ] {
        if std::path::Path::new(dir).join("libsonic.a").exists() {
            println!("cargo:rustc-link-search=native={dir}");
            break;
        }
    }
    println!("cargo:rustc-link-lib=static=sonic");
    println!("cargo:rerun-if-changed=build.rs");
}
