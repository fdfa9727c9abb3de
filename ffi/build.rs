//! Gives the shared library its SONAME on Linux: `libpseudolink.so.0.MINOR` while the version is
//! 0.x (each minor release may break the ABI), `libpseudolink.so.MAJOR` from 1.0, as cargo-c
//! (which rustls-ffi installs with) names it. Cargo builds the file as `libpseudolink_ffi.so`;
//! `make c-install` installs it as `libpseudolink.so.VERSION` with the links `libpseudolink.so.0.MINOR`
//! (what programs load) and `libpseudolink.so` (what the linker finds).

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let soname = if major == "0" {
        format!("libpseudolink.so.0.{minor}")
    } else {
        format!("libpseudolink.so.{major}")
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
