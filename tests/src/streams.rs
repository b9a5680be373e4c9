//! Raw `clap_istream` / `clap_ostream` implementations used for state save/load.
//!
//! Both can be limited to a maximum number of bytes per call, to check that a plugin (or the
//! bridge) copes with partial reads and writes. Sizes are unbounded otherwise (multi-megabyte
//! states are fine).

use clap_sys::stream::{clap_istream, clap_ostream};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Source of a `clap_istream`.
pub(crate) struct InputStreamCtx<'a> {
    data: &'a [u8],
    pos: usize,
    max_chunk: usize,
    /// Number of `read` calls made by the plugin.
    pub(crate) calls: usize,
}

impl<'a> InputStreamCtx<'a> {
    /// Reads from `data`, handing out at most `max_chunk` bytes per call (`None`: unlimited).
    pub(crate) fn new(data: &'a [u8], max_chunk: Option<usize>) -> Self {
        Self {
            data,
            pos: 0,
            max_chunk: max_chunk.unwrap_or(usize::MAX).max(1),
            calls: 0,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Builds the raw stream. It holds a raw pointer to `self`: `self` must outlive it and must
    /// not be used otherwise while the plugin can call it.
    pub(crate) fn raw(&mut self) -> clap_istream {
        clap_istream {
            ctx: self as *mut Self as *mut c_void,
            read: Some(istream_read),
        }
    }
}

unsafe extern "C" fn istream_read(
    stream: *const clap_istream,
    buffer: *mut c_void,
    size: u64,
) -> i64 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes back the stream we gave it (null handled by as_ref).
        let Some(stream) = (unsafe { stream.as_ref() }) else {
            return -1;
        };
        // SAFETY: ctx was set by InputStreamCtx::raw, whose referent outlives the stream and is not
        // otherwise accessed during the plugin call.
        let ctx = unsafe { &mut *(stream.ctx as *mut InputStreamCtx<'_>) };
        ctx.calls += 1;
        if size == 0 {
            return 0;
        }
        if buffer.is_null() {
            return -1;
        }
        let remaining = ctx.data.len() - ctx.pos;
        let n = remaining
            .min(ctx.max_chunk)
            .min(usize::try_from(size).unwrap_or(usize::MAX))
            .min(i64::MAX as usize);
        // SAFETY: the plugin guarantees `buffer` is writable for `size` bytes and n <= size; the
        // source range is in bounds of `data`. The regions cannot overlap (plugin memory vs ours).
        unsafe {
            std::ptr::copy_nonoverlapping(ctx.data.as_ptr().add(ctx.pos), buffer.cast::<u8>(), n)
        };
        ctx.pos += n;
        n as i64
    }))
    .unwrap_or(-1)
}

/// Sink of a `clap_ostream`.
pub(crate) struct OutputStreamCtx {
    pub(crate) data: Vec<u8>,
    max_chunk: usize,
    /// Number of `write` calls made by the plugin.
    pub(crate) calls: usize,
}

impl OutputStreamCtx {
    /// Accepts at most `max_chunk` bytes per call (`None`: unlimited).
    pub(crate) fn new(max_chunk: Option<usize>) -> Self {
        Self {
            data: Vec::new(),
            max_chunk: max_chunk.unwrap_or(usize::MAX).max(1),
            calls: 0,
        }
    }

    /// Builds the raw stream. It holds a raw pointer to `self`: `self` must outlive it and must
    /// not be used otherwise while the plugin can call it.
    pub(crate) fn raw(&mut self) -> clap_ostream {
        clap_ostream {
            ctx: self as *mut Self as *mut c_void,
            write: Some(ostream_write),
        }
    }
}

unsafe extern "C" fn ostream_write(
    stream: *const clap_ostream,
    buffer: *const c_void,
    size: u64,
) -> i64 {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the plugin passes back the stream we gave it (null handled by as_ref).
        let Some(stream) = (unsafe { stream.as_ref() }) else {
            return -1;
        };
        // SAFETY: ctx was set by OutputStreamCtx::raw, whose referent outlives the stream and is
        // not otherwise accessed during the plugin call.
        let ctx = unsafe { &mut *(stream.ctx as *mut OutputStreamCtx) };
        ctx.calls += 1;
        if size == 0 {
            return 0;
        }
        if buffer.is_null() {
            return -1;
        }
        let n = ctx
            .max_chunk
            .min(usize::try_from(size).unwrap_or(usize::MAX))
            .min(i64::MAX as usize);
        // SAFETY: the plugin guarantees `buffer` is readable for `size` bytes and n <= size.
        let bytes = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), n) };
        ctx.data.extend_from_slice(bytes);
        n as i64
    }))
    .unwrap_or(-1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_roundtrip() {
        let src: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        let mut input = InputStreamCtx::new(&src, Some(1000));
        let raw_in = input.raw();
        let mut out = OutputStreamCtx::new(Some(333));
        let raw_out = out.raw();
        let mut buf = vec![0u8; 4096];
        loop {
            // SAFETY: raw_in points at `input`, alive and not otherwise used; buf is writable.
            let n = unsafe { istream_read(&raw_in, buf.as_mut_ptr().cast(), buf.len() as u64) };
            assert!(n >= 0);
            if n == 0 {
                break;
            }
            assert!(n <= 1000);
            let mut off = 0usize;
            while off < n as usize {
                // SAFETY: raw_out points at `out`, alive and not otherwise used; buf is readable.
                let w = unsafe {
                    ostream_write(
                        &raw_out,
                        buf[off..].as_ptr().cast(),
                        (n as usize - off) as u64,
                    )
                };
                assert!(w > 0 && w <= 333);
                off += w as usize;
            }
        }
        assert_eq!(input.position(), src.len());
        assert_eq!(out.data, src);
    }
}
