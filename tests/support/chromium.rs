//! Headless Chromium for the tests that check a page in a real browser
//! (the trace viewer, recorder/tests/viewer.rs; the served agent page,
//! tests/it/browser_page.rs). `bash scripts/chromium/setup.sh` installs
//! Debian's chromium; `RUNWRIGHT_CHROMIUM` names another binary.

// Each test binary that includes this uses what it needs of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How the tests start Chromium: headless, as root, quiet.
pub const HEADLESS: &[&str] = &[
    "--headless",
    // Root (CI containers) cannot use Chromium's sandbox.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    // Nothing to fetch: keep the browser's own services quiet too.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
];

/// The browser to run, or why there is none.
pub fn chromium() -> Result<PathBuf, String> {
    let path = std::env::var_os("RUNWRIGHT_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: `bash scripts/chromium/setup.sh` installs Debian's chromium \
             (or set RUNWRIGHT_CHROMIUM to a Chromium binary)",
            path.display()
        ))
    }
}

/// Runs headless Chromium on `url` with `args`, stdout into `stdout_to`,
/// killed after a minute.
pub fn run_chromium(browser: &Path, profile: &Path, args: &[String], url: &str, stdout_to: &Path) {
    let stdout = std::fs::File::create(stdout_to).expect("browser output file");
    let stderr = std::fs::File::create(stdout_to.with_extension("stderr")).expect("browser log file");
    let mut child = Command::new(browser)
        .args(HEADLESS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait().expect("waiting for the browser") {
            Some(status) => {
                let log = std::fs::read_to_string(stdout_to.with_extension("stderr")).unwrap_or_default();
                assert!(status.success(), "{} exited with {status}:\n{log}", browser.display());
                return;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within 60 s", browser.display());
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
