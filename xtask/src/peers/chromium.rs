//! Chromium, the browser of the CORS test (`crates/otlp-collector/tests/e2e_cors_browser.rs`):
//! Debian's `chromium` package at [`PATH`], installed by `apt-get install` when missing.
//!
//! Unlike the other peers it is a system package (it pulls in dozens of libraries, so it cannot
//! be unpacked under `target/peers/`), and the test looks for it at [`PATH`] itself, so it has
//! no lock entry and no `peers.env` line. [`ensure`] does nothing when [`PATH`] exists; else,
//! as root, it runs `apt-get install -y chromium` (after one `apt-get update` when that fails)
//! and checks that `chromium --version` names Chromium; not as root, it fails and says what to
//! run.

use std::path::Path;
use std::process::Command;

use super::{is_root, run, stdout_of};
use crate::Result;

/// Where the `chromium` package puts the browser, and where the test looks for it.
pub const PATH: &str = "/usr/bin/chromium";
/// The Debian package.
pub const PACKAGE: &str = "chromium";

/// What [`ensure`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// The browser is there.
    Nothing,
    /// Install the package.
    Install,
    /// Missing, and this process cannot install it: the message says what to run.
    Refuse(String),
}

fn step(present: bool, root: bool) -> Step {
    match (present, root) {
        (true, _) => Step::Nothing,
        (false, true) => Step::Install,
        (false, false) => Step::Refuse(format!(
            "{PATH} is missing and installing it needs root: run `sudo apt-get install -y \
             {PACKAGE}` (the CORS browser test, tests/e2e_cors_browser.rs, runs it) and then \
             `cargo xtask peers` again"
        )),
    }
}

/// Makes sure [`PATH`] exists; returns whether it installed the package.
pub(super) fn ensure() -> Result<bool> {
    match step(Path::new(PATH).is_file(), is_root()) {
        Step::Nothing => Ok(false),
        Step::Refuse(message) => Err(message),
        Step::Install => {
            install()?;
            Ok(true)
        }
    }
}

fn install() -> Result {
    println!("peers: installing {PACKAGE} (apt-get install, as root) for the CORS browser test");
    let apt_install = || {
        run(
            Command::new("apt-get")
                .args(["install", "-y", "-q", PACKAGE])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install chromium",
        )
    };
    if let Err(failed) = apt_install() {
        println!("peers: {failed}\npeers: running `apt-get update` once and retrying");
        run(
            Command::new("apt-get").args(["update", "-q"]),
            "apt-get update",
        )?;
        apt_install()?;
    }
    let output = run(
        Command::new(PATH).arg("--version"),
        "chromium --version after installing it",
    )?;
    let version = stdout_of(&output);
    if !version.contains("Chromium") {
        return Err(format!(
            "{PATH} --version printed {version:?}, not a Chromium version"
        ));
    }
    println!("peers: {}", version.trim());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_only_when_missing_and_root() {
        assert_eq!(step(true, true), Step::Nothing);
        assert_eq!(step(true, false), Step::Nothing);
        assert_eq!(step(false, true), Step::Install);
        let Step::Refuse(message) = step(false, false) else {
            panic!("not root: refused");
        };
        assert!(
            message.contains("sudo apt-get install -y chromium"),
            "{message}"
        );
        assert!(message.contains(PATH), "{message}");
    }
}
