//! A VST3 test host: loads bundles through `bulkhead-vst3-support`, drives a component and its
//! controller the way real hosts do (host-side connection proxies, handler, host context), and
//! renders deterministic sessions whose results compare bit for bit.
//!
//! Like the CLAP test host, the thread that opens a [`Vst3Plugin`] is its main and audio thread.

mod bridged;
mod bundles;
mod plugin;
mod real_hosts;
mod render;

pub use bridged::{bridged_bundle_of, bridged_vst3_sample, module_classes, shim_vst3_sample};
pub use bundles::{vst3_bundle, vst3_bundle_dir, VST3_SAMPLES};
pub use plugin::{ParamInfo3, Vst3Plugin};
pub use real_hosts::{hosts_dir, install_real_hosts, workspace};
pub use render::{noise, render3, Note3, Vst3Render, Vst3RenderSpec};
