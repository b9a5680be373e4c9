//! `bulkhead-bench`: what the bridge costs compared with hosting a plugin
//! in-process, measured in one run so that the figures are comparable.
//!
//! ```sh
//! cargo build --release --workspace && target/release/bulkhead-bench [--quick] [--markdown]
//! ```
//!
//! Progress goes to stderr, the tables to stdout.

mod pingpong;
mod report;
mod scenarios;
mod state_recovery;
mod stats;
mod vst3;

use bulkhead_tests::vst3::{bridged_vst3_sample, vst3_bundle};
use bulkhead_tests::{bridged_sample_with_policy, sample_plugin_path, PluginLibrary, Policy};
use scenarios::{bridged_id, progress, Budget, Res, BIGSTATE, GAIN};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str =
    "usage: bulkhead-bench [--quick] [--markdown] [--frames N,N..] [--paced] [--per-block] [--clap|--vst3] [--state]
  --quick        a smoke run (about 30 s) instead of the full one (about 6 min)
  --markdown     also print the results as markdown (for BENCHMARKS.md)
  --frames LIST  per-block rows only for these block sizes (default 32,64,128,512,4096)
  --paced        per-block rows only paced like an audio callback (not back to back)
  --per-block    only the per-block tables, none of the other scenarios
  --clap         only CLAP: no VST3 per-block rows
  --vst3         only the VST3 per-block rows (direct and bridged VST3 gain)
  --state        only state transfer (16 MiB, direct vs bridged) and crash to audible with it";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(pingpong::CHILD_FLAG) {
        let fd = args.get(1).map_or("", String::as_str);
        return match pingpong::child_main(fd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bulkhead-bench (ping-pong child): {e}");
                ExitCode::FAILURE
            }
        };
    }
    let (mut quick, mut markdown) = (false, false);
    let mut only = scenarios::Only::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--markdown" => markdown = true,
            "--paced" => only.paced = true,
            "--per-block" => only.per_block = true,
            "--state" => only.state = true,
            "--clap" => only.clap = true,
            "--vst3" => only.vst3 = true,
            "--frames" => {
                let list = it.next().map_or("", String::as_str);
                match list
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<Vec<u32>, _>>()
                {
                    Ok(f) if !f.is_empty() && f.iter().all(|n| (1..=4096).contains(n)) => {
                        only.frames = Some(f)
                    }
                    _ => {
                        eprintln!(
                            "bulkhead-bench: --frames needs sizes 1..4096, like 64,512\n{USAGE}"
                        );
                        return ExitCode::from(2);
                    }
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("bulkhead-bench: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if only.clap && only.vst3 {
        eprintln!("bulkhead-bench: --clap and --vst3 exclude each other\n{USAGE}");
        return ExitCode::from(2);
    }
    match run(quick, markdown, &only) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bulkhead-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &Path) -> Res<PluginLibrary> {
    Ok(PluginLibrary::load(path).map_err(|e| format!("loading {}: {e}", path.display()))?)
}

/// The bridged copy of sample plugin `name`, and the scratch directory
/// that holds it (removed at the end).
fn bridged(name: &str) -> Res<(PluginLibrary, PathBuf)> {
    bridged_with(name, Policy::default())
}

fn bridged_with(name: &str, policy: Policy) -> Res<(PluginLibrary, PathBuf)> {
    let copy = bridged_sample_with_policy(name, policy).map_err(|e| {
        format!("making a bridged copy of {name} (build with `cargo build --release --workspace` first): {e}")
    })?;
    let dir = copy
        .parent()
        .ok_or("the bridged copy has no directory")?
        .to_path_buf();
    Ok((load(&copy)?, dir))
}

fn direct(name: &str) -> Res<PluginLibrary> {
    let path = sample_plugin_path(name).map_err(|e| {
        format!("finding sample plugin {name} (build with `cargo build --release --workspace` first): {e}")
    })?;
    load(&path)
}

/// The direct and the bridged VST3 sample gain, started; the bridged
/// bundle's scratch directory is added to `scratch`.
fn vst3_gains(scratch: &mut Scratch) -> Res<(vst3::Vst3Gain, vst3::Vst3Gain)> {
    let hint = "(build with `cargo build --release --workspace` first)";
    let real = vst3_bundle("gain").map_err(|e| format!("finding the VST3 gain {hint}: {e}"))?;
    let copy = bridged_vst3_sample("gain")
        .map_err(|e| format!("making a bridged copy of the VST3 gain {hint}: {e}"))?;
    if let Some(dir) = copy.parent() {
        scratch.0.push(dir.to_path_buf());
    }
    Ok((
        vst3::Vst3Gain::open(&real, false)?,
        vst3::Vst3Gain::open(&copy, true)?,
    ))
}

/// Removes the bridged copies' scratch directories when dropped, also when
/// a scenario fails.
struct Scratch(Vec<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        for dir in &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn first_line_of(path: &str, prefix: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(prefix)).map(|l| {
                l.trim_start_matches(prefix)
                    .trim_start_matches([' ', '\t', ':'])
                    .trim()
                    .to_string()
            })
        })
        .unwrap_or_else(|| "?".into())
}

fn loadavg() -> String {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn run(quick: bool, markdown: bool, only: &scenarios::Only) -> Res<()> {
    let budget = if quick {
        Budget::quick()
    } else {
        Budget::full()
    };
    let command = std::iter::once("target/release/bulkhead-bench".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let context = vec![
        format!("command: {command}"),
        format!(
            "machine: {} ({cores} cores), Linux {}",
            first_line_of("/proc/cpuinfo", "model name"),
            first_line_of("/proc/sys/kernel/osrelease", ""),
        ),
        format!("load average at start: {}", loadavg()),
    ];
    let wall_start = std::time::Instant::now();

    // Declared first, so dropped after the libraries.
    let mut scratch = Scratch(Vec::new());
    if only.state {
        let big = direct("bigstate")?;
        let (big_bridged, big_dir) = bridged("bigstate")?;
        scratch.0.push(big_dir);
        for line in &context {
            println!("{line}");
        }
        let (crashable, crash_dir) = bridged_with(
            "bigstate",
            Policy {
                max_crashes: 1_000,
                spare_host: true,
                ..Policy::default()
            },
        )?;
        scratch.0.push(crash_dir);
        let (plain, plain_dir) = bridged_with(
            "bigstate",
            Policy {
                max_crashes: 1_000,
                ..Policy::default()
            },
        )?;
        scratch.0.push(plain_dir);
        let r = state_recovery::run(&big, &big_bridged, [&crashable, &plain], quick)?;
        state_recovery::print(&r);
        return Ok(());
    }
    let vst3 = if only.clap {
        None
    } else {
        Some(vst3_gains(&mut scratch)?)
    };
    let vst3_gains = vst3
        .as_ref()
        .map(|(direct, bridged)| scenarios::Vst3Gains { direct, bridged });
    if only.vst3 {
        let (blocks, audits) = scenarios::per_block(None, vst3_gains.as_ref(), &budget, only)?;
        let results = report::Results {
            blocks,
            audits,
            ..report::Results::new(context)
        };
        return finish(results, markdown, wall_start);
    }
    let gain = direct("gain")?;
    let (gain_bridged, gain_dir) = bridged("gain")?;
    scratch.0.push(gain_dir);
    let big = direct("bigstate")?;
    let (big_bridged, big_dir) = bridged("bigstate")?;
    scratch.0.push(big_dir);

    let (early, early_dir) = bridged_with(
        "gain",
        Policy {
            early_wake: true,
            ..Policy::default()
        },
    )?;
    scratch.0.push(early_dir);
    let (socket, socket_dir) = bridged_with(
        "gain",
        Policy {
            socket_sync: true,
            ..Policy::default()
        },
    )?;
    scratch.0.push(socket_dir);
    let libs = scenarios::BridgedLibs {
        default: &gain_bridged,
        early_wake: &early,
        socket_sync: &socket,
    };
    let (blocks, audits) =
        scenarios::per_block(Some((&gain, &libs)), vst3_gains.as_ref(), &budget, only)?;
    let mut results = report::Results {
        blocks,
        audits,
        ..report::Results::new(context)
    };
    if !only.per_block {
        others(
            &mut results,
            &budget,
            &gain,
            &gain_bridged,
            &big,
            &big_bridged,
        )?;
    }
    finish(results, markdown, wall_start)
}

/// Prints the tables.
fn finish(mut results: report::Results, markdown: bool, wall_start: std::time::Instant) -> Res<()> {
    results.context.push(format!(
        "run took {:.0} s; load average at end (includes this run): {}",
        wall_start.elapsed().as_secs_f64(),
        loadavg()
    ));
    print!("{}", report::text(&results));
    if markdown {
        println!("\n---- markdown ----\n");
        print!("{}", report::markdown(&results));
    }
    Ok(())
}

/// Everything but the per-block tables.
fn others(
    results: &mut report::Results,
    budget: &Budget,
    gain: &PluginLibrary,
    gain_bridged: &PluginLibrary,
    big: &PluginLibrary,
    big_bridged: &PluginLibrary,
) -> Res<()> {
    let (gain_b, big_b) = (bridged_id(GAIN), bridged_id(BIGSTATE));

    progress("instantiation");
    let instantiation = vec![
        (
            "direct",
            scenarios::instantiation(gain, GAIN, budget.instantiations)?,
        ),
        (
            "bridged",
            scenarios::instantiation(gain_bridged, &gain_b, budget.instantiations)?,
        ),
    ];

    progress("host memory");
    let host_memory = scenarios::host_memory(gain_bridged)?;

    let mut concurrent = Vec::new();
    for frames in [64, 512] {
        for n in [1, 16] {
            progress(&format!("{n} concurrent instances, {frames} frames"));
            concurrent.push(scenarios::concurrent(
                gain_bridged,
                n,
                frames,
                budget.concurrent,
            )?);
        }
    }

    progress("parameter infos");
    let params = vec![
        (
            "direct",
            scenarios::params(big, BIGSTATE, budget.param_runs)?,
        ),
        (
            "bridged",
            scenarios::params(big_bridged, &big_b, budget.param_runs)?,
        ),
    ];

    progress("state transfer");
    let state_bytes = scenarios::big_state();
    let state = vec![
        (
            "direct",
            scenarios::state(big, BIGSTATE, budget.state_runs, &state_bytes)?,
        ),
        (
            "bridged",
            scenarios::state(big_bridged, &big_b, budget.state_runs, &state_bytes)?,
        ),
    ];

    results.instantiation = instantiation;
    results.host_memory = Some(host_memory);
    results.concurrent = concurrent;
    results.params = params;
    results.state = state;
    Ok(())
}
