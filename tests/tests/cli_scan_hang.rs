//! A plugin that hangs while `bulkhead sync` scans it is killed at the
//! scan timeout, reported and skipped; every other plugin is still
//! bridged, and no scanning process is left behind.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

#[test]
fn a_plugin_that_hangs_at_scan_is_killed_reported_and_skipped() {
    let rig = CliRig::new("cli-scan-hang").unwrap();
    std::fs::copy(
        sample_plugin_path("fault").unwrap(),
        rig.plugins.join("HangsOnScan.clap"),
    )
    .unwrap();
    rig.ok(&["install"]);
    rig.ok(&["add", rig.plugins.to_str().unwrap()]);
    std::fs::create_dir_all(rig.config_file().parent().unwrap()).unwrap();
    let config = std::fs::read_to_string(rig.config_file()).unwrap_or_default();
    std::fs::write(
        rig.config_file(),
        format!("scan_timeout_ms = 2000\n{config}"),
    )
    .unwrap();

    let started = Instant::now();
    let out = rig
        .command(&rig.bin)
        .env("BULKHEAD_SAMPLE_HANG_AT_INIT", "HangsOnScan")
        .arg("sync")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sync failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("HangsOnScan"))
        .unwrap_or_else(|| panic!("the hanging plugin is not reported: {stdout}"));
    assert!(
        line.contains("skipped") && line.contains("2000"),
        "reported as skipped at its timeout: {line}"
    );
    assert!(
        stdout.contains("6 added"),
        "every other sample plugin is bridged: {stdout}"
    );
    // One timeout per hanging file, not one per plugin in the folder.
    assert!(took < Duration::from_secs(60), "sync took {took:?}");
    // The killed scanner is gone (it ran in a process group of its own).
    let left = std::process::Command::new("pgrep")
        .args(["-f", "HangsOnScan"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(left.is_empty(), "scanner processes left: {left}");
}
