//! The measured scenarios. Instances are driven on the calling thread (it
//! is their main and audio thread, as in the test host), except in the
//! concurrency scenario, where each instance lives on a thread of its own.

use crate::pingpong::PingPong;
use crate::stats::{proc_cpu, proc_rss_kib, self_cpu, CpuPerBlock, Summary};
use crate::vst3::Vst3Gain;
use bulkhead_common::shm::doorbell::monotonic_ns;
use bulkhead_common::shm::{AudioLayout, ShmLayout, ShmRegion};
use bulkhead_tests::{
    host_processes_of, AudioAuditCounts, AudioBuffers, HostConfig, Instance, PluginLibrary,
};
use rustix::time::{ClockId, Timespec};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub const SAMPLE_RATE: u32 = 48_000;
pub const FRAMES: [u32; 5] = [32, 64, 128, 512, 4096];
pub const GAIN: &str = "org.bulkhead.sample.gain";
pub const BIGSTATE: &str = "org.bulkhead.sample.bigstate";
pub const MAX_FRAMES: u32 = 4096;

pub fn bridged_id(id: &str) -> String {
    format!("bulkhead.{id}")
}

pub fn progress(what: &str) {
    eprintln!("bulkhead-bench: {what}");
}

/// How long (or how often) each part runs.
pub struct Budget {
    /// Discarded blocks before each measured run (time, back to back).
    pub warmup: Duration,
    /// Measured time per path and block size, back to back…
    pub back_to_back: Duration,
    /// …and at most this many blocks.
    pub max_blocks: usize,
    /// Measured wall time per path and block size, paced…
    pub paced: Duration,
    /// …clamped to this many blocks (min, max).
    pub paced_blocks: (usize, usize),
    pub instantiations: usize,
    pub concurrent: Duration,
    pub param_runs: usize,
    pub state_runs: usize,
}

impl Budget {
    pub fn full() -> Self {
        Self {
            warmup: Duration::from_millis(200),
            back_to_back: Duration::from_secs(1),
            max_blocks: 200_000,
            paced: Duration::from_secs(6),
            paced_blocks: (200, 6_000),
            instantiations: 20,
            concurrent: Duration::from_secs(3),
            param_runs: 7,
            state_runs: 5,
        }
    }

    pub fn quick() -> Self {
        Self {
            warmup: Duration::from_millis(50),
            back_to_back: Duration::from_millis(100),
            max_blocks: 20_000,
            paced: Duration::from_millis(400),
            paced_blocks: (10, 600),
            instantiations: 5,
            concurrent: Duration::from_millis(500),
            param_runs: 2,
            state_runs: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    BackToBack,
    /// One block per block period, like a DAW's audio callback.
    Daw,
}

/// The plugin format a per-block row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Clap,
    Vst3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Direct,
    Bridged,
    /// The bridge with policy `early_wake`.
    BridgedEarlyWake,
    /// The bridge with policy `socket_sync`: every block synchronised by a
    /// socket round trip, as other bridges do.
    SocketSync,
    PingPong,
}

impl Path {
    pub const ALL: [Path; 5] = [
        Path::Direct,
        Path::Bridged,
        Path::BridgedEarlyWake,
        Path::SocketSync,
        Path::PingPong,
    ];
}

/// A bridged copy's audio-path allocation audit after the per-block runs.
pub type Audit = (Format, Path, AudioAuditCounts);

/// Restrictions of the per-block tables (from the command line).
#[derive(Debug, Default)]
pub struct Only {
    pub frames: Option<Vec<u32>>,
    pub paced: bool,
    pub per_block: bool,
    /// Only the state transfer and crash-to-audible figures.
    pub state: bool,
    /// Only the CLAP rows and scenarios (no VST3 rows)…
    pub clap: bool,
    /// …or only the VST3 per-block rows.
    pub vst3: bool,
}

/// The bridged copies the per-block table compares.
pub struct BridgedLibs<'a> {
    pub default: &'a PluginLibrary,
    pub early_wake: &'a PluginLibrary,
    pub socket_sync: &'a PluginLibrary,
}

/// The VST3 gain instances the per-block tables compare.
pub struct Vst3Gains<'a> {
    pub direct: &'a Vst3Gain,
    pub bridged: &'a Vst3Gain,
}

/// One path at one block size and pacing.
pub struct BlockRun {
    pub format: Format,
    pub frames: u32,
    pub pacing: Pacing,
    pub path: Path,
    pub time: Summary,
    pub cpu: CpuPerBlock,
    /// Blocks that came back silent (the bridge's answer to a missed
    /// deadline) or, for the ping-pong, unanswered in time.
    pub missed: usize,
    /// Bridged (default policy, either format) only: p50 in µs of the three legs of a
    /// handoff, from the region's timestamps: ring → host awake, host
    /// awake → host answered, host answered → call returned.
    pub legs: Option<[f64; 3]>,
    /// Ping-pong only: the share of rounds (warm-up included) in which the
    /// child had flagged itself as sleeping when rung, so that the ring made
    /// the wake call.
    pub woke: Option<f64>,
}

pub fn block_period(frames: u32) -> Duration {
    Duration::from_nanos(u64::from(frames) * 1_000_000_000 / u64::from(SAMPLE_RATE))
}

/// Absolute deadlines at `start + k * frames / rate`, computed exactly so
/// that the pacing does not drift.
struct Pacer {
    start_ns: i128,
    frames: i128,
    k: i128,
}

impl Pacer {
    fn new(frames: u32) -> Self {
        // Wake on the deadline, as a realtime audio thread (which has no
        // timer slack) would, not up to 50 µs after it.
        // SAFETY: a plain prctl on the calling thread, no pointers.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
        Self {
            start_ns: i128::from(monotonic_ns()),
            frames: i128::from(frames),
            k: 0,
        }
    }

    /// Sleeps until the next block is due.
    fn wait(&mut self) {
        self.k += 1;
        let due = self.start_ns + self.k * self.frames * 1_000_000_000 / i128::from(SAMPLE_RATE);
        let ts = Timespec {
            tv_sec: (due / 1_000_000_000) as i64,
            tv_nsec: (due % 1_000_000_000) as i64,
        };
        while let Err(rustix::io::Errno::INTR) =
            rustix::thread::clock_nanosleep_absolute(ClockId::Monotonic, &ts)
        {}
    }
}

/// A block of work: given the steady time, runs one block; false when the
/// block was missed.
type Block<'a> = dyn FnMut(i64) -> Res<bool> + 'a;

/// Measured turns per path: the paths of one block size and pacing take
/// turns in this many segments, so that a machine whose speed drifts
/// during the run (a noisy VM) affects them alike.
const ROUNDS: usize = 20;

/// One path being measured, and what its turns gathered. The block is any
/// closure that processes one block (a CLAP instance through the test host,
/// a prepared VST3 `process` call, a ping-pong round), so that every
/// format is measured and paced by the same code.
struct Lane<'a> {
    format: Format,
    path: Path,
    block: Box<Block<'a>>,
    /// The process whose CPU time is counted with this path.
    other_pid: Option<u32>,
    samples: Vec<u64>,
    missed: usize,
    bench_cpu: Duration,
    /// CPU of the other process during this lane's turns.
    other_cpu: Option<Duration>,
    steady: i64,
}

impl<'a> Lane<'a> {
    fn new(
        format: Format,
        path: Path,
        other_pid: Option<u32>,
        block: impl FnMut(i64) -> Res<bool> + 'a,
    ) -> Self {
        Self {
            format,
            path,
            block: Box::new(block),
            other_pid,
            samples: Vec::new(),
            missed: 0,
            bench_cpu: Duration::ZERO,
            other_cpu: other_pid.map(|_| Duration::ZERO),
            steady: 0,
        }
    }

    /// Runs blocks until `blocks` are done or `time` is up; records them
    /// unless this is a warm-up.
    fn turn(
        &mut self,
        frames: u32,
        pacer: &mut Option<Pacer>,
        time: Option<Duration>,
        blocks: usize,
        record: bool,
    ) -> Res<()> {
        let other = self.other_pid.filter(|_| record).and_then(proc_cpu);
        let end = time.map(|t| Instant::now() + t);
        let cpu = self_cpu();
        let mut done = 0;
        while done < blocks && end.is_none_or(|end| Instant::now() < end) {
            if let Some(p) = pacer.as_mut() {
                p.wait();
            }
            let t = Instant::now();
            let ok = (self.block)(self.steady)?;
            let took = t.elapsed().as_nanos() as u64;
            self.steady += i64::from(frames);
            done += 1;
            if record {
                self.samples.push(took);
                self.missed += usize::from(!ok);
            }
        }
        if record {
            self.bench_cpu += self_cpu().saturating_sub(cpu);
            let after = self.other_pid.and_then(proc_cpu);
            self.other_cpu = match (self.other_cpu, other, after) {
                (Some(sum), Some(before), Some(after)) => Some(sum + after.saturating_sub(before)),
                _ => None,
            };
        }
        Ok(())
    }
}

/// What one lane measured.
struct Measured {
    format: Format,
    path: Path,
    time: Summary,
    cpu: CpuPerBlock,
    missed: usize,
}

/// Measures `lanes` at one block size and pacing: each warms up, then they
/// take [`ROUNDS`] turns each. Back to back, every turn starts with a short
/// warm-up of its own, since the other lanes' turns cooled the caches;
/// paced, every block is cold anyway, as in a DAW.
fn measure(
    frames: u32,
    pacing: Pacing,
    budget: &Budget,
    mut lanes: Vec<Lane<'_>>,
) -> Res<Vec<Measured>> {
    let mut pacer = (pacing == Pacing::Daw).then(|| Pacer::new(frames));
    match pacing {
        Pacing::BackToBack => {
            let per_turn = budget.back_to_back / ROUNDS as u32;
            let warm_turn = budget.warmup / ROUNDS as u32;
            let cap = budget.max_blocks.div_ceil(ROUNDS);
            for lane in &mut lanes {
                lane.turn(frames, &mut pacer, Some(budget.warmup), usize::MAX, false)?;
            }
            for _ in 0..ROUNDS {
                for lane in &mut lanes {
                    lane.turn(frames, &mut pacer, Some(warm_turn), usize::MAX, false)?;
                    lane.turn(frames, &mut pacer, Some(per_turn), cap, true)?;
                }
            }
        }
        Pacing::Daw => {
            let period = block_period(frames).as_secs_f64();
            let count =
                |d: Duration, lo, hi| ((d.as_secs_f64() / period).ceil() as usize).clamp(lo, hi);
            let (lo, hi) = budget.paced_blocks;
            let warm = count(budget.warmup, 5, 200);
            let per_turn = count(budget.paced, lo, hi).div_ceil(ROUNDS);
            for lane in &mut lanes {
                lane.turn(frames, &mut pacer, None, warm, false)?;
            }
            for _ in 0..ROUNDS {
                for lane in &mut lanes {
                    lane.turn(frames, &mut pacer, None, per_turn, true)?;
                }
            }
        }
    }
    Ok(lanes
        .into_iter()
        .map(|mut lane| {
            let blocks = lane.samples.len().max(1) as f64;
            let other_us = lane.other_cpu.map(|t| t.as_secs_f64() * 1e6 / blocks);
            Measured {
                format: lane.format,
                path: lane.path,
                time: Summary::of(&mut lane.samples),
                cpu: CpuPerBlock {
                    bench_us: lane.bench_cpu.as_secs_f64() * 1e6 / blocks,
                    other_us,
                },
                missed: lane.missed,
            }
        })
        .collect())
}

/// An instance, activated for up to 4096 frames at 48 kHz and processing.
fn started(lib: &PluginLibrary, id: &str) -> Res<Instance> {
    let mut inst =
        Instance::new(lib, id, HostConfig::default()).map_err(|e| format!("creating {id}: {e}"))?;
    inst.activate(f64::from(SAMPLE_RATE), 1, MAX_FRAMES)
        .map_err(|e| format!("activating {id}: {e}"))?;
    inst.start_processing()
        .map_err(|e| format!("starting {id}: {e}"))?;
    Ok(inst)
}

pub fn my_hosts() -> HashSet<u32> {
    host_processes_of(std::process::id()).into_iter().collect()
}

/// Like [`started`], for a bridged plugin; also returns the pid of the host
/// process it spawned.
/// This process's descriptors of bridge audio regions.
pub fn audio_region_fds() -> HashSet<i32> {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| {
                let e = e.ok()?;
                let link = std::fs::read_link(e.path()).ok()?;
                link.to_string_lossy()
                    .contains("bulkhead-audio")
                    .then(|| e.file_name().to_str()?.parse().ok())
                    .flatten()
            })
            .collect()
        })
        .unwrap_or_default()
}

/// A read-only view of the audio region a bridged instance created, to
/// read the handoff timestamps the bridge and host leave there.
pub fn open_new_region(before: &HashSet<i32>) -> Res<ShmRegion> {
    let new: Vec<i32> = audio_region_fds().difference(before).copied().collect();
    let [fd] = new[..] else {
        return Err(format!("expected one new audio region, found {new:?}").into());
    };
    // SAFETY: the descriptor is open in this process (the bridge holds it)
    // for as long as the instance lives; we only duplicate it.
    let dup = rustix::io::dup(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) })?;
    let layout = ShmLayout::compute(&AudioLayout {
        inputs: vec![2],
        outputs: vec![2],
        max_frames: MAX_FRAMES,
    })?;
    Ok(ShmRegion::open(dup, &layout)?)
}

/// `block`, recording after each call the three legs of its handoff from
/// the timestamps the bridge and the host left in `region`.
fn with_legs<'a>(
    mut block: impl FnMut(i64) -> Res<bool> + 'a,
    region: &'a ShmRegion,
    legs: &'a mut Vec<[u64; 3]>,
) -> impl FnMut(i64) -> Res<bool> + 'a {
    let c = region.control();
    move |steady| {
        let ok = block(steady)?;
        let end = monotonic_ns();
        let ld = |w: &std::sync::atomic::AtomicU64| w.load(Ordering::Relaxed);
        let (rung, arrived, answered) = (ld(&c.rung_ns), ld(&c.arrived_ns), ld(&c.answered_ns));
        legs.push([
            arrived.saturating_sub(rung),
            answered.saturating_sub(arrived),
            end.saturating_sub(answered),
        ]);
        Ok(ok)
    }
}

/// p50 of each handoff leg over the last `n` blocks, in µs.
fn legs_p50(legs: &[[u64; 3]], n: usize) -> [f64; 3] {
    let tail = &legs[legs.len().saturating_sub(n)..];
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let mut v: Vec<u64> = tail.iter().map(|l| l[i]).collect();
        *o = Summary::of(&mut v).p50;
    }
    out
}

fn started_bridged(lib: &PluginLibrary, id: &str) -> Res<(Instance, u32)> {
    let before = my_hosts();
    let inst = started(lib, id)?;
    let new: Vec<u32> = my_hosts().difference(&before).copied().collect();
    match new[..] {
        [pid] => Ok((inst, pid)),
        _ => Err(format!("expected one new bulkhead-host process for {id}, found {new:?}").into()),
    }
}

/// Waits (up to 2 s) until the host processes not in `keep` are gone, so
/// that one run's teardown does not compete with the next run.
fn await_hosts_gone(keep: &HashSet<u32>) {
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end && my_hosts().difference(keep).next().is_some() {
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn stereo_input(inst: &Instance, frames: u32) -> AudioBuffers<f32> {
    let mut inputs = inst.input_buffers::<f32>(frames as usize);
    for (i, s) in inputs.ports.iter_mut().flatten().flatten().enumerate() {
        *s = 0.25 + (i % 97) as f32 / 400.0;
    }
    inputs
}

/// One gain block per call; false when the output came back silent.
fn gain_block(inst: &mut Instance, frames: u32) -> impl FnMut(i64) -> Res<bool> + '_ {
    let inputs = stereo_input(inst, frames);
    let mut outputs = inst.output_buffers::<f32>(frames as usize);
    move |steady| {
        inst.process_f32(frames, &inputs, &mut outputs, &[], Some(steady), None)?;
        let out = outputs.channel(0, 0);
        Ok(out[0] != 0.0 || out[frames as usize - 1] != 0.0)
    }
}

/// The CLAP instances of the per-block tables, started.
struct ClapLanes {
    direct: Instance,
    default: Instance,
    host: u32,
    /// The default bridged copy's audio region (for the handoff legs).
    region: ShmRegion,
    early: Instance,
    early_host: u32,
    socket: Instance,
    socket_host: u32,
    pp: PingPong,
}

impl ClapLanes {
    fn start(direct_lib: &PluginLibrary, bridged: &BridgedLibs) -> Res<Self> {
        let direct = started(direct_lib, GAIN)?;
        let id = bridged_id(GAIN);
        let regions_before = audio_region_fds();
        let (default, host) = started_bridged(bridged.default, &id)?;
        let region = open_new_region(&regions_before)?;
        let (early, early_host) = started_bridged(bridged.early_wake, &id)?;
        let (socket, socket_host) = started_bridged(bridged.socket_sync, &id)?;
        Ok(Self {
            direct,
            default,
            host,
            region,
            early,
            early_host,
            socket,
            socket_host,
            pp: PingPong::spawn()?,
        })
    }

    /// The lanes of one block size; the default bridged lane records its
    /// handoff legs in `legs`.
    fn lanes<'a>(&'a mut self, frames: u32, legs: &'a mut Vec<[u64; 3]>) -> Vec<Lane<'a>> {
        let Self {
            direct,
            default,
            host,
            region,
            early,
            early_host,
            socket,
            socket_host,
            pp,
        } = self;
        let pp_pid = pp.pid();
        vec![
            Lane::new(Format::Clap, Path::Direct, None, gain_block(direct, frames)),
            Lane::new(
                Format::Clap,
                Path::Bridged,
                Some(*host),
                with_legs(gain_block(default, frames), region, legs),
            ),
            Lane::new(
                Format::Clap,
                Path::BridgedEarlyWake,
                Some(*early_host),
                gain_block(early, frames),
            ),
            Lane::new(
                Format::Clap,
                Path::SocketSync,
                Some(*socket_host),
                gain_block(socket, frames),
            ),
            Lane::new(Format::Clap, Path::PingPong, Some(pp_pid), |_| {
                Ok(pp.round_trip()?)
            }),
        ]
    }

    fn audits(&self) -> Vec<Audit> {
        [
            (Path::Bridged, &self.default),
            (Path::BridgedEarlyWake, &self.early),
            (Path::SocketSync, &self.socket),
        ]
        .into_iter()
        .filter_map(|(path, inst)| Some((Format::Clap, path, inst.audio_audit()?)))
        .collect()
    }
}

/// Direct, bridged and ping-pong (CLAP) and direct and bridged (VST3), for
/// every block size, in both pacings. All lanes of one block size and
/// pacing take turns, so the CLAP and VST3 rows see the same machine.
pub fn per_block(
    clap: Option<(&PluginLibrary, &BridgedLibs)>,
    vst3: Option<&Vst3Gains>,
    budget: &Budget,
    only: &Only,
) -> Res<(Vec<BlockRun>, Vec<Audit>)> {
    let mut clap = clap
        .map(|(direct, bridged)| ClapLanes::start(direct, bridged))
        .transpose()?;
    let mut runs = Vec::new();
    let pacings: &[Pacing] = if only.paced {
        &[Pacing::Daw]
    } else {
        &[Pacing::BackToBack, Pacing::Daw]
    };
    for &pacing in pacings {
        for &frames in only.frames.as_deref().unwrap_or(&FRAMES) {
            progress(&format!("per block: {pacing:?}, {frames} frames"));
            let mut legs: Vec<[u64; 3]> = Vec::new();
            let mut vst3_legs: Vec<[u64; 3]> = Vec::new();
            let mut lanes = Vec::new();
            if let Some(c) = clap.as_mut() {
                c.pp.take_counts();
                lanes.extend(c.lanes(frames, &mut legs));
            }
            if let Some(v) = vst3 {
                lanes.push(Lane::new(
                    Format::Vst3,
                    Path::Direct,
                    None,
                    v.direct.block(frames),
                ));
                let bridged = v.bridged.block(frames);
                lanes.push(match &v.bridged.region {
                    Some(region) => Lane::new(
                        Format::Vst3,
                        Path::Bridged,
                        v.bridged.host,
                        with_legs(bridged, region, &mut vst3_legs),
                    ),
                    None => Lane::new(Format::Vst3, Path::Bridged, v.bridged.host, bridged),
                });
            }
            let measured = measure(frames, pacing, budget, lanes)?;
            let (rounds, woke) = clap.as_mut().map_or((0, 0), |c| c.pp.take_counts());
            for m in measured {
                let clap_path = |p| m.format == Format::Clap && m.path == p;
                let legs = match m.format {
                    Format::Clap => &legs,
                    Format::Vst3 => &vst3_legs,
                };
                let has_legs = m.path == Path::Bridged && !legs.is_empty();
                runs.push(BlockRun {
                    format: m.format,
                    frames,
                    pacing,
                    path: m.path,
                    time: m.time,
                    cpu: m.cpu,
                    missed: m.missed,
                    legs: has_legs.then(|| legs_p50(legs, m.time.n)),
                    woke: clap_path(Path::PingPong).then(|| woke as f64 / rounds.max(1) as f64),
                });
            }
        }
    }
    let mut audits = clap.as_ref().map(ClapLanes::audits).unwrap_or_default();
    if let Some(counts) = vst3.and_then(|v| v.bridged.audit()) {
        audits.push((Format::Vst3, Path::Bridged, counts));
    }
    Ok((runs, audits))
}

/// Time to create and activate an instance.
pub fn instantiation(lib: &PluginLibrary, id: &str, runs: usize) -> Res<Summary> {
    let keep = my_hosts();
    let mut times = Vec::with_capacity(runs);
    // One extra, discarded, first run.
    for run in 0..=runs {
        let t = Instant::now();
        let mut inst = Instance::new(lib, id, HostConfig::default())
            .map_err(|e| format!("creating {id}: {e}"))?;
        inst.activate(f64::from(SAMPLE_RATE), 1, MAX_FRAMES)
            .map_err(|e| format!("activating {id}: {e}"))?;
        let took = t.elapsed();
        drop(inst);
        await_hosts_gone(&keep);
        if run > 0 {
            times.push(took);
        }
    }
    Ok(Summary::of_durations(&times))
}

/// [VmRSS, RssAnon, RssFile, RssShmem] in KiB of a host process holding an
/// active gain instance that has processed a few blocks.
pub fn host_memory(bridged_lib: &PluginLibrary) -> Res<[u64; 4]> {
    let (mut inst, pid) = started_bridged(bridged_lib, &bridged_id(GAIN))?;
    let mut block = gain_block(&mut inst, 512);
    for t in 0..200 {
        block(t * 512)?;
    }
    // Let the host settle after the burst before reading.
    std::thread::sleep(Duration::from_millis(50));
    Ok(proc_rss_kib(pid).ok_or("cannot read the host's /proc/<pid>/status")?)
}

pub struct Concurrent {
    pub instances: usize,
    pub frames: u32,
    pub blocks_per_s: f64,
    pub time: Summary,
    /// CPU of the bench process and every host process, per block.
    pub cpu_us: f64,
    pub missed: usize,
}

/// `n` bridged gain instances, one thread each, processing back to back at
/// once for `dur`.
pub fn concurrent(
    bridged_lib: &PluginLibrary,
    n: usize,
    frames: u32,
    dur: Duration,
) -> Res<Concurrent> {
    let before = my_hosts();
    let ready = Arc::new(Barrier::new(n + 1));
    let go = Arc::new(Barrier::new(n + 1));
    let done = Arc::new(Barrier::new(n + 1));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (lib, ready, go, done) =
                (bridged_lib.clone(), ready.clone(), go.clone(), done.clone());
            std::thread::spawn(move || -> Result<(Vec<u64>, usize), String> {
                // Instance is !Send: it is created, used and dropped here.
                let mut made = started(&lib, &bridged_id(GAIN)).map_err(|e| e.to_string());
                ready.wait();
                go.wait();
                let result = made.as_mut().map_err(|e| e.clone()).and_then(|inst| {
                    let mut block = gain_block(inst, frames);
                    let (mut times, mut missed, mut steady) = (Vec::new(), 0, 0);
                    let end = Instant::now() + dur;
                    while Instant::now() < end {
                        let t = Instant::now();
                        let ok = block(steady).map_err(|e| e.to_string())?;
                        times.push(t.elapsed().as_nanos() as u64);
                        missed += usize::from(!ok);
                        steady += i64::from(frames);
                    }
                    Ok((times, missed))
                });
                done.wait();
                drop(made);
                result
            })
        })
        .collect();
    ready.wait();
    let hosts: Vec<u32> = my_hosts().difference(&before).copied().collect();
    let host_cpu = |hosts: &[u32]| hosts.iter().filter_map(|&p| proc_cpu(p)).sum::<Duration>();
    let (cpu0, hosts0) = (self_cpu(), host_cpu(&hosts));
    go.wait();
    let t0 = Instant::now();
    done.wait();
    let elapsed = t0.elapsed();
    let (cpu1, hosts1) = (self_cpu(), host_cpu(&hosts));
    let mut all = Vec::new();
    let mut missed = 0;
    for t in threads {
        let (times, m) = t.join().map_err(|_| "a concurrency thread panicked")??;
        all.extend(times);
        missed += m;
    }
    await_hosts_gone(&before);
    let blocks = all.len().max(1);
    let cpu = (cpu1 - cpu0) + hosts1.saturating_sub(hosts0);
    Ok(Concurrent {
        instances: n,
        frames,
        blocks_per_s: all.len() as f64 / elapsed.as_secs_f64(),
        time: Summary::of(&mut all),
        cpu_us: cpu.as_secs_f64() * 1e6 / blocks as f64,
        missed,
    })
}

pub struct ParamTimes {
    pub count: usize,
    pub first: Summary,
    pub again: Summary,
}

/// `Instance::params()` (count + every info) right after creation, and again.
pub fn params(lib: &PluginLibrary, id: &str, runs: usize) -> Res<ParamTimes> {
    let keep = my_hosts();
    let (mut first, mut again, mut count) = (Vec::new(), Vec::new(), 0);
    for _ in 0..runs {
        let mut inst = Instance::new(lib, id, HostConfig::default())
            .map_err(|e| format!("creating {id}: {e}"))?;
        let t = Instant::now();
        count = inst.params().len();
        first.push(t.elapsed());
        let t = Instant::now();
        inst.params();
        again.push(t.elapsed());
        drop(inst);
        await_hosts_gone(&keep);
    }
    Ok(ParamTimes {
        count,
        first: Summary::of_durations(&first),
        again: Summary::of_durations(&again),
    })
}

/// A bigstate state: 2,000 parameter values and a 16 MiB payload, in the
/// format documented in `tests/tests/state_roundtrip.rs`.
pub fn big_state() -> Vec<u8> {
    let mut s = b"BHBIG001".to_vec();
    s.extend_from_slice(&2000u32.to_le_bytes());
    for i in 0..2000u32 {
        s.extend_from_slice(&(f64::from(i % 200) / 100.0 - 1.0).to_le_bytes());
    }
    let payload_len = 16usize << 20;
    s.extend_from_slice(&(payload_len as u64).to_le_bytes());
    s.extend((0..payload_len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    s
}

pub struct StateTimes {
    pub bytes: usize,
    /// The first load into a new instance (its process's heap not grown
    /// yet; bridged: no pages prepared).
    pub first_load: Duration,
    pub load: Summary,
    pub save: Summary,
}

/// Runs left out before the ones measured: the plugin's first loads grow
/// its process's heap (fresh pages, faulted in one by one), direct or
/// bridged, and the bridge prepares pages after the first load.
const STATE_WARMUP: usize = 3;

/// Loading and saving `state` on one instance, `runs` times each after the
/// warm-up.
pub fn state(lib: &PluginLibrary, id: &str, runs: usize, state: &[u8]) -> Res<StateTimes> {
    let mut inst =
        Instance::new(lib, id, HostConfig::default()).map_err(|e| format!("creating {id}: {e}"))?;
    let (mut load, mut save) = (Vec::new(), Vec::new());
    let mut first_load = Duration::ZERO;
    for run in 0..runs + STATE_WARMUP {
        let t = Instant::now();
        inst.load_state(state)
            .map_err(|e| format!("loading state into {id}: {e}"))?;
        let loaded = t.elapsed();
        let t = Instant::now();
        let saved = inst
            .save_state()
            .map_err(|e| format!("saving state of {id}: {e}"))?;
        let saved_in = t.elapsed();
        if saved.len() != state.len() {
            return Err(format!("{id} saved {} bytes, loaded {}", saved.len(), state.len()).into());
        }
        if run == 0 {
            first_load = loaded;
        }
        if run >= STATE_WARMUP {
            load.push(loaded);
            save.push(saved_in);
        }
    }
    Ok(StateTimes {
        bytes: state.len(),
        first_load,
        load: Summary::of_durations(&load),
        save: Summary::of_durations(&save),
    })
}
