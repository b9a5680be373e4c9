//! A per-plugin `log` override set with `bulkhead set` reaches that
//! plugin's host process (and only it): with the default `warn`, the
//! overridden plugin's host writes debug lines to the log file, another
//! plugin's host does not.

use bulkhead_tests::*;

fn render_logged(rig: &CliRig, copy: &str, id: &str, log: &std::path::Path) {
    let testhost = built_artifact("bulkhead-testhost").unwrap();
    let out = rig
        .command(&testhost)
        .env("BULKHEAD_LOG_FILE", log)
        .env_remove("BULKHEAD_LOG")
        .args(["render", rig.clap_out().join(copy).to_str().unwrap(), id])
        .args(["--frames", "4800"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render of {copy} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_log_override_reaches_that_plugins_host_only() {
    let (rig, _) = CliRig::synced("cli-log-override").unwrap();
    rig.ok(&["set", "*Gain*", "log=debug"]);
    let log = rig.root.join("bulkhead.log");
    render_logged(&rig, "Gain.clap", "bulkhead.org.bulkhead.sample.gain", &log);
    render_logged(&rig, "Echo.clap", "bulkhead.org.bulkhead.sample.echo", &log);
    let text = std::fs::read_to_string(&log).unwrap();
    let host_debug = |file: &str| {
        text.lines().any(|l| {
            l.contains("bulkhead-host[") && l.contains(&format!("({file})")) && l.contains("DEBUG")
        })
    };
    assert!(
        host_debug("Gain.clap"),
        "no debug line from Gain's host:\n{text}"
    );
    assert!(
        !host_debug("Echo.clap"),
        "Echo's host logged at debug without an override:\n{text}"
    );
}
