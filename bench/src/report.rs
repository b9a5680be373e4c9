//! Turns the results into tables, rendered as aligned text or as markdown.

use crate::scenarios::{
    block_period, Audit, BlockRun, Concurrent, Format, Pacing, ParamTimes, Path, StateTimes, FRAMES,
};
use crate::stats::{fmt_ms, fmt_us, Summary};

/// Everything one run measured.
pub struct Results {
    /// Lines describing the machine and the run.
    pub context: Vec<String>,
    pub blocks: Vec<BlockRun>,
    /// The bridged instances' audio-path allocation audits after the
    /// per-block runs.
    pub audits: Vec<Audit>,
    /// (path, create + activate)
    pub instantiation: Vec<(&'static str, Summary)>,
    /// [VmRSS, RssAnon, RssFile, RssShmem] in KiB.
    pub host_memory: Option<[u64; 4]>,
    pub concurrent: Vec<Concurrent>,
    pub params: Vec<(&'static str, ParamTimes)>,
    pub state: Vec<(&'static str, StateTimes)>,
}

impl Results {
    /// Nothing measured yet.
    pub fn new(context: Vec<String>) -> Self {
        Self {
            context,
            blocks: Vec::new(),
            audits: Vec::new(),
            instantiation: Vec::new(),
            host_memory: None,
            concurrent: Vec::new(),
            params: Vec::new(),
            state: Vec::new(),
        }
    }
}

/// A table; a row with a single cell is a note spanning the table.
pub struct Table {
    pub title: String,
    pub head: Vec<&'static str>,
    /// How many leading columns are text (left-aligned).
    pub left: usize,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn text(&self) -> String {
        let cols = self.head.len();
        let mut width: Vec<usize> = self.head.iter().map(|h| h.chars().count()).collect();
        for row in self.rows.iter().filter(|r| r.len() == cols) {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let parts: Vec<String> = cells
                .iter()
                .zip(&width)
                .enumerate()
                .map(|(i, (c, &w))| {
                    if i < self.left {
                        format!("{c:<w$}")
                    } else {
                        format!("{c:>w$}")
                    }
                })
                .collect();
            format!("  {}", parts.join("  ").trim_end())
        };
        let head: Vec<String> = self.head.iter().map(|h| h.to_string()).collect();
        let rule: Vec<String> = width.iter().map(|&w| "-".repeat(w)).collect();
        let mut out = format!("{}\n{}\n{}\n", self.title, line(&head), line(&rule));
        for row in &self.rows {
            if row.len() == cols {
                out += &line(row);
            } else {
                out += &format!("  {}", row.join(" "));
            }
            out.push('\n');
        }
        out
    }

    pub fn markdown(&self) -> String {
        let cols = self.head.len();
        let mut out = format!("### {}\n\n| {} |\n", self.title, self.head.join(" | "));
        out += &format!(
            "|{}\n",
            (0..cols)
                .map(|i| if i < self.left { "---|" } else { "---:|" })
                .collect::<String>()
        );
        for row in &self.rows {
            let mut cells = row.clone();
            if cells.len() != cols {
                cells = vec![format!("**{}**", row.join(" "))];
                cells.resize(cols, String::new());
            }
            out += &format!("| {} |\n", cells.join(" | "));
        }
        out
    }
}

fn path_name(p: Path) -> &'static str {
    match p {
        Path::Direct => "direct (in-process)",
        Path::Bridged => "bridged",
        Path::BridgedEarlyWake => "bridged, early_wake on",
        Path::SocketSync => "bridged, socket-synchronised",
        Path::PingPong => "shm futex ping-pong",
    }
}

/// A tail percentile; marked `*` when there are too few blocks for it to
/// be anything but the maximum.
fn tail(value: f64, q: f64, n: usize) -> String {
    let star = if (q * n as f64).ceil() as usize >= n {
        "*"
    } else {
        ""
    };
    format!("{}{star}", fmt_us(value))
}

fn pacing_cell(frames: u32, pacing: Pacing) -> String {
    match pacing {
        Pacing::BackToBack => frames.to_string(),
        Pacing::Daw => format!(
            "{frames} every {:.3} ms",
            block_period(frames).as_secs_f64() * 1e3
        ),
    }
}

/// The run of `format`, `path` at `frames` and `pacing`, if measured.
fn find(r: &Results, format: Format, frames: u32, pacing: Pacing, path: Path) -> Option<&BlockRun> {
    r.blocks
        .iter()
        .find(|b| b.format == format && b.frames == frames && b.pacing == pacing && b.path == path)
}

fn block_table(r: &Results, format: Format, pacing: Pacing) -> Table {
    let what = match pacing {
        Pacing::BackToBack => "Per-block time seen by the calling host, back to back (µs)",
        Pacing::Daw => {
            "Per-block time seen by the calling host, paced like a 48 kHz audio callback (µs)"
        }
    };
    let title = match format {
        Format::Clap => what.to_string(),
        Format::Vst3 => format!("VST3 gain: {}{}", what[..1].to_lowercase(), &what[1..]),
    };
    let mut rows = Vec::new();
    for frames in FRAMES {
        let frames_cell = pacing_cell(frames, pacing);
        let find = |path| find(r, format, frames, pacing, path);
        for path in Path::ALL {
            let Some(b) = find(path) else { continue };
            let name = match b.woke {
                Some(w) => format!("{} (wake calls {:.0}%)", path_name(path), w * 100.0),
                None => path_name(path).into(),
            };
            rows.push(vec![
                frames_cell.clone(),
                name,
                b.time.n.to_string(),
                fmt_us(b.time.p50),
                tail(b.time.p99, 0.99, b.time.n),
                tail(b.time.p999, 0.999, b.time.n),
                fmt_us(b.cpu.bench_us),
                b.cpu.other_us.map_or("-".into(), fmt_us),
                b.missed.to_string(),
            ]);
            if path == Path::Bridged {
                if let Some(d) = find(Path::Direct) {
                    let diff = |a: f64, b: f64| format!("{:+.2}", a - b);
                    rows.push(vec![
                        frames_cell.clone(),
                        "  bridge adds (bridged - direct)".into(),
                        String::new(),
                        diff(b.time.p50, d.time.p50),
                        diff(b.time.p99, d.time.p99),
                        diff(b.time.p999, d.time.p999),
                        diff(b.cpu.bench_us, d.cpu.bench_us),
                        String::new(),
                        String::new(),
                    ]);
                }
            }
        }
    }
    Table {
        title,
        head: vec![
            "frames",
            "path",
            "blocks",
            "p50",
            "p99",
            "p99.9",
            "bench CPU/blk",
            "other proc CPU/blk",
            "missed",
        ],
        left: 2,
        rows,
    }
}

/// The paced tail of the futex handoff against the socket round trip other
/// bridges use, measured in the same turns (the target: no worse).
fn tail_table(r: &Results) -> Table {
    let rows = FRAMES
        .iter()
        .filter_map(|&frames| {
            let find = |path| find(r, Format::Clap, frames, Pacing::Daw, path);
            let (b, s) = (find(Path::Bridged)?, find(Path::SocketSync)?);
            let verdict = if b.time.p99 <= s.time.p99 {
                "no worse"
            } else {
                "WORSE"
            };
            Some(vec![
                frames.to_string(),
                tail(b.time.p99, 0.99, b.time.n),
                tail(s.time.p99, 0.99, s.time.n),
                format!("{:+.2}", b.time.p99 - s.time.p99),
                verdict.into(),
            ])
        })
        .collect();
    Table {
        title: "Paced p99: futex handoff (bridged) against the socket round trip (µs)".into(),
        head: vec![
            "frames",
            "bridged p99",
            "socket-synchronised p99",
            "difference",
            "bridged is",
        ],
        left: 1,
        rows,
    }
}

/// What the bridge adds per block (bridged − direct, each format's own
/// rows, measured in the same turns), CLAP beside VST3.
fn formats_table(r: &Results) -> Table {
    let mut rows = Vec::new();
    for pacing in [Pacing::BackToBack, Pacing::Daw] {
        for frames in FRAMES {
            let adds = |format| {
                let d = find(r, format, frames, pacing, Path::Direct)?;
                let b = find(r, format, frames, pacing, Path::Bridged)?;
                Some((b.time.p50 - d.time.p50, b.time.p99 - d.time.p99))
            };
            let (Some(c), Some(v)) = (adds(Format::Clap), adds(Format::Vst3)) else {
                continue;
            };
            let pacing_name = match pacing {
                Pacing::BackToBack => "back to back",
                Pacing::Daw => "paced",
            };
            let signed = |x: f64| format!("{x:+.2}");
            rows.push(vec![
                frames.to_string(),
                pacing_name.into(),
                signed(c.0),
                signed(v.0),
                signed(c.1),
                signed(v.1),
            ]);
        }
    }
    Table {
        title: "Bridge adds (bridged − direct), CLAP against VST3, same turns (µs)".into(),
        head: vec![
            "frames", "pacing", "CLAP p50", "VST3 p50", "CLAP p99", "VST3 p99",
        ],
        left: 2,
        rows,
    }
}

/// The bridged block split into the legs the region's timestamps show.
fn legs_table(r: &Results) -> Table {
    // CLAP's rows first, then VST3's.
    let rows = [Format::Clap, Format::Vst3]
        .into_iter()
        .flat_map(|f| r.blocks.iter().filter(move |b| b.format == f))
        .filter_map(|b| {
            let [wake, work, back] = b.legs?;
            let pacing = match (b.pacing, b.format) {
                (Pacing::BackToBack, Format::Clap) => "back to back",
                (Pacing::Daw, Format::Clap) => "paced",
                (Pacing::BackToBack, Format::Vst3) => "back to back, VST3 gain",
                (Pacing::Daw, Format::Vst3) => "paced, VST3 gain",
            };
            let rest = b.time.p50 - wake - work - back;
            Some(vec![
                b.frames.to_string(),
                pacing.into(),
                fmt_us(b.time.p50),
                fmt_us(wake),
                fmt_us(work),
                fmt_us(back),
                fmt_us(rest),
            ])
        })
        .collect();
    Table {
        title: "Where a bridged block's time goes, p50 of each leg (µs)".into(),
        head: vec![
            "frames",
            "pacing",
            "whole call",
            "ring → host awake",
            "host: events + plugin process()",
            "answer → call returns (bridge copy-out, caller)",
            "rest (caller, bridge copy-in, before ring)",
        ],
        left: 2,
        rows,
    }
}

fn instantiation_table(r: &Results) -> Table {
    Table {
        title: "Instantiation: create + activate, gain (ms)".into(),
        head: vec!["path", "runs", "p50", "max"],
        left: 1,
        rows: r
            .instantiation
            .iter()
            .map(|(path, s)| {
                vec![
                    path.to_string(),
                    s.n.to_string(),
                    fmt_ms(s.p50),
                    fmt_ms(s.max),
                ]
            })
            .collect(),
    }
}

fn memory_table(r: &Results) -> Table {
    let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    Table {
        title: "Resident memory of one host process holding an active gain instance (MiB)".into(),
        head: vec!["process", "VmRSS", "RssAnon", "RssFile", "RssShmem"],
        left: 1,
        rows: r
            .host_memory
            .map(|[rss, anon, file, shmem]| {
                vec![
                    "bulkhead-host + gain".into(),
                    mib(rss),
                    mib(anon),
                    mib(file),
                    mib(shmem),
                ]
            })
            .into_iter()
            .collect(),
    }
}

fn concurrent_table(r: &Results) -> Table {
    Table {
        title: "Bridged gain instances processing at once, one thread each, back to back".into(),
        head: vec![
            "instances",
            "frames",
            "blocks/s total",
            "per-block p50 µs",
            "p99 µs",
            "CPU µs/blk (bench + hosts)",
            "missed",
        ],
        left: 0,
        rows: r
            .concurrent
            .iter()
            .map(|c| {
                vec![
                    c.instances.to_string(),
                    c.frames.to_string(),
                    format!("{:.0}", c.blocks_per_s),
                    fmt_us(c.time.p50),
                    fmt_us(c.time.p99),
                    fmt_us(c.cpu_us),
                    c.missed.to_string(),
                ]
            })
            .collect(),
    }
}

fn params_table(r: &Results) -> Table {
    Table {
        title: "Parameter infos of bigstate (count + every info), fresh instance (ms)".into(),
        head: vec![
            "path",
            "params",
            "runs",
            "first call p50",
            "repeat call p50",
        ],
        left: 1,
        rows: r
            .params
            .iter()
            .map(|(path, p)| {
                vec![
                    path.to_string(),
                    p.count.to_string(),
                    p.first.n.to_string(),
                    fmt_ms(p.first.p50),
                    fmt_ms(p.again.p50),
                ]
            })
            .collect(),
    }
}

fn state_table(r: &Results) -> Table {
    Table {
        title: "State transfer, bigstate (ms)".into(),
        head: vec!["path", "bytes", "runs", "load p50", "save p50"],
        left: 1,
        rows: r
            .state
            .iter()
            .map(|(path, s)| {
                vec![
                    path.to_string(),
                    s.bytes.to_string(),
                    s.load.n.to_string(),
                    fmt_ms(s.load.p50),
                    fmt_ms(s.save.p50),
                ]
            })
            .collect(),
    }
}

fn audit_table(r: &Results) -> Table {
    Table {
        title: "Allocations on the audio path over the per-block runs (bulkhead.audio-audit/1)"
            .into(),
        head: vec![
            "bridged copy",
            "bridge calls",
            "bridge allocations",
            "host operations",
            "host allocations",
        ],
        left: 1,
        rows: r
            .audits
            .iter()
            .map(|(format, path, a)| {
                let name = match format {
                    Format::Clap => path_name(*path).to_string(),
                    Format::Vst3 => format!("VST3 gain, {}", path_name(*path)),
                };
                vec![
                    name,
                    a.bridge_sections.to_string(),
                    a.bridge_allocations.to_string(),
                    a.host_sections.to_string(),
                    a.host_allocations.to_string(),
                ]
            })
            .collect(),
    }
}

fn tables(r: &Results) -> Vec<Table> {
    vec![
        block_table(r, Format::Clap, Pacing::BackToBack),
        block_table(r, Format::Clap, Pacing::Daw),
        tail_table(r),
        legs_table(r),
        block_table(r, Format::Vst3, Pacing::BackToBack),
        block_table(r, Format::Vst3, Pacing::Daw),
        formats_table(r),
        audit_table(r),
        instantiation_table(r),
        memory_table(r),
        concurrent_table(r),
        params_table(r),
        state_table(r),
    ]
    .into_iter()
    .filter(|t| !t.rows.is_empty())
    .collect()
}

const NOTES: &str = "\
*: too few blocks for this percentile, so the value is the maximum.
bench CPU/blk: getrusage(RUSAGE_SELF) delta of the bench process (all threads) per block;
  on the \"bridge adds\" rows, bridged minus direct.
other proc CPU/blk: CPU time of the bulkhead-host process (bridged) or the ping-pong child during
  the path's turns, per block, from /proc/PID/task/*/schedstat (nanoseconds, all threads).
missed: blocks that came back silent (bridged) or unanswered within 250 ms (ping-pong).
wake calls: share of ping-pong rounds (warm-up included) in which the child had flagged itself
  as about to sleep when rung, so that the ring made the futex wake call.";

pub fn text(r: &Results) -> String {
    let mut out = String::new();
    for line in &r.context {
        out += line;
        out.push('\n');
    }
    for t in tables(r) {
        out.push('\n');
        out += &t.text();
    }
    out += &format!("\n{NOTES}\n");
    out
}

pub fn markdown(r: &Results) -> String {
    let mut out = String::new();
    for line in &r.context {
        out += &format!("- {line}\n");
    }
    for t in tables(r) {
        out.push('\n');
        out += &t.markdown();
    }
    // One list item per note; indented lines continue the previous one.
    out += "\n";
    for line in NOTES.lines() {
        match line.strip_prefix("  ") {
            Some(more) => out += &format!(" {more}"),
            None => match line.strip_prefix('*') {
                Some(rest) => out += &format!("\n- \\*{rest}"),
                None => out += &format!("\n- {line}"),
            },
        }
    }
    out.push('\n');
    out
}
