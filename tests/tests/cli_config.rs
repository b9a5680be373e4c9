//! The config file: a malformed one gives the documented message with its
//! file, line and key, and bridged copies still load with defaults; an
//! override set by glob with `bulkhead set` reaches the bridge (a
//! main-thread call that hangs is abandoned at the overridden timeout, not
//! the default 10 s).

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const FAULT: &str = "bulkhead.org.bulkhead.sample.fault";

#[test]
fn bad_config_is_named_with_its_line_and_overrides_reach_the_bridge() {
    let (rig, _) = CliRig::synced("cli-config").unwrap();
    let config = rig.config_file();
    let good = std::fs::read_to_string(&config).unwrap();
    let copy = rig.clap_out().join("Fault.clap");
    let testhost = built_artifact("bulkhead-testhost").unwrap();

    // A value of the wrong type: that key is ignored, the rest applies.
    std::fs::write(
        &config,
        format!("{good}\n[plugins.\"*Fault*\"]\nmain_timeout_ms = \"soon\"\nrestrat = false\n"),
    )
    .unwrap();
    let line = good.lines().count() + 3;
    let expected_error = format!(
        "bulkhead: error: config {} line {line}, key plugins.\"*Fault*\".main_timeout_ms: \
         expected an integer in 1..=3600000, found a string; using the default",
        config.display()
    );
    let expected_warning = format!(
        "bulkhead: warning: config {} line {}, key plugins.\"*Fault*\".restrat: unknown key; ignored",
        config.display(),
        line + 1
    );
    let out = rig.run(&["list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(stderr.contains(&expected_error), "{stderr}");
    assert!(stderr.contains(&expected_warning), "{stderr}");
    // The bridge says the same when the copy loads, and the copy loads.
    let listing = rig
        .command(&testhost)
        .arg("list")
        .arg(&copy)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&listing.stdout),
        String::from_utf8_lossy(&listing.stderr),
    );
    assert!(listing.status.success(), "{stderr}");
    assert!(stdout.contains(FAULT), "{stdout}");
    assert!(
        stderr.contains(&expected_error["bulkhead: ".len()..]),
        "{stderr}"
    );

    // Not TOML at all: the whole file is ignored, said with its line.
    std::fs::write(&config, format!("{good}[plugins\n")).unwrap();
    let listing = rig
        .command(&testhost)
        .arg("list")
        .arg(&copy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&listing.stderr);
    assert!(listing.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: config {} line {}: not valid TOML",
            config.display(),
            good.lines().count() + 1
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&listing.stdout).contains(FAULT));
    // `bulkhead set` refuses to rewrite a file it cannot parse.
    let out = rig.run(&["set", "*Fault*", "main_timeout_ms=700"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not valid TOML"));

    // An override by glob, set with the tool, reaches the bridge.
    std::fs::write(&config, &good).unwrap();
    rig.ok(&["set", "*Fault*", "main_timeout_ms=700"]);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("[plugins.\"*Fault*\"]\nmain_timeout_ms = 700"),
        "{text}"
    );
    rig.enter();
    let lib = PluginLibrary::load(&copy).unwrap();
    let mut inst = Instance::new(&lib, FAULT, HostConfig::default()).unwrap();
    // Fault 5: value_to_text of the gain never returns.
    inst.flush(&[Event::param_value(1, 5.0)]).unwrap();
    let t = Instant::now();
    assert!(
        inst.value_to_text(0, 0.5).is_err(),
        "the hung call is abandoned"
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(4),
        "abandoned after {took:?}: the override (700 ms) did not reach the bridge (default 10 s)"
    );
    drop(inst);
    drop(lib);

    rig.ok(&["set", "*Fault*", "--reset"]);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("Fault"), "{text}");
    let out = rig.run(&["set", "*Fault*", "main_timeot_ms=1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown setting"));
}
