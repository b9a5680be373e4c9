//! `--state`: what large plugin states cost through the bridge. A 16 MiB
//! state loaded and saved, direct and bridged; and the time from a host's
//! death (SIGKILL) to audible output again, with that state restored.

use crate::scenarios::{self, StateTimes, BIGSTATE};
use crate::stats::Summary;
use crate::Res;
use bulkhead_tests::{HostConfig, Instance, PluginLibrary};
use std::time::{Duration, Instant};

const BLOCK: u32 = 256;

/// Kills the bridged instance's host `kills` times while the DAW keeps
/// sending blocks; the time from each kill to the first block that sounds.
/// `spare`: the copy keeps a spare host (`spare_host`), waited for before
/// each kill.
pub fn crash_to_audible(
    lib: &PluginLibrary,
    state: &[u8],
    kills: usize,
    spare: bool,
) -> Res<Summary> {
    let id = format!("bulkhead.{BIGSTATE}");
    let mut inst = Instance::new(lib, &id, HostConfig::default())?;
    inst.load_state(state)?;
    inst.activate(48_000.0, 1, BLOCK)?;
    inst.start_processing()?;
    let mut inputs = inst.input_buffers::<f32>(BLOCK as usize);
    for ch in inputs.ports[0].iter_mut() {
        for (i, s) in ch.iter_mut().enumerate() {
            *s = ((i * 13) % 101) as f32 / 101.0 - 0.5;
        }
    }
    let mut outputs = inst.output_buffers::<f32>(BLOCK as usize);
    let mut block = |inst: &mut Instance| -> Res<bool> {
        inst.process_f32(BLOCK, &inputs, &mut outputs, &[], None, None)?;
        inst.pump();
        Ok(outputs.ports[0].iter().flatten().any(|&s| s != 0.0))
    };
    let mut times = Vec::new();
    for _ in 0..kills {
        if !block(&mut inst)? {
            return Err("the bridged plugin is silent before the kill".into());
        }
        // The steady state: one host serving (and with `spare_host`, one
        // spare started and named apart).
        let pid = settled_host(spare)?;
        let killed = Instant::now();
        // SAFETY: a signal to our own child process.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        loop {
            if block(&mut inst)? {
                times.push(killed.elapsed());
                break;
            }
            if killed.elapsed() > Duration::from_secs(20) {
                return Err("the plugin did not come back within 20 s".into());
            }
        }
        // Quiet between kills, as a crash in a session would be.
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Summary::of_durations(&times))
}

fn children_named(name: &str) -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| {
                    let stat =
                        std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                    let ppid = stat
                        .rsplit_once(") ")
                        .and_then(|x| x.1.split_whitespace().nth(1));
                    let comm =
                        std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                    ppid == Some(me.as_str()) && comm.trim() == name
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The one serving host, once its spare (if `spare`) is up beside it.
fn settled_host(spare: bool) -> Res<u32> {
    let start = Instant::now();
    loop {
        let hosts = children_named("bulkhead-host");
        let spares = children_named("bulkhead-spare").len();
        if let ([pid], true) = (&hosts[..], spares == usize::from(spare)) {
            return Ok(*pid);
        }
        if start.elapsed() > Duration::from_secs(5) {
            return Err(format!("expected one host and one spare, found hosts {hosts:?}").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub struct StateRecovery {
    pub direct: StateTimes,
    pub bridged: StateTimes,
    /// With `spare_host` on, and with the default policy.
    pub crash_spare: Summary,
    pub crash_plain: Summary,
    pub kills: usize,
}

/// `crashable` are bridged copies whose policy allows as many crashes as
/// the run makes, with and without a spare host.
pub fn run(
    direct: &PluginLibrary,
    bridged: &PluginLibrary,
    crashable: [&PluginLibrary; 2],
    quick: bool,
) -> Res<StateRecovery> {
    let state = scenarios::big_state();
    let runs = if quick { 3 } else { 9 };
    let kills = if quick { 3 } else { 9 };
    Ok(StateRecovery {
        direct: scenarios::state(direct, BIGSTATE, runs, &state)?,
        bridged: scenarios::state(bridged, &format!("bulkhead.{BIGSTATE}"), runs, &state)?,
        crash_spare: crash_to_audible(crashable[0], &state, kills, true)?,
        crash_plain: crash_to_audible(crashable[1], &state, kills, false)?,
        kills,
    })
}

pub fn print(r: &StateRecovery) {
    let ms = |d: f64| d / 1000.0;
    println!(
        "State transfer, bigstate, {} bytes (ms, p50 / max):",
        r.bridged.bytes
    );
    for (name, t) in [("direct", &r.direct), ("bridged", &r.bridged)] {
        println!(
            "  {name:8} load {:7.2} / {:7.2}   save {:7.2} / {:7.2}",
            ms(t.load.p50),
            ms(t.load.max),
            ms(t.save.p50),
            ms(t.save.max)
        );
    }
    println!(
        "  bridged - direct: load {:+.2} ms, save {:+.2} ms (target: within +10 ms each)",
        ms(r.bridged.load.p50 - r.direct.load.p50),
        ms(r.bridged.save.p50 - r.direct.save.p50)
    );
    println!(
        "  first load into a new instance (not in the figures above): direct {:.2} ms, bridged {:.2} ms",
        r.direct.first_load.as_secs_f64() * 1000.0,
        r.bridged.first_load.as_secs_f64() * 1000.0
    );
    for (how, c) in [
        ("spare_host on", &r.crash_spare),
        ("default policy", &r.crash_plain),
    ] {
        println!(
            "Crash (SIGKILL) to audible again with that state, {how}, {} kills (ms): p50 {:.1}, max {:.1} (target: p50 under 40 ms)",
            r.kills,
            ms(c.p50),
            ms(c.max)
        );
    }
}
