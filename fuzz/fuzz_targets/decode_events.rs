//! `cargo fuzz run decode_events`: see `bulkhead_common::fuzzing`. Its seeds
//! in `fuzz/corpus/decode_events/` come from
//! `bulkhead_common::fuzzing::event_seeds` (see `common/tests/event_seeds.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulkhead_common::fuzzing::decode_events(data);
});
