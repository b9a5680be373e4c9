//! A preallocated, per-block buffer holding copies of echoed sysex payloads.

/// Bump allocator over a buffer allocated once at activation; cleared at the start of each block.
pub struct SysexArena {
    buffer: Vec<u8>,
    used: usize,
}

impl SysexArena {
    /// Allocates the buffer (outside of the audio thread's realtime path).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buffer: vec![0; capacity],
            used: 0,
        }
    }

    /// Forgets all copies made so far, making the whole buffer available again.
    pub fn clear(&mut self) {
        self.used = 0;
    }

    /// Copies `data` into the unused part of the buffer, or returns `None` if it does not fit.
    ///
    /// Copies made since the last [`clear`](Self::clear) are never overwritten, so pointers to
    /// them stay valid until then.
    pub fn store(&mut self, data: &[u8]) -> Option<&[u8]> {
        let start = self.used;
        let end = start.checked_add(data.len())?;
        let slot = self.buffer.get_mut(start..end)?;
        slot.copy_from_slice(data);
        self.used = end;
        Some(slot)
    }
}
