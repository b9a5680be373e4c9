//! Nothing on the audio path allocates, in the bridge (on the DAW's audio
//! thread) or in the host (on its audio thread). Both install a counting
//! global allocator (`bulkhead_common::alloc_audit`) that counts allocator
//! calls made inside their audio sections, and every proxy reports the
//! counts through the bridge's `bulkhead.audio-audit/1` extension.
//!
//! Thousands of blocks of varying size go through bridged instances with
//! notes, MIDI, sysex, parameter automation, transport, and `params.flush`
//! while active, and every block's output is compared with the same
//! plugin hosted directly, so the audited path is the one that did the
//! work.

use bulkhead_tests::*;

const BLOCKS: usize = 3_000;
const SIZES: [u32; 6] = [64, 1, 512, 7, 4096, 128];
const RATE: f64 = 48_000.0;

fn started(lib: &PluginLibrary, id: &str) -> Instance {
    let mut inst = Instance::new(lib, id, HostConfig::default()).unwrap();
    inst.activate(RATE, 1, 4096).unwrap();
    inst.start_processing().unwrap();
    inst
}

/// The events of block `n` of `frames` frames, sorted by time.
fn events(n: usize, frames: u32) -> Vec<Event> {
    let key = (n % 100) as i16 + 10;
    let last = frames - 1;
    let mut e = vec![
        Event::note_on(0, 0, key, n as i32, 0.8).with_time(0),
        Event::param_value(0, (n % 17) as f64 / 8.0).with_time(last / 2),
        Event::midi(0, [0xB0, 7, (n % 128) as u8]).with_time(last / 2),
        Event::note_off(0, 0, key, n as i32, 0.2).with_time(last),
    ];
    if n.is_multiple_of(8) {
        e.insert(
            1,
            Event::midi_sysex(0, &[0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7]).with_time(0),
        );
    }
    e
}

struct Pair {
    direct: Instance,
    bridged: Instance,
}

impl Pair {
    fn new(name: &str, id: &str) -> (Self, [PluginLibrary; 2]) {
        let d = PluginLibrary::load(sample_plugin_path(name).unwrap()).unwrap();
        let b = PluginLibrary::load(bridged_sample(name).unwrap()).unwrap();
        let pair = Self {
            direct: started(&d, id),
            bridged: started(&b, &format!("bulkhead.{id}")),
        };
        (pair, [d, b])
    }

    /// Runs block `n` on both and checks the bridged one matched; returns
    /// how many events came back.
    fn block(&mut self, n: usize, frames: u32) -> usize {
        let ev = events(n, frames);
        let transport = Transport::playing_at(n as u64 * 4096, RATE, 120.0, 4, 4);
        let steady = Some(n as i64 * 4096);
        let mut input = self.direct.input_buffers::<f32>(frames as usize);
        for (i, s) in input.ports.iter_mut().flatten().flatten().enumerate() {
            *s = ((i * 7 + n) % 31) as f32 / 31.0 - 0.5;
        }
        let mut out = [
            self.direct.output_buffers::<f32>(frames as usize),
            self.bridged.output_buffers::<f32>(frames as usize),
        ];
        let [od, ob] = &mut out;
        let rd = self
            .direct
            .process_f32(frames, &input, od, &ev, steady, Some(&transport))
            .unwrap();
        let rb = self
            .bridged
            .process_f32(frames, &input, ob, &ev, steady, Some(&transport))
            .unwrap();
        assert_eq!(od.ports, ob.ports, "block {n} ({frames} frames): audio");
        assert_eq!(
            rd.out_events, rb.out_events,
            "block {n} ({frames} frames): output events"
        );
        if n % 10 == 5 {
            // params.flush on the audio thread of an active plugin.
            let flush = [Event::param_value(0, 0.75)];
            let fd = self.direct.flush(&flush).unwrap();
            let fb = self.bridged.flush(&flush).unwrap();
            assert_eq!(fd, fb, "flush after block {n}");
        }
        rb.out_events.len()
    }
}

fn audit(inst: &Instance) -> AudioAuditCounts {
    inst.audio_audit()
        .expect("an active bridged instance reports its audio audit")
}

#[test]
fn the_audio_path_never_allocates() {
    let (mut echo, _libs_e) = Pair::new("echo", "org.bulkhead.sample.echo");
    let (mut gain, _libs_g) = Pair::new("gain", "org.bulkhead.sample.gain");
    // Allocation counts are checked whole (activation's start_processing
    // included); section counts as differences over the loop.
    let before = [audit(&echo.bridged), audit(&gain.bridged)];
    let mut echoed = 0;
    for n in 0..BLOCKS {
        let frames = SIZES[n % SIZES.len()];
        echoed += echo.block(n, frames);
        gain.block(n, frames);
    }
    assert!(
        echoed >= BLOCKS * 4,
        "the echo plugin returned only {echoed} events"
    );
    for (name, inst, before) in [
        ("echo", &echo.bridged, before[0]),
        ("gain", &gain.bridged, before[1]),
    ] {
        let after = audit(inst);
        // Every block (and flush) entered an audited section on both sides,
        // so a zero below is a count, not a section that never ran.
        let calls = (BLOCKS + BLOCKS / 10) as u64;
        assert!(
            after.host_sections - before.host_sections >= calls,
            "{name}: the host audited {} operations, expected at least {calls}",
            after.host_sections - before.host_sections
        );
        assert!(
            after.bridge_sections - before.bridge_sections >= calls,
            "{name}: the bridge audited {} calls, expected at least {calls}",
            after.bridge_sections - before.bridge_sections
        );
        assert_eq!(
            after.host_allocations, 0,
            "{name}: the host's audio thread allocated"
        );
        assert_eq!(
            after.bridge_allocations, 0,
            "{name}: the bridge allocated on the DAW's audio thread"
        );
    }
}

#[test]
fn a_direct_instance_offers_no_audit() {
    // The audit is the bridge's own extension, so a test can tell a proxy
    // from the real plugin.
    let lib = PluginLibrary::load(sample_plugin_path("gain").unwrap()).unwrap();
    let inst = started(&lib, "org.bulkhead.sample.gain");
    assert_eq!(inst.audio_audit(), None);
}
