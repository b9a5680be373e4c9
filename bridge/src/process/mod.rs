//! Host processes: starting one (`spawn`) and talking to it (`handle`).
//! Format-neutral: a process serves objects of any format, each named by
//! an instance id.

pub mod handle;
pub mod spawn;

pub use handle::{Hooks, HostProcess, Incoming};
pub use spawn::{find_host, host_candidates, INSIDE_HOST_ENV};
