//! A plugin that changes its latency asks for a restart through the bridge,
//! and reports the new latency after reactivation, as it does directly.

use bulkhead_tests::*;

fn run(lib: &PluginLibrary, id: &str) -> (bool, Option<u32>, Option<u32>) {
    let mut inst = Instance::new(lib, id, HostConfig::default()).unwrap();
    inst.activate(48_000.0, 1, 256).unwrap();
    let before = inst.latency();
    inst.start_processing().unwrap();
    let inputs = inst.input_buffers::<f32>(256);
    let mut outputs = inst.output_buffers::<f32>(256);
    inst.process_f32(
        256,
        &inputs,
        &mut outputs,
        &[Event::param_value(0, 300.0)],
        None,
        None,
    )
    .unwrap();
    inst.pump_for(std::time::Duration::from_millis(50));
    let restart = inst.take_restart_request();
    inst.stop_processing().unwrap();
    inst.deactivate().unwrap();
    inst.activate(48_000.0, 1, 256).unwrap();
    let after = inst.latency();
    (restart, before, after)
}

#[test]
fn latency_change_requests_a_restart_through_the_bridge() {
    let id = "org.bulkhead.sample.latency";
    let direct = PluginLibrary::load(sample_plugin_path("latency").unwrap()).unwrap();
    let bridged = PluginLibrary::load(bridged_sample("latency").unwrap()).unwrap();
    let d = run(&direct, id);
    let b = run(&bridged, &format!("bulkhead.{id}"));
    assert_eq!(d, (true, Some(64), Some(300)));
    assert_eq!(b, d);
}
