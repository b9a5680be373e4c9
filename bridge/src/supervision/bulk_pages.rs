//! Large states' pages: reused for the next load, freed off the DAW's
//! threads.
//!
//! Reading a DAW's 16 MiB stream into fresh memfd pages costs about twice
//! a plain copy (the kernel allocates and clears page by page), and the
//! last close of such a memfd takes the kernel milliseconds more. So a
//! state the bridge kept (`BlobWriter::finish_kept`) that a newer one
//! replaced is held here, and the next load the DAW makes into the group
//! is read straight into its pages (a preset change, an undo, a script
//! loading states in a loop). Other replaced states are handed to the
//! supervisor to drop. Held pages nobody takes are let go after a while:
//! they are memory the size of the state.

use bulkhead_common::bulk::{Blob, BlobWriter, BulkError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Smaller states are dropped where they are replaced and read into new
/// memfds: their pages cost nothing measurable.
const LARGE: usize = 1 << 20;
/// How long untaken pages are held.
const HOLD: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct BulkPages {
    /// A replaced kept state, its pages for the next load.
    reusable: Mutex<Option<(Blob, Instant)>>,
    /// Replaced states for the supervisor to drop.
    retired: Mutex<Vec<Blob>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl BulkPages {
    /// The writer for a state the DAW loads: into a replaced state's pages
    /// when nobody holds that state any more.
    ///
    /// # Errors
    /// The kernel refused a memfd.
    pub fn writer(&self) -> Result<BlobWriter, BulkError> {
        let reusable = lock(&self.reusable).take();
        match reusable.map(|(blob, _)| blob.into_writer()) {
            Some(Ok(w)) => Ok(w),
            // Still held (a restore loading it): the holder drops it.
            Some(Err(_)) | None => BlobWriter::new(),
        }
    }

    /// A state nobody needs any more: whether the supervisor has work (a
    /// small one is dropped here and now).
    pub fn retire(&self, old: Blob) -> bool {
        if old.len() < LARGE {
            return false;
        }
        let old = if old.is_kept() {
            match lock(&self.reusable).replace((old, Instant::now())) {
                Some((older, _)) => older,
                None => return false,
            }
        } else {
            old
        };
        lock(&self.retired).push(old);
        true
    }

    /// On the supervisor's thread: drops retired states, and held pages
    /// nobody took in time.
    pub fn tend(&self) {
        drop(std::mem::take(&mut *lock(&self.retired)));
        let mut reusable = lock(&self.reusable);
        if reusable
            .as_ref()
            .is_some_and(|(_, since)| since.elapsed() > HOLD)
        {
            let old = reusable.take();
            drop(reusable);
            drop(old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(len: usize, byte: u8) -> Blob {
        let mut w = BlobWriter::new().unwrap();
        w.write(&vec![byte; len]).unwrap();
        w.finish_kept().unwrap()
    }

    #[test]
    fn a_replaced_large_kept_state_lends_its_pages_to_the_next_load() {
        let pages = BulkPages::default();
        assert_eq!(pages.writer().unwrap().room(), 0);
        assert!(!pages.retire(kept(LARGE, 1)));
        let mut w = pages.writer().unwrap();
        assert_eq!(w.room(), LARGE);
        w.write(&[2; 10]).unwrap();
        assert_eq!(w.finish_kept().unwrap().as_slice(), &[2; 10]);
        // Taken: the next writer is a new one.
        assert_eq!(pages.writer().unwrap().room(), 0);
        // Small states and still-held ones are not reused.
        assert!(!pages.retire(kept(LARGE - 1, 3)));
        assert_eq!(pages.writer().unwrap().room(), 0);
        let held = kept(LARGE, 4);
        assert!(!pages.retire(held.clone()));
        assert_eq!(pages.writer().unwrap().room(), 0);
        assert_eq!(held.as_slice()[0], 4);
    }

    #[test]
    fn other_replaced_large_states_are_dropped_by_the_supervisor() {
        let pages = BulkPages::default();
        let sealed = Blob::from_bytes(&vec![2; LARGE]).unwrap();
        let mine = sealed.clone();
        assert!(pages.retire(sealed));
        // A second kept one pushes the first out to be dropped.
        assert!(!pages.retire(kept(LARGE, 5)));
        assert!(pages.retire(kept(LARGE, 6)));
        assert_eq!(lock(&pages.retired).len(), 2);
        pages.tend();
        assert!(lock(&pages.retired).is_empty());
        // Only the supervisor's reference went: ours still reads.
        assert_eq!(mine.as_slice()[LARGE - 1], 2);
        assert_eq!(pages.writer().unwrap().finish_kept().unwrap().len(), 0);
    }
}
