//! Services a plugin gets from its host work through the bridge: timers
//! registered with timer-support fire in the host process, and what the
//! plugin logs reaches the DAW's log.

use bulkhead_tests::*;
use std::time::Duration;

const ID: &str = "org.bulkhead.sample.echo";
const MESSAGE: &str = "echo: timer fired";

fn logged(r: &HostRecord) -> bool {
    r.logs.iter().any(|l| l.message == MESSAGE)
}

#[test]
fn plugin_timers_fire_and_logs_arrive() {
    // Directly, the plugin registers its timer with us and logs on a tick.
    let direct = PluginLibrary::load(sample_plugin_path("echo").unwrap()).unwrap();
    let mut d = Instance::new(&direct, ID, HostConfig::default()).unwrap();
    assert_eq!(d.timers().len(), 1, "the plugin registers one timer");
    d.fire_all_timers();
    assert!(logged(&d.record()));

    // Bridged, the host process runs the timer and the log is forwarded.
    let bridged = PluginLibrary::load(bridged_sample("echo").unwrap()).unwrap();
    let mut b = Instance::new(&bridged, &format!("bulkhead.{ID}"), HostConfig::default()).unwrap();
    assert!(
        b.timers().is_empty(),
        "timers run in the host process, not here"
    );
    assert!(
        b.pump_until(Duration::from_secs(5), logged),
        "the plugin's timer never fired or its log never arrived: {:?}",
        b.record().logs
    );
}
