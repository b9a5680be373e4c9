//! Two bridged copies of different plugins in one host process each list
//! and run only their own plugins.

use bulkhead_tests::*;

#[test]
fn two_bridged_copies_stay_independent() {
    let gain = PluginLibrary::load(bridged_sample("gain").unwrap()).unwrap();
    let synth = PluginLibrary::load(bridged_sample("synth").unwrap()).unwrap();
    let ids = |l: &PluginLibrary| {
        l.descriptors()
            .into_iter()
            .map(|d| d.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&gain), vec!["bulkhead.org.bulkhead.sample.gain"]);
    assert_eq!(ids(&synth), vec!["bulkhead.org.bulkhead.sample.synth"]);
    assert!(gain.descriptors()[0].name.ends_with("(bulkhead)"));

    let gain_out = render(
        &gain,
        "bulkhead.org.bulkhead.sample.gain",
        &RenderSpec {
            input: InputSignal::Sine {
                frequency: 100.0,
                amplitude: 0.5,
            },
            ..RenderSpec::default()
        },
    )
    .unwrap();
    let synth_out = render(
        &synth,
        "bulkhead.org.bulkhead.sample.synth",
        &RenderSpec {
            input: InputSignal::Silence,
            events: vec![TimedEvent::new(0, Event::note_on(0, 0, 60, 1, 1.0))],
            ..RenderSpec::default()
        },
    )
    .unwrap();
    assert!(gain_out.peak() > 0.4);
    assert!(synth_out.peak() > 0.0);
    assert!(Instance::new(
        &gain,
        "bulkhead.org.bulkhead.sample.synth",
        HostConfig::default()
    )
    .is_err());
}
