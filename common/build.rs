//! Derives the build id from the protocol's sources, so a bridge and a host
//! built from different protocol code refuse each other at the handshake.

use std::path::Path;

fn hash_dir(dir: &Path, h: &mut u64) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            hash_dir(&p, h);
        } else if let Ok(bytes) = std::fs::read(&p) {
            for b in bytes {
                *h ^= u64::from(b);
                *h = h.wrapping_mul(0x100_0000_01b3);
            }
        }
    }
}

fn main() {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    hash_dir(Path::new("src/protocol"), &mut h);
    hash_dir(Path::new("src/shm"), &mut h);
    println!("cargo:rerun-if-changed=src/protocol");
    println!("cargo:rerun-if-changed=src/shm");
    println!("cargo:rustc-env=BULKHEAD_PROTOCOL_HASH={h:016x}");
}
