//! Percentiles of timed samples, and CPU time of this process (getrusage)
//! and of another process (`/proc/<pid>/stat`, in clock ticks).

use std::time::Duration;

/// Percentiles of a set of samples, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Summary {
    /// Nearest-rank percentiles of `samples_ns` (sorted in place).
    pub fn of(samples_ns: &mut [u64]) -> Self {
        let n = samples_ns.len();
        if n == 0 {
            return Self::default();
        }
        samples_ns.sort_unstable();
        let at = |q: f64| {
            let rank = (q * n as f64).ceil() as usize;
            samples_ns[rank.clamp(1, n) - 1] as f64 / 1_000.0
        };
        Self {
            n,
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: samples_ns[n - 1] as f64 / 1_000.0,
        }
    }

    /// Percentiles of whole durations (for the slow, few-sample rows).
    pub fn of_durations(samples: &[Duration]) -> Self {
        let mut ns: Vec<u64> = samples.iter().map(|d| d.as_nanos() as u64).collect();
        Self::of(&mut ns)
    }
}

fn rusage(who: libc::c_int) -> Duration {
    // SAFETY: `rusage` is plain old data; all zeroes is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a pointer to a `rusage` we own; the call only writes that
    // struct.
    let rc = unsafe { libc::getrusage(who, &mut ru) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time (user + system) of every thread of this process so far.
pub fn self_cpu() -> Duration {
    rusage(libc::RUSAGE_SELF)
}

/// CPU time of every live thread of process `pid` so far, from
/// `/proc/<pid>/task/*/schedstat` (nanoseconds on a CPU; far finer than the
/// clock ticks of `/proc/<pid>/stat`).
pub fn proc_cpu(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns = 0u64;
    for task in tasks.flatten() {
        // A thread may end between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        ns += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(ns))
}

/// Resident memory of process `pid` from `/proc/<pid>/status`, in KiB:
/// (VmRSS, RssAnon, RssFile, RssShmem).
pub fn proc_rss_kib(pid: u32) -> Option<[u64; 4]> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some([
        field("VmRSS:")?,
        field("RssAnon:")?,
        field("RssFile:")?,
        field("RssShmem:")?,
    ])
}

/// CPU used per block by the bench process and, optionally, one other
/// process (a bulkhead host or the ping-pong child).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuPerBlock {
    /// Microseconds of this process's CPU per block.
    pub bench_us: f64,
    /// Microseconds of the other process's CPU per block.
    pub other_us: Option<f64>,
}

/// Microseconds with a precision that suits their size.
pub fn fmt_us(us: f64) -> String {
    let a = us.abs();
    if a >= 1000.0 {
        format!("{us:.0}")
    } else if a >= 100.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.2}")
    }
}

/// Milliseconds from microseconds, two decimals.
pub fn fmt_ms(us: f64) -> String {
    format!("{:.2}", us / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=1000).map(|i| i * 1000).collect();
        let s = Summary::of(&mut v);
        assert_eq!(s.n, 1000);
        assert_eq!(s.p50, 500.0);
        assert_eq!(s.p99, 990.0);
        assert_eq!(s.p999, 999.0);
        assert_eq!(s.max, 1000.0);
    }

    #[test]
    fn own_cpu_and_memory_are_readable() {
        // Burn 5 ms of this thread's own CPU (not wall time: a preempted
        // spin would burn less); this thread is alive when the process's
        // threads are summed, so its share is in the sum.
        let burn = Duration::from_millis(5);
        while rusage(libc::RUSAGE_THREAD) < burn {
            std::hint::black_box(0u64);
        }
        assert!(proc_cpu(std::process::id()).is_some_and(|t| t >= burn));
        assert!(proc_rss_kib(std::process::id()).is_some_and(|r| r[0] > 0));
    }
}
