//! Real VST3 hosts this project does not write — pedalboard 0.9.26 and DawDreamer 0.9.0 —
//! load every sample VST3 bundle and every VST3 bundle of Debian's zam-plugins, each DIRECTLY
//! and through a BRIDGED bundle of it (`bridged_bundle_of`: the plugin runs in a
//! `bulkhead-host` process), and each must behave:
//!
//! - the parameters are listed, and the listing is the same in two runs;
//! - the render is well formed (the expected frames, 1 or 2 channels, finite), not silent (an
//!   effect fed noise, the instrument fed two notes: silent before the first note-on frame,
//!   sounding right after it) and the same in two runs, bit for bit;
//! - the state saved after moving a parameter, loaded into a fresh instance, gives the same
//!   parameter values and texts, is saved back byte for byte, carries the moved value, and the
//!   fresh instance renders deterministically too (for the samples: the same audio as the
//!   original instance; see `same_audio_after_load` for why not every third-party plugin does).
//!
//! And bridged against direct, in each host: every file a run writes is the same — the audio of
//! both instances bit for bit, both saved states byte for byte, the four parameter listings
//! (names, labels, steps, ranges, defaults, values and texts; read-only parameters without
//! their values, see `comparable`) — except where `differs_direct` says why not. Then a state
//! saved through the direct bundle is loaded into a fresh bridged instance and one saved through
//! the bridged bundle into a fresh direct instance (a "load run", see common.py): each lists,
//! saves again and renders what the bridged instance that loaded its own state did.
//!
//! `tests/hosts/setup.sh` installs the hosts (a venv under target/, apt packages) and is run
//! first; when it cannot install them the test fails saying what is missing. Each run of a
//! driver (tests/hosts/render_*.py, see common.py there for what a run does and writes) is its
//! own Python process with a deadline, retried a bounded number of times and judged by the files
//! it wrote, not by its exit status. Runs go in parallel, one per core. Needs
//! `cargo build --workspace` first (the bridge library and `bulkhead-host`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bulkhead_tests::vst3::{
    bridged_bundle_of, install_real_hosts, vst3_bundle, workspace, VST3_SAMPLES,
};
use serde_json::Value;

const ATTEMPTS: usize = 3;
const DEADLINE: Duration = Duration::from_secs(90);
const HOSTS: [&str; 2] = ["pedalboard", "dawdreamer"];
const RUNS: usize = 2;
/// Runs added for a host and bundle whose first two runs differ (see the test).
const EXTRA_RUNS: usize = 3;
/// Peak below which a render counts as silent.
const SILENT: f32 = 1e-4;
const RATE: usize = 48_000;
/// The first note-on of common.py's NOTES, in frames.
const FIRST_NOTE: usize = RATE / 10;
/// Files a complete run leaves (meta.json is written last).
const FILES: [&str; 9] = [
    "params.json",
    "params_set.json",
    "params_saved.json",
    "params_loaded.json",
    "audio.f32",
    "audio_loaded.f32",
    "state.bin",
    "state_loaded.bin",
    "meta.json",
];

/// Files a load run leaves (meta.json last).
const LOAD_FILES: [&str; 4] = [
    "params_loaded.json",
    "audio_loaded.f32",
    "state_loaded.bin",
    "meta.json",
];

/// How a host loads the plugin.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// The real bundle.
    Direct,
    /// The bridged bundle of it.
    Bridged,
}

const KINDS: [Kind; 2] = [Kind::Direct, Kind::Bridged];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Bridged => "bridged",
        }
    }
}

/// A plugin under test: its real bundle and the bridged bundle of it.
struct Bundle {
    name: String,
    direct: PathBuf,
    bridged: PathBuf,
}

impl Bundle {
    fn path(&self, kind: Kind) -> &Path {
        match kind {
            Kind::Direct => &self.direct,
            Kind::Bridged => &self.bridged,
        }
    }
}

/// The parameter a run moves, when the drivers' default choice would not do.
fn parameter_to_move(bundle: &str) -> Option<&'static str> {
    match bundle {
        // Its only parameter crashes, hangs or exits the process: nothing is moved.
        "BulkheadFault" => Some("-"),
        _ => None,
    }
}

/// Bundles whose fresh instance, loaded with the state, renders exactly what the instance that
/// saved it rendered. Every sample must. Third-party plugins may not: ZamHeadX2 sets its
/// convolver up for the block size it knows when azimuth or elevation change, which in
/// DawDreamer happens only with the state load, after the host's setup, so only the fresh
/// instance convolves; ZamTube in pedalboard is not bit exact anyway (`NOT_BIT_EXACT`). For
/// those the fresh instance's render is still checked: well formed, not silent and the same
/// in two runs.
fn same_audio_after_load(bundle: &str) -> bool {
    bundle.starts_with("Bulkhead")
}

/// Host and bundle whose direct run's fresh instance renders differently from the bridged
/// run's, and why. DPF keeps the buffer size and sample rate a new instance starts with in
/// globals of the module (`d_nextBufferSize`, `d_nextSampleRate`), written by the instances
/// before it. Directly, the fresh instance B shares the module with A and starts with what A
/// left; bridged, every instance has a host process, and so a module, of its own, and B starts
/// like a first instance. ZamHeadX2 sets its convolver up from those values when the state load
/// changes azimuth and elevation (in DawDreamer before the host's own setup): the direct B
/// renders differently from A, the bridged B renders exactly what A rendered. A direct
/// instance that is the first in its process (the load run) renders that too. So for these the
/// bridged B's render must equal the direct A's.
const MODULE_GLOBALS: &[(&str, &str)] = &[("ZamHeadX2", "dawdreamer")];

/// Why direct and bridged may write `file` differently for this host and bundle, if they may.
fn differs_direct(name: &str, host: &str, file: &str) -> Option<&'static str> {
    (file == "audio_loaded.f32" && MODULE_GLOBALS.contains(&(name, host)))
        .then_some("DPF module globals shared by the direct instances (see MODULE_GLOBALS)")
}

/// Runs one driver with a deadline; Ok when it wrote every file, whatever its exit status.
fn run_once(job: &Job, python: &Path, dir: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // stderr goes to a file: some plugins print a line per block, more than a pipe holds.
    let log = dir.with_extension("log");
    let err = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let driver = format!("render_{}.py", job.host);
    let mut cmd = Command::new(python);
    cmd.arg(workspace().join("tests/hosts").join(&driver))
        .arg(&job.bundle)
        .arg(dir)
        .current_dir(workspace().join("tests/hosts"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    if let Some(p) = parameter_to_move(&job.name) {
        cmd.arg(p);
    }
    if let Some(state) = &job.load {
        cmd.arg("--load").arg(state);
    }
    let mut child = cmd.spawn().map_err(|e| format!("spawn {driver}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if job.files().iter().all(|f| dir.join(f).is_file()) {
        return Ok(());
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(10).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{driver} {} {} ({}): {}, files missing; stderr tail:\n{}",
        job.kind.label(),
        job.name,
        match &job.load {
            Some(state) => format!("loading {}", state.display()),
            None => format!("run {}", job.run),
        },
        match status {
            Some(s) => format!("exited with {s}"),
            None => format!("killed after {DEADLINE:?}"),
        },
        tail.join("\n")
    ))
}

struct Job {
    name: String,
    bundle: PathBuf,
    host: &'static str,
    kind: Kind,
    run: usize,
    /// A load run: the state file the fresh instance loads.
    load: Option<PathBuf>,
}

impl Job {
    fn new(b: &Bundle, host: &'static str, kind: Kind, run: usize) -> Job {
        Job {
            name: b.name.clone(),
            bundle: b.path(kind).to_path_buf(),
            host,
            kind,
            run,
            load: None,
        }
    }

    fn dir(&self, scratch: &Path) -> PathBuf {
        let run = match self.load {
            Some(_) => "load".to_owned(),
            None => self.run.to_string(),
        };
        scratch.join(format!(
            "{}-{}-{}-{run}",
            self.name,
            self.host,
            self.kind.label()
        ))
    }

    fn files(&self) -> &'static [&'static str] {
        match self.load {
            Some(_) => &LOAD_FILES,
            None => &FILES,
        }
    }
}

/// Runs every job, `workers` at a time; the error of each job that never completed.
fn run_all(jobs: &[Job], python: &Path, scratch: &Path, workers: usize) -> Vec<String> {
    let next = Mutex::new(0usize);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(job) = jobs.get(i) else { break };
                let dir = job.dir(scratch);
                let mut last = String::new();
                let ok = (0..ATTEMPTS).any(|_| match run_once(job, python, &dir) {
                    Ok(()) => true,
                    Err(e) => {
                        last = e;
                        false
                    }
                });
                if !ok {
                    errors
                        .lock()
                        .unwrap()
                        .push(format!("after {ATTEMPTS} attempts: {last}"));
                }
            });
        }
    });
    errors.into_inner().unwrap()
}

/// Largest difference allowed between two runs' renders of a plugin that does not render
/// bit for bit the same in every run of a host: name, host, bound. ZamTube in pedalboard
/// differs from run to run by up to about 4e-5 (-88 dB), with address randomisation off too,
/// in one run in four to eight; in DawDreamer it is bit exact.
const NOT_BIT_EXACT: &[(&str, &str, f32)] = &[("ZamTube", "pedalboard", 1e-4)];

/// A parameter listing as two runs must agree on it: every parameter's infos, and the values
/// of the settable ones. A read-only parameter's value may report how the host happened to set
/// the plugin up (DPF's "Buffer Size" reads 512 or 1024 at load in pedalboard) or a meter.
/// JUCE's "discrete" flag is no information at all: its VST3 host's parameter initialises
/// `discrete` from `getNumSteps()`, which returns the member `numSteps` declared (and so
/// initialised) after it, so the flag is whatever memory held. Seen flipping between runs of
/// the same direct plugin (DPF's "Buffer Size" in pedalboard) and, bridged, on the sample
/// instrument's "Level" (true once, false in every other run, direct or bridged); the steps
/// JUCE reports from the same parameter infos are compared.
fn comparable(list: &Value) -> Value {
    let mut list = list.clone();
    for p in list.as_array_mut().into_iter().flatten() {
        let Some(p) = p.as_object_mut() else { continue };
        p.remove("discrete");
        if p.get("automatable").and_then(Value::as_bool) != Some(true) {
            p.remove("value");
            p.remove("text");
            p.remove("currentValText");
        }
    }
    list
}

/// The files two complete runs wrote differently (meta.json aside: it repeats the others).
fn differences(name: &str, host: &str, a: &Path, b: &Path) -> Vec<&'static str> {
    FILES
        .iter()
        .copied()
        .filter(|&f| f != "meta.json" && !same(name, host, &a.join(f), &b.join(f)))
        .collect()
}

/// Whether two runs wrote the same: a parameter listing as `comparable`, audio bit for bit (or
/// within `NOT_BIT_EXACT`'s bound), anything else byte for byte.
fn same(name: &str, host: &str, x: &Path, y: &Path) -> bool {
    let bound = NOT_BIT_EXACT
        .iter()
        .find(|(n, h, _)| *n == name && *h == host)
        .map_or(0.0, |t| t.2);
    let file = x.file_name().unwrap_or_default().to_string_lossy();
    if file.starts_with("params") {
        comparable(&json(x)) == comparable(&json(y))
    } else if file.starts_with("audio") && bound > 0.0 {
        let (x, y) = (samples(x), samples(y));
        x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| (p - q).abs() <= bound)
    } else {
        read(x) == read(y)
    }
}

/// What tells two files apart, for a failure message.
fn describe(x: &Path, y: &Path) -> String {
    let file = x.file_name().unwrap_or_default().to_string_lossy();
    if file.starts_with("audio") {
        let (a, b) = (samples(x), samples(y));
        let first = a
            .iter()
            .zip(&b)
            .position(|(p, q)| p.to_bits() != q.to_bits());
        let worst = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max);
        format!(
            "{} vs {} samples, first difference at {first:?}, largest {worst}",
            a.len(),
            b.len()
        )
    } else if file.starts_with("params") {
        let (a, b) = (comparable(&json(x)), comparable(&json(y)));
        let (a, b) = (
            a.as_array().cloned().unwrap_or_default(),
            b.as_array().cloned().unwrap_or_default(),
        );
        let first = a.iter().zip(&b).find(|(p, q)| p != q);
        format!(
            "{} vs {} parameters; first differing: {first:?}",
            a.len(),
            b.len()
        )
    } else {
        format!("{} vs {} bytes", read(x).len(), read(y).len())
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&read(p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn samples(p: &Path) -> Vec<f32> {
    read(p)
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The plugin's own settable parameters: name → (normalised value, text).
fn settable(list: &Value) -> BTreeMap<String, (f64, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["automatable"].as_bool() == Some(true))
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                (
                    p["value"].as_f64().unwrap_or(f64::NAN),
                    p["text"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}

/// Everything one complete run must show by itself.
fn check_run(name: &str, host: &str, dir: &Path, failures: &mut Vec<String>) {
    let mut fail = |what: String| failures.push(format!("{host} {name}: {what}"));
    let meta = json(&dir.join("meta.json"));
    let channels = meta["channels"].as_u64().unwrap_or(0) as usize;
    let frames = meta["frames"].as_u64().unwrap_or(0) as usize;
    let instrument = meta["instrument"].as_bool() == Some(true);
    if !(1..=2).contains(&channels) || frames != RATE {
        fail(format!(
            "render is {channels} x {frames}, expected 1 or 2 x {RATE}"
        ));
        return;
    }
    if instrument != (name == "BulkheadInstrument") {
        fail(format!("instrument = {instrument}"));
    }
    for file in ["audio.f32", "audio_loaded.f32"] {
        let audio = samples(&dir.join(file));
        if audio.len() != channels * frames {
            fail(format!("{file} holds {} samples", audio.len()));
            continue;
        }
        if !audio.iter().all(|s| s.is_finite()) {
            fail(format!("{file} is not finite"));
        }
        let peak = audio.iter().fold(0f32, |m, s| m.max(s.abs()));
        if peak < SILENT {
            fail(format!("{file} is silent (peak {peak})"));
        }
        if instrument {
            for ch in audio.chunks_exact(frames) {
                if ch[..FIRST_NOTE].iter().any(|&s| s != 0.0) {
                    fail(format!("{file}: sound before the first note-on"));
                }
                if ch[FIRST_NOTE..FIRST_NOTE + 100].iter().all(|&s| s == 0.0) {
                    fail(format!("{file}: silent right after the first note-on"));
                }
            }
        }
    }
    let defaults = json(&dir.join("params.json"));
    if defaults.as_array().is_none_or(|a| a.is_empty()) {
        fail("no parameters listed".into());
    }
    // The state round trip: a fresh instance holds what the saving instance held.
    let saved = settable(&json(&dir.join("params_saved.json")));
    let loaded = settable(&json(&dir.join("params_loaded.json")));
    if saved != loaded {
        fail(format!(
            "parameters after loading the state into a fresh instance differ:\n  saved  {saved:?}\n  loaded {loaded:?}"
        ));
    }
    if read(&dir.join("state.bin")) != read(&dir.join("state_loaded.bin")) {
        fail("state saved again after loading differs".into());
    }
    if read(&dir.join("state.bin")).is_empty() {
        fail("empty state".into());
    }
    if let Some(moved) = meta["moved"].as_array() {
        let pname = moved[1].as_str().unwrap_or_default();
        let wanted = moved[2].as_f64().unwrap_or(f64::NAN);
        let default = settable(&defaults).get(pname).map(|v| v.0);
        // A plugin may round the value to its steps: a switch (2 steps) to 0 or 1, BigState's
        // seed to a byte.
        let steps = defaults
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == pname)
            .and_then(|p| p["steps"].as_u64())
            .unwrap_or(0);
        let rounded = if (2..=1000).contains(&steps) {
            let n = (steps - 1) as f64;
            (wanted * n).round() / n
        } else {
            wanted
        };
        match loaded.get(pname) {
            Some((v, _))
                if ((v - wanted).abs() <= 0.01 || (v - rounded).abs() <= 1e-6)
                    && Some(*v) != default => {}
            other => fail(format!(
                "moved {pname} to {wanted} (default {default:?}); after loading: {other:?}"
            )),
        }
    }
    if same_audio_after_load(name)
        && read(&dir.join("audio.f32")) != read(&dir.join("audio_loaded.f32"))
    {
        fail("the fresh instance loaded with the state renders differently".into());
    }
}

/// The checks of one load run by itself: a second of finite, not silent audio.
fn check_load_run(name: &str, host: &str, dir: &Path, failures: &mut Vec<String>) {
    let meta = json(&dir.join("meta.json"));
    let channels = meta["channels"].as_u64().unwrap_or(0) as usize;
    let audio = samples(&dir.join("audio_loaded.f32"));
    let peak = audio.iter().fold(0f32, |m, s| m.max(s.abs()));
    if !(1..=2).contains(&channels)
        || audio.len() != channels * RATE
        || !audio.iter().all(|s| s.is_finite())
        || peak < SILENT
    {
        failures.push(format!(
            "{host} {name} load run {}: {channels} channels, {} samples, peak {peak}",
            dir.display(),
            audio.len()
        ));
    }
}

/// Bridged against direct: the reference runs (two runs that agreed) of each wrote the same.
fn check_bridged(name: &str, host: &str, d: &Path, b: &Path, failures: &mut Vec<String>) {
    for f in FILES.iter().filter(|&&f| f != "meta.json") {
        let (x, y) = (d.join(f), b.join(f));
        if same(name, host, &x, &y) {
            continue;
        }
        if let Some(why) = differs_direct(name, host, f) {
            eprintln!("{host} {name}: {f} differs bridged/direct as expected ({why})");
            // The bridged fresh instance renders what the direct (and bridged) A rendered.
            let a = d.join("audio.f32");
            if !same(name, host, &a, &y) {
                failures.push(format!(
                    "{host} {name}: bridged {f} is not the direct audio.f32: {}",
                    describe(&a, &y)
                ));
            }
            continue;
        }
        failures.push(format!(
            "{host} {name}: bridged {f} differs from direct ({} vs {}): {}",
            x.display(),
            y.display(),
            describe(&x, &y)
        ));
    }
}

#[test]
fn pedalboard_and_dawdreamer_bridged_equals_direct_for_sample_and_zam_bundles() {
    let started = Instant::now();
    let python = install_real_hosts();
    let scratch = bulkhead_tests::scratch_dir("vst3-real-hosts");
    let mut real: Vec<PathBuf> = VST3_SAMPLES
        .iter()
        .map(|(n, _)| vst3_bundle(n).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let mut zam: Vec<PathBuf> = std::fs::read_dir("/usr/lib/vst3")
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "vst3"))
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("Za"))
                })
                .collect()
        })
        .unwrap_or_default();
    zam.sort();
    assert!(
        zam.len() >= 17,
        "expected zam-plugins' 17 bundles in /usr/lib/vst3, found {zam:?}"
    );
    real.extend(zam);
    let bridged_dir = scratch.join("bridged");
    std::fs::create_dir_all(&bridged_dir).unwrap();
    let bundles: Vec<Bundle> = real
        .into_iter()
        .map(|direct| Bundle {
            name: direct.file_stem().unwrap().to_string_lossy().into_owned(),
            bridged: bridged_bundle_of(&direct, &bridged_dir)
                .unwrap_or_else(|e| panic!("bridged bundle of {}: {e}", direct.display())),
            direct,
        })
        .collect();

    let mut jobs = Vec::new();
    for b in &bundles {
        for host in HOSTS {
            for kind in KINDS {
                for run in 0..RUNS {
                    jobs.push(Job::new(b, host, kind, run));
                }
            }
        }
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let mut failures = run_all(&jobs, &python, &scratch, workers);

    // A host whose first two runs of a bundle disagree gets up to EXTRA_RUNS more runs, and
    // passes when two runs agree on everything (logged, so it shows).
    let group = |name: &str, host: &str, kind: Kind, jobs: &[Job]| -> Vec<PathBuf> {
        jobs.iter()
            .filter(|j| j.name == name && j.host == host && j.kind == kind && j.load.is_none())
            .map(|j| j.dir(&scratch))
            .filter(|d| d.join("meta.json").is_file())
            .collect()
    };
    let mut extra = Vec::new();
    for b in &bundles {
        for host in HOSTS {
            for kind in KINDS {
                let dirs = group(&b.name, host, kind, &jobs);
                if dirs.len() == RUNS && !differences(&b.name, host, &dirs[0], &dirs[1]).is_empty()
                {
                    for run in RUNS..RUNS + EXTRA_RUNS {
                        extra.push(Job::new(b, host, kind, run));
                    }
                }
            }
        }
    }
    if !extra.is_empty() {
        failures.extend(run_all(&extra, &python, &scratch, workers));
        jobs.extend(extra);
    }

    // Each kind by itself, as before; the first of two agreeing runs is its reference.
    let mut reference: BTreeMap<(String, &str, &str), PathBuf> = BTreeMap::new();
    for b in &bundles {
        let name = &b.name;
        for host in HOSTS {
            for kind in KINDS {
                let who = format!("{host} {} {name}", kind.label());
                let dirs = group(name, host, kind, &jobs);
                if dirs.len() < RUNS {
                    continue; // reported by run_all
                }
                for d in &dirs {
                    check_run(name, &format!("{host} {}", kind.label()), d, &mut failures);
                }
                let agreeing = (0..dirs.len())
                    .flat_map(|i| (i + 1..dirs.len()).map(move |j| (i, j)))
                    .find(|&(i, j)| differences(name, host, &dirs[i], &dirs[j]).is_empty());
                match agreeing {
                    Some((i, j)) => {
                        if (i, j) != (0, 1) {
                            eprintln!(
                                "{who}: runs 0 and 1 differed in {:?}; runs {i} and {j} of {} agree",
                                differences(name, host, &dirs[0], &dirs[1]),
                                dirs.len()
                            );
                        }
                        reference.insert((name.clone(), host, kind.label()), dirs[i].clone());
                    }
                    None => failures.push(format!(
                        "{who}: no two of {} runs agree; runs 0 and 1 differ in {:?}",
                        dirs.len(),
                        differences(name, host, &dirs[0], &dirs[1])
                    )),
                }
            }
        }
    }

    // Bridged against direct, and the load runs: each kind loads the other's state.
    let mut loads = Vec::new();
    let mut compared = 0;
    for b in &bundles {
        for host in HOSTS {
            let key = |k: Kind| (b.name.clone(), host, k.label());
            let (Some(d), Some(br)) = (
                reference.get(&key(Kind::Direct)),
                reference.get(&key(Kind::Bridged)),
            ) else {
                continue; // reported above
            };
            check_bridged(&b.name, host, d, br, &mut failures);
            compared += 1;
            for (kind, from) in [(Kind::Bridged, d), (Kind::Direct, br)] {
                let mut job = Job::new(b, host, kind, 0);
                job.load = Some(from.join("state.bin"));
                loads.push(job);
            }
        }
    }
    failures.extend(run_all(&loads, &python, &scratch, workers));
    let mut loaded = 0;
    for job in &loads {
        let dir = job.dir(&scratch);
        if !dir.join("meta.json").is_file() {
            continue; // reported by run_all
        }
        let (name, host) = (job.name.as_str(), job.host);
        check_load_run(name, host, &dir, &mut failures);
        // What the bridged fresh instance that loaded its own state did (equal to the
        // direct one's, or to the direct A's render where `differs_direct` says so).
        let own = &reference[&(job.name.clone(), host, Kind::Bridged.label())];
        for f in LOAD_FILES.iter().filter(|&&f| f != "meta.json") {
            let (x, y) = (own.join(f), dir.join(f));
            if !same(name, host, &x, &y) {
                failures.push(format!(
                    "{host} {name}: a {} instance loading the {} state ({}) wrote {f} unlike \
                     the bridged instance loading its own: {}",
                    job.kind.label(),
                    match job.kind {
                        Kind::Direct => "bridged",
                        Kind::Bridged => "direct",
                    },
                    dir.display(),
                    describe(&x, &y)
                ));
            }
        }
        loaded += 1;
    }

    eprintln!(
        "{} bundles x {} hosts x {} kinds x {RUNS} runs, {compared} bridged/direct comparisons, \
         {loaded} load runs: {:?} ({workers} at a time; scratch {})",
        bundles.len(),
        HOSTS.len(),
        KINDS.len(),
        started.elapsed(),
        scratch.display()
    );
    assert_eq!(
        compared,
        bundles.len() * HOSTS.len(),
        "not every bundle was compared in every host:\n{}",
        failures.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
