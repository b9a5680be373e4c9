//! A DAW that passes a transport whose event header is all zeros: plugins
//! built with clack reject it on every block when hosted directly; through
//! the bridge they get a valid header (size, type) and work, with the
//! DAW's transport contents unchanged.

use bulkhead_tests::*;

const ID: &str = "org.bulkhead.sample.echo";

fn run(lib: &PluginLibrary, id: &str) -> (Result<Vec<Event>>, Vec<Vec<f32>>) {
    let mut inst = Instance::new(lib, id, HostConfig::default()).unwrap();
    inst.activate(48_000.0, 1, 256).unwrap();
    inst.start_processing().unwrap();
    inst.zero_transport_headers(true);
    let mut inputs = inst.input_buffers::<f32>(256);
    for ch in inputs.ports[0].iter_mut() {
        for (i, s) in ch.iter_mut().enumerate() {
            *s = (i % 11) as f32 / 11.0 - 0.5;
        }
    }
    let mut outputs = inst.output_buffers::<f32>(256);
    let transport = Transport::playing_at(4_800, 48_000.0, 120.0, 4, 4);
    let r = inst.process_f32(256, &inputs, &mut outputs, &[], None, Some(&transport));
    (r.map(|p| p.out_events), outputs.ports[0].clone())
}

#[test]
fn a_zeroed_transport_header_is_repaired_for_the_plugin() {
    let direct = PluginLibrary::load(sample_plugin_path("echo").unwrap()).unwrap();
    let bridged = PluginLibrary::load(bridged_sample("echo").unwrap()).unwrap();
    let (direct_result, _) = run(&direct, ID);
    let (bridged_result, bridged_out) = run(&bridged, &format!("bulkhead.{ID}"));
    let events = bridged_result.expect("the bridged plugin processes the block");
    // The echo plugin returns the transport it saw: a valid one, with the
    // DAW's tempo.
    let transport = events
        .iter()
        .find(|e| e.type_id() == clap_sys::events::CLAP_EVENT_TRANSPORT)
        .expect("the plugin saw a transport");
    assert_eq!(
        transport.size() as usize,
        std::mem::size_of::<clap_sys::events::clap_event_transport>()
    );
    match transport.data() {
        EventData::Transport(t) => assert_eq!(t.tempo, 120.0),
        other => panic!("not a transport: {other:?}"),
    }
    assert!(bridged_out.iter().flatten().any(|&s| s != 0.0));
    // Directly, the same block is refused (or its transport dropped): the
    // repair is what makes the difference.
    let direct_saw_it = direct_result.as_ref().is_ok_and(|ev| {
        ev.iter()
            .any(|e| e.type_id() == clap_sys::events::CLAP_EVENT_TRANSPORT)
    });
    assert!(
        !direct_saw_it,
        "the direct plugin accepted a zeroed header, so this test proves nothing: {direct_result:?}"
    );
}
