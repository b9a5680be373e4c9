//! A host of another protocol version and a missing real plugin are clear
//! errors in the host, not crashes.

use bulkhead_tests::*;

#[test]
fn version_mismatch_is_a_clear_error() {
    let dir = scratch_dir("mismatch");
    let fake = built_artifact("bulkhead-fake-host").unwrap();
    let real = sample_plugin_path("gain").unwrap();
    let copy = bridged_copy(&real, &dir, "gain.clap", Some(&fake)).unwrap();
    let log = dir.join("bridge.log");
    let out = std::process::Command::new(built_artifact("bulkhead-testhost").unwrap())
        .arg("list")
        .arg(&copy)
        .env("BULKHEAD_LOG_FILE", &log)
        // An empty descriptor cache, so that listing runs the fake host.
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a clean failure, not a crash: {out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let text = format!("{stderr}{logged}");
    assert!(text.contains("version mismatch"), "{text}");
    assert!(
        text.contains("protocol 999"),
        "names the peer's version: {text}"
    );
    let ours = format!("protocol {}", bulkhead_common::handshake::PROTOCOL_VERSION);
    assert!(text.contains(&ours), "names ours: {text}");
}

#[test]
fn missing_real_plugin_is_a_clear_error() {
    let dir = scratch_dir("missing");
    let real = dir.join("gone.clap");
    std::fs::copy(sample_plugin_path("gain").unwrap(), &real).unwrap();
    let copy = bridged_copy(&real, &dir, "gain.clap", None).unwrap();
    std::fs::remove_file(&real).unwrap();
    let out = std::process::Command::new(built_artifact("bulkhead-testhost").unwrap())
        .arg("list")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a clean failure, not a crash: {out:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gone.clap") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(host_processes_of(std::process::id()).is_empty());
}
