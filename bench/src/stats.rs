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

/// Length of one `/proc` clock tick.
pub fn clock_tick() -> Duration {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Duration::from_secs(1) / u32::try_from(hz).ok().filter(|&h| h > 0).unwrap_or(100)
}

/// utime + stime of process `pid` (all its threads), in clock ticks.
pub fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name start with field 3 (state); utime and
    // stime are fields 14 and 15.
    let mut fields = stat.rsplit_once(") ")?.1.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
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
    /// The other process: ticks used, over how many blocks.
    pub other: Option<TickCount>,
}

/// A tick count over a number of blocks, kept raw so that a count below the
/// resolution can be shown as such.
#[derive(Debug, Clone, Copy)]
pub struct TickCount {
    pub ticks: u64,
    pub tick: Duration,
    pub blocks: usize,
}

impl TickCount {
    pub fn per_block_us(&self) -> f64 {
        self.ticks as f64 * self.tick.as_secs_f64() * 1e6 / self.blocks.max(1) as f64
    }

    /// The value, or "<resolution" when no tick was counted.
    pub fn display(&self) -> String {
        if self.ticks == 0 {
            let res = self.tick.as_secs_f64() * 1e6 / self.blocks.max(1) as f64;
            format!("<{}", fmt_us(res))
        } else {
            fmt_us(self.per_block_us())
        }
    }
}

/// Measures CPU time over a run of blocks.
pub struct CpuMeter {
    self_start: Duration,
    other: Option<(u32, u64)>,
}

impl CpuMeter {
    pub fn start(other_pid: Option<u32>) -> Self {
        Self {
            other: other_pid.and_then(|pid| Some((pid, proc_cpu_ticks(pid)?))),
            self_start: self_cpu(),
        }
    }

    pub fn stop(self, blocks: usize) -> CpuPerBlock {
        let bench = self_cpu().saturating_sub(self.self_start);
        let other = self.other.and_then(|(pid, start)| {
            Some(TickCount {
                ticks: proc_cpu_ticks(pid)?.saturating_sub(start),
                tick: clock_tick(),
                blocks,
            })
        });
        CpuPerBlock {
            bench_us: bench.as_secs_f64() * 1e6 / blocks.max(1) as f64,
            other,
        }
    }
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
    fn own_cpu_and_proc_ticks_are_readable() {
        assert!(proc_cpu_ticks(std::process::id()).is_some());
        assert!(proc_rss_kib(std::process::id()).is_some_and(|r| r[0] > 0));
        let t = clock_tick();
        assert!(t > Duration::ZERO && t <= Duration::from_millis(10));
    }
}
