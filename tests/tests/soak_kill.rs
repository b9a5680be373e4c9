//! Soak: several bridged instances process many blocks while their host
//! processes are killed (SIGKILL) at random moments. The test host never
//! crashes or hangs, every block is either exactly right or silent (only
//! while a plugin is down), no state is lost, and nothing leaks: no host
//! process, socket, memfd or mapping is left once the instances are gone.

use bulkhead_tests::*;
use std::time::{Duration, Instant};

const BLOCK: usize = 128;
const BLOCKS: usize = 3_000;

/// A deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn gain_state(gain: f64) -> Vec<u8> {
    let mut s = b"BHGAIN01".to_vec();
    s.extend_from_slice(&gain.to_le_bytes());
    s
}

#[test]
fn random_kills_lose_nothing_and_leak_nothing() {
    let before = Leaks::now();
    let policy = Policy {
        max_crashes: 1_000,
        audio_timeout_ms: 200,
        state_refresh_ms: 0,
        ..Policy::default()
    };
    let lib = PluginLibrary::load(bridged_sample_with_policy("gain", policy).unwrap()).unwrap();
    let gains = [0.25, 0.5, 1.5, 2.0];
    let mut instances: Vec<Instance> = gains
        .iter()
        .map(|&g| {
            let mut i = Instance::new(
                &lib,
                "bulkhead.org.bulkhead.sample.gain",
                HostConfig::default(),
            )
            .unwrap();
            i.load_state(&gain_state(g)).unwrap();
            i.activate(48_000.0, 1, BLOCK as u32).unwrap();
            i.start_processing().unwrap();
            i
        })
        .collect();
    let mut inputs = instances[0].input_buffers::<f32>(BLOCK);
    for (c, ch) in inputs.ports[0].iter_mut().enumerate() {
        for (i, s) in ch.iter_mut().enumerate() {
            *s = ((i * 31 + c * 7) % 101) as f32 / 101.0 - 0.5;
        }
    }
    let mut outputs = instances[0].output_buffers::<f32>(BLOCK);
    let mut rng = Lcg(0x5eed);
    let (mut kills, mut silent_blocks, mut good_blocks) = (0, 0, 0);
    let started = Instant::now();
    for block in 0..BLOCKS {
        if rng.next().is_multiple_of(150) {
            let hosts = host_processes_of(std::process::id());
            if !hosts.is_empty() {
                let victim = hosts[rng.next() as usize % hosts.len()];
                // SAFETY: kill(2) on a child process of ours; no memory involved.
                unsafe { libc::kill(victim as libc::pid_t, libc::SIGKILL) };
                kills += 1;
            }
        }
        for (inst, &g) in instances.iter_mut().zip(&gains) {
            inst.process_f32(BLOCK as u32, &inputs, &mut outputs, &[], None, None)
                .unwrap();
            inst.pump();
            let out = &outputs.ports[0];
            let silent = out.iter().flatten().all(|&s| s == 0.0);
            if silent {
                silent_blocks += 1;
                continue;
            }
            good_blocks += 1;
            for (c, ch) in out.iter().enumerate() {
                for (i, &y) in ch.iter().enumerate() {
                    let x = inputs.ports[0][c][i];
                    assert_eq!(
                        y.to_bits(),
                        (x * g as f32).to_bits(),
                        "block {block}: neither right nor silent"
                    );
                }
            }
        }
        // Pace a little so restarts happen between blocks, as in a DAW.
        if block.is_multiple_of(50) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    eprintln!(
        "{kills} kills, {good_blocks} right blocks, {silent_blocks} silent blocks in {:?}",
        started.elapsed()
    );
    assert!(kills >= 10, "the soak must actually kill hosts");
    assert!(
        good_blocks > silent_blocks,
        "plugins spend most of the time up"
    );

    // Every plugin is back, with its state.
    let deadline = Instant::now() + Duration::from_secs(10);
    while host_processes_of(std::process::id()).len() < gains.len() {
        assert!(Instant::now() < deadline, "not every plugin came back");
        std::thread::sleep(Duration::from_millis(10));
    }
    for (inst, &g) in instances.iter_mut().zip(&gains) {
        assert_eq!(inst.save_state().unwrap(), gain_state(g), "state lost");
    }
    for mut inst in instances {
        inst.stop_processing().unwrap();
        inst.deactivate().unwrap();
    }
    drop(lib);
    let after = Leaks::now();
    assert_eq!(after, before, "leaked: before {before:?}, after {after:?}");
}
