//! A 16 MiB state saved through the bridge loads into the plugin directly
//! and produces identical output, and the reverse, byte for byte; the
//! plugin's `rescan` during `load` reaches the host inside the load.

use bulkhead_tests::*;

const ID: &str = "org.bulkhead.sample.bigstate";

fn big_state() -> Vec<u8> {
    state_of(16 << 20, 0)
}

/// A bigstate state with a payload of `len` bytes; `salt` changes every
/// byte of it and the parameter values.
fn state_of(len: u32, salt: u32) -> Vec<u8> {
    let mut s = b"BHBIG001".to_vec();
    s.extend_from_slice(&2000u32.to_le_bytes());
    for i in 0..2000u32 {
        let v = ((i * 37 + salt) % 200) as f64 / 100.0 - 1.0;
        s.extend_from_slice(&v.to_le_bytes());
    }
    let payload: Vec<u8> = (0..len)
        .map(|i| ((i ^ salt).wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    s.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    s.extend_from_slice(&payload);
    s
}

fn spec(state: Vec<u8>) -> RenderSpec {
    RenderSpec {
        total_frames: 4_096,
        block_sizes: vec![512],
        input: InputSignal::Noise {
            seed: 3,
            amplitude: 0.5,
        },
        state: Some(state),
        ..RenderSpec::default()
    }
}

#[test]
fn sixteen_mib_state_round_trips_both_ways() {
    let direct = PluginLibrary::load(sample_plugin_path("bigstate").unwrap()).unwrap();
    let bridged = PluginLibrary::load(bridged_sample("bigstate").unwrap()).unwrap();
    let bridged_id = format!("bulkhead.{ID}");
    let state = big_state();
    assert!(state.len() > 16 << 20);

    // Bridge → direct.
    let mut b = Instance::new(&bridged, &bridged_id, HostConfig::default()).unwrap();
    b.load_state(&state).unwrap();
    let record = b.take_record();
    assert!(
        !record.params_rescan.is_empty(),
        "rescan during load reaches the host"
    );
    let saved_via_bridge = b.save_state().unwrap();
    assert_eq!(saved_via_bridge.len(), state.len());
    assert!(
        saved_via_bridge == state,
        "state bytes changed through the bridge"
    );
    drop(b);
    let out_direct = render(&direct, ID, &spec(saved_via_bridge)).unwrap();
    let out_bridged = render(&bridged, &bridged_id, &spec(state.clone())).unwrap();
    assert!(out_direct.peak() > 0.0);
    out_direct.compare(&out_bridged).unwrap();

    // Direct → bridge.
    let mut d = Instance::new(&direct, ID, HostConfig::default()).unwrap();
    d.load_state(&state).unwrap();
    let saved_direct = d.save_state().unwrap();
    drop(d);
    let mut b = Instance::new(&bridged, &bridged_id, HostConfig::default()).unwrap();
    b.load_state(&saved_direct).unwrap();
    assert!(b.save_state().unwrap() == saved_direct);
}

/// Loads one after another into one instance, as a DAW changing presets
/// does: after a large load the bridge reads the next one into pages it
/// prepared ahead, sized for the last. States that grow past those pages,
/// shrink, or are small must come back exactly as loaded, each one.
#[test]
fn states_loaded_one_after_another_come_back_exactly() {
    let bridged = PluginLibrary::load(bridged_sample("bigstate").unwrap()).unwrap();
    let mut b = Instance::new(&bridged, &format!("bulkhead.{ID}"), HostConfig::default()).unwrap();
    let sizes = [
        16 << 20,
        16 << 20,
        21 << 20,
        2 << 20,
        300 << 10,
        40 << 10,
        16 << 20,
    ];
    for (salt, len) in sizes.into_iter().enumerate() {
        let state = state_of(len, salt as u32 + 1);
        b.load_state(&state).unwrap();
        let saved = b.save_state().unwrap();
        assert_eq!(saved.len(), state.len(), "load {salt} ({len} bytes)");
        assert!(
            saved == state,
            "load {salt} ({len} bytes) came back changed"
        );
    }
}

#[test]
fn a_corrupt_state_is_refused_and_the_plugin_keeps_working() {
    let bridged = PluginLibrary::load(bridged_sample("bigstate").unwrap()).unwrap();
    let mut b = Instance::new(&bridged, &format!("bulkhead.{ID}"), HostConfig::default()).unwrap();
    let before = b.save_state().unwrap();
    assert!(b.load_state(b"BHBIG001 but truncated").is_err());
    assert!(b.load_state(&[]).is_err());
    assert_eq!(b.save_state().unwrap(), before);
}
