//! `cargo fuzz run decode_message`: see `bulkhead_common::fuzzing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulkhead_common::fuzzing::decode_message(data);
});
