//! The audit allocator counts exactly what happens inside audio sections
//! of the thread that entered them: the mechanism the zero-allocation test
//! of the audio path (`tests/tests/audio_path_allocations.rs`) relies on.

use bulkhead_common::alloc_audit::{allocations, sections, AudioSection, AuditedAllocator};
use std::hint::black_box;

#[global_allocator]
static ALLOCATOR: AuditedAllocator = AuditedAllocator;

#[test]
fn counts_allocations_inside_sections_only() {
    let outside = allocations();
    black_box(vec![1u8; 100]);
    assert_eq!(allocations(), outside, "counted outside a section");

    let entered = sections();
    let kept = {
        let _audio = AudioSection::enter();
        // Another thread allocating meanwhile is not this thread's audio.
        std::thread::spawn(|| black_box(vec![2u8; 100]))
            .join()
            .unwrap();
        let at = allocations();
        let v = black_box(vec![3u8; 100]);
        assert_eq!(allocations(), at + 1, "the allocation was not counted");
        {
            let _nested = AudioSection::enter();
            drop(v);
            assert_eq!(allocations(), at + 2, "the free was not counted");
        }
        let s = black_box(String::from("still inside the outer section"));
        assert_eq!(allocations(), at + 3, "nesting ended the outer section");
        s
    };
    assert_eq!(sections(), entered + 2);
    let after = allocations();
    drop(kept);
    black_box(vec![4u8; 100]);
    assert_eq!(allocations(), after, "counted after the section ended");
}
