//! A log a user can read: with `BULKHEAD_LOG_FILE` set, the bridge and every
//! host write to that file, each line naming its process and pid (and, for a
//! host, its plugin), and whatever a plugin prints to stderr lands there too.
//! A bad `BULKHEAD_LOG` or an unusable log file is said once on stderr.
//!
//! Logging is set up once per process from its environment, so each
//! scenario runs in a child process: this test binary itself (the
//! `child_session` test, which does nothing unless [`CHILD`] is set) or
//! `bulkhead-host` run directly.

use bulkhead_tests::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "BULKHEAD_TEST_LOG_FILE_CHILD";
const ID: &str = "bulkhead.org.bulkhead.sample.fault";
const FAULT_PARAM: u32 = 1;
const STACK_OVERFLOW_IN_PROCESS: f64 = 6.0;
const BLOCK: u32 = 256;

/// Plays a DAW in a child process: one bridged fault plugin, a few blocks,
/// then a stack overflow in its host and a restart. Prints each host's pid
/// as `HOST_PID=<pid>`.
#[test]
fn child_session() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let policy = Policy {
        audio_timeout_ms: 100,
        hang_timeout_ms: 300,
        main_timeout_ms: 500,
        state_refresh_ms: 0,
        ..Policy::default()
    };
    let lib = PluginLibrary::load(bridged_sample_with_policy("fault", policy).unwrap()).unwrap();
    let mut inst = Instance::new(&lib, ID, HostConfig::default()).unwrap();
    inst.activate(48_000.0, 1, BLOCK).unwrap();
    inst.start_processing().unwrap();
    let inputs = inst.input_buffers::<f32>(BLOCK as usize);
    let mut outputs = inst.output_buffers::<f32>(BLOCK as usize);
    let mut block = |inst: &mut Instance, events: &[Event]| {
        inst.process_f32(BLOCK, &inputs, &mut outputs, events, None, None)
            .unwrap();
        inst.pump();
    };
    block(&mut inst, &[]);
    let first = host_processes_of(std::process::id());
    assert_eq!(first.len(), 1, "one host: {first:?}");
    println!("\nHOST_PID={}", first[0]);

    block(
        &mut inst,
        &[Event::param_value(FAULT_PARAM, STACK_OVERFLOW_IN_PROCESS).with_time(10)],
    );
    let start = Instant::now();
    let second = loop {
        block(&mut inst, &[]);
        let now = host_processes_of(std::process::id());
        if now.len() == 1 && now != first {
            break now[0];
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no new host after the crash: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    // A few blocks on the new host, so it logs as it works.
    for _ in 0..3 {
        block(&mut inst, &[]);
    }
    println!("\nHOST_PID={second}");
    drop(inst);
}

#[test]
fn a_bridged_plugin_logs_to_the_file_with_pids_and_names() {
    let dir = scratch_dir("log-file");
    let log = dir.join("bulkhead.log");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_session",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("BULKHEAD_LOG", "debug")
        .env("BULKHEAD_LOG_FILE", &log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let daw = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        out.status.success(),
        "the child session failed: {stdout}\n{stderr}\nlog:\n{text}"
    );
    let hosts: Vec<u32> = stdout
        .lines()
        .filter_map(|l| l.split("HOST_PID=").nth(1)?.trim().parse().ok())
        .collect();
    assert_eq!(
        hosts.len(),
        2,
        "two hosts, before and after the crash: {stdout}"
    );

    // The bridge, in the DAW's process, names itself and that pid; its lines
    // about a plugin name the plugin.
    let bridge = format!("bulkhead-bridge[{daw}]");
    assert!(text.contains(&bridge), "no line from {bridge}:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(&bridge) && l.contains("libbulkhead_sample_fault")),
        "no bridge line names the plugin:\n{text}"
    );
    // Each host names itself, its pid and its plugin on every line.
    let plugin = sample_plugin_file_name("fault");
    for pid in &hosts {
        let host = format!("bulkhead-host[{pid}] ({plugin})");
        assert!(text.contains(&host), "no line from {host}:\n{text}");
    }
    for line in text.lines().filter(|l| l.contains("bulkhead-host[")) {
        assert!(
            line.contains(&plugin),
            "a host line without its plugin: {line}"
        );
    }
    assert!(
        text.contains("org.bulkhead.sample.fault"),
        "the plugin id is logged:\n{text}"
    );

    // What the plugin's host wrote to stderr as it died (the runtime's
    // stack-overflow message) is in the file, not on the DAW's stderr.
    assert!(
        text.contains("has overflowed its stack"),
        "the crashing host's stderr is not in the log:\n{text}"
    );
    assert!(
        !stderr.contains("overflowed"),
        "a host's stderr reached the DAW's: {stderr}"
    );
}

/// Runs `bulkhead-host` with `args` and `env` (and no inherited logging
/// settings); its pid, exit status, stdout and stderr.
fn run_host(args: &[&str], env: &[(&str, &str)]) -> (u32, std::process::Output) {
    let mut cmd = Command::new(built_artifact("bulkhead-host").unwrap());
    cmd.args(args)
        .env_remove("BULKHEAD_LOG")
        .env_remove("BULKHEAD_LOG_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    (pid, child.wait_with_output().unwrap())
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn a_bad_filter_is_said_once_on_stderr() {
    let (_, out) = run_host(&["--version"], &[("BULKHEAD_LOG", "bulkhead=loud")]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("bulkhead-host "));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "exactly one line on stderr: {stderr}"
    );
    assert!(
        stderr.contains("BULKHEAD_LOG=\"bulkhead=loud\"") && stderr.contains("using \"warn\""),
        "names the variable, its value and the fallback: {stderr}"
    );
}

#[test]
fn an_unusable_log_file_is_said_once_and_stderr_is_kept() {
    // Past argument parsing (where the host redirects its output) to a
    // failing handshake: standard input is no socket.
    let file = "/nonexistent-bulkhead-dir/host.log";
    let (pid, out) = run_host(
        &["--socket-fd", "0", "--plugin", "/plugins/Some Synth.clap"],
        &[("BULKHEAD_LOG_FILE", file), ("BULKHEAD_LOG", "nonsense=[")],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file_lines = lines_with(&stderr, "BULKHEAD_LOG_FILE");
    assert_eq!(file_lines.len(), 1, "said once: {stderr}");
    assert!(
        file_lines[0].contains(file) && file_lines[0].contains("standard error"),
        "names the variable, its value and the fallback: {stderr}"
    );
    assert_eq!(
        lines_with(&stderr, "BULKHEAD_LOG=").len(),
        1,
        "the bad filter, said once: {stderr}"
    );
    // The host's own error, on the stderr it kept, names the process and
    // its plugin.
    assert!(
        stderr.contains(&format!("bulkhead-host[{pid}] (Some Synth.clap)")),
        "{stderr}"
    );
}
