//! Sixteen bridged instances of different plugins run at once, each in its
//! own host process; destroying them leaves no process, socket or
//! shared-memory mapping behind.

use bulkhead_tests::*;

#[test]
fn sixteen_instances_run_and_leave_nothing_behind() {
    let before = Leaks::now();
    let names = ["gain", "synth", "bigstate", "latency"];
    let libs: Vec<(PluginLibrary, String)> = names
        .iter()
        .map(|n| {
            (
                PluginLibrary::load(bridged_sample(n).unwrap()).unwrap(),
                format!("bulkhead.org.bulkhead.sample.{n}"),
            )
        })
        .collect();
    let mut instances = Vec::new();
    for i in 0..16 {
        let (lib, id) = &libs[i % libs.len()];
        let mut inst = Instance::new(lib, id, HostConfig::default()).unwrap();
        inst.activate(48_000.0, 1, 256).unwrap();
        inst.start_processing().unwrap();
        instances.push(inst);
    }
    let during = Leaks::now();
    assert_eq!(
        during.host_processes.len(),
        16,
        "one host process per instance"
    );
    assert!(during.audio_mappings >= 16);

    for inst in &mut instances {
        let inputs = inst.input_buffers::<f32>(256);
        let mut outputs = inst.output_buffers::<f32>(256);
        for _ in 0..50 {
            inst.process_f32(256, &inputs, &mut outputs, &[], None, None)
                .unwrap();
        }
    }
    for mut inst in instances {
        inst.stop_processing().unwrap();
        inst.deactivate().unwrap();
    }
    drop(libs);
    let after = Leaks::now();
    assert_eq!(after, before, "leaked: before {before:?}, after {after:?}");
}
