//! When the DAW process dies, its host processes exit promptly.

use bulkhead_tests::*;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn running(pid: u32) -> bool {
    // A zombie waiting for a reaper is not running.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|x| !x.1.starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn hosts_exit_when_the_daw_is_killed() {
    let copy = bridged_sample("gain").unwrap();
    let mut daw = Command::new(built_artifact("bulkhead-testhost").unwrap())
        .arg("hold")
        .arg(&copy)
        .arg("bulkhead.org.bulkhead.sample.gain")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(daw.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<u32> = line
        .trim()
        .trim_start_matches("hosts [")
        .trim_end_matches(']')
        .split(", ")
        .filter_map(|p| p.parse().ok())
        .collect();
    assert_eq!(pids.len(), 1, "one host process: {line:?}");
    assert!(running(pids[0]));
    daw.kill().unwrap();
    daw.wait().unwrap();
    let t = Instant::now();
    while running(pids[0]) {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the host outlived its DAW"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!("host gone {:?} after the DAW", t.elapsed());
}
