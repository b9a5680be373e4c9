//! What each side may believe of the region. The other process (or a
//! plugin scribbling inside it) may have written anything, so every word
//! is read once, checked, and only then acted on. Nothing here allocates:
//! both audio threads call it.
//!
//! A request or an answer that fails a check is a [`RegionFault`]: the host
//! answers [`status::INVALID_REQUEST`] and names the fault in
//! [`Control::fault`]; the bridge treats a host that answers nonsense (or
//! refuses a request the bridge wrote correctly) as crashed.

use super::control::{port_flags, status, AudioOp, Control, MAGIC};
use super::layout::{ShmLayout, EVENT_AREA_LEN};
use clap_sys::events::CLAP_EVENT_TRANSPORT;
use clap_sys::events::{clap_event_header, clap_event_transport, CLAP_CORE_EVENT_SPACE_ID};
use clap_sys::process::{CLAP_PROCESS_ERROR, CLAP_PROCESS_SLEEP};
use std::sync::atomic::Ordering;

/// Why a request or an answer in the region cannot be acted on.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionFault {
    /// The magic word at the start of the region was overwritten.
    Magic = 1,
    /// The operation code is none the bridge sends.
    UnknownOp = 2,
    /// More frames than the region was sized for.
    Frames = 3,
    /// An event area length larger than the area.
    InEventsLen = 4,
    /// The input events do not parse.
    InEvents = 5,
    /// Port flags with bits the bridge never sets.
    PortFlags = 6,
    /// A transport flag other than 0 or 1, or a transport with a bad header.
    Transport = 7,
    /// The host answered a sequence number the bridge never rang.
    ResponseSeq = 16,
    /// A status the operation cannot return.
    Status = 17,
    /// An output event area length larger than the area.
    OutEventsLen = 18,
    /// The output events do not parse.
    OutEvents = 19,
    /// The host refused a request the bridge wrote correctly: the region
    /// changed under both of them.
    Refused = 20,
}

impl RegionFault {
    pub fn from_u32(v: u32) -> Option<Self> {
        Some(match v {
            1 => Self::Magic,
            2 => Self::UnknownOp,
            3 => Self::Frames,
            4 => Self::InEventsLen,
            5 => Self::InEvents,
            6 => Self::PortFlags,
            7 => Self::Transport,
            16 => Self::ResponseSeq,
            17 => Self::Status,
            18 => Self::OutEventsLen,
            19 => Self::OutEvents,
            20 => Self::Refused,
            _ => return None,
        })
    }

    /// For the log.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Magic => "the region's magic word was overwritten",
            Self::UnknownOp => "an unknown operation code",
            Self::Frames => "a frame count above the region's maximum",
            Self::InEventsLen => "an input event length beyond the event area",
            Self::InEvents => "malformed input events",
            Self::PortFlags => "audio port flags with unknown bits",
            Self::Transport => "a malformed transport",
            Self::ResponseSeq => "an answer to a block that was never sent",
            Self::Status => "a status the operation cannot return",
            Self::OutEventsLen => "an output event length beyond the event area",
            Self::OutEvents => "malformed output events",
            Self::Refused => "the host refused a well-formed request",
        }
    }
}

/// A request as read, once, from the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub op: AudioOp,
    pub frames: u32,
    pub in_events_len: usize,
    pub has_transport: bool,
}

/// The host's reading of the request the bridge rang: every word it will
/// act on, checked against `layout`.
///
/// # Errors
/// The first check that fails.
pub fn request(c: &Control, layout: &ShmLayout) -> Result<Request, RegionFault> {
    if c.magic.load(Ordering::Acquire) != MAGIC {
        return Err(RegionFault::Magic);
    }
    let op = AudioOp::from_u32(c.op.load(Ordering::Relaxed)).ok_or(RegionFault::UnknownOp)?;
    let frames = c.frames.load(Ordering::Relaxed);
    let in_events_len = c.in_events_len.load(Ordering::Relaxed) as usize;
    let transport = c.has_transport.load(Ordering::Relaxed);
    let carries_events = matches!(op, AudioOp::Process | AudioOp::ParamsFlush);
    if carries_events && in_events_len > EVENT_AREA_LEN {
        return Err(RegionFault::InEventsLen);
    }
    if op == AudioOp::Process {
        if frames > layout.audio.max_frames {
            return Err(RegionFault::Frames);
        }
        if transport > 1 {
            return Err(RegionFault::Transport);
        }
    }
    Ok(Request {
        op,
        frames,
        in_events_len: if carries_events { in_events_len } else { 0 },
        has_transport: op == AudioOp::Process && transport == 1,
    })
}

/// Port flags as the bridge writes them.
///
/// # Errors
/// [`RegionFault::PortFlags`] for any bit the bridge never sets.
pub fn port_flags(flags: u32) -> Result<u32, RegionFault> {
    if flags & !port_flags::F64 != 0 {
        Err(RegionFault::PortFlags)
    } else {
        Ok(flags)
    }
}

/// A transport as the bridge writes it (it repairs the DAW's header).
///
/// # Errors
/// [`RegionFault::Transport`] when the header is not a transport's.
pub fn transport(t: &clap_event_transport) -> Result<(), RegionFault> {
    let h: &clap_event_header = &t.header;
    if h.size as usize != std::mem::size_of::<clap_event_transport>()
        || h.space_id != CLAP_CORE_EVENT_SPACE_ID
        || h.type_ != CLAP_EVENT_TRANSPORT
    {
        return Err(RegionFault::Transport);
    }
    Ok(())
}

/// The bridge's reading of the host's answer to `op`: its status, checked
/// against what `op` can return.
///
/// # Errors
/// A status no operation returns, the host's refusal, a foreign magic, or
/// an output event length beyond its area.
pub fn answer(c: &Control, op: AudioOp) -> Result<i32, RegionFault> {
    if c.magic.load(Ordering::Acquire) != MAGIC {
        return Err(RegionFault::Magic);
    }
    let s = c.status.load(Ordering::Relaxed);
    if s == status::INVALID_REQUEST {
        return Err(RegionFault::Refused);
    }
    let valid = match op {
        AudioOp::Process => (CLAP_PROCESS_ERROR..=CLAP_PROCESS_SLEEP).contains(&s),
        _ => s == 0 || s == 1,
    };
    if !valid {
        return Err(RegionFault::Status);
    }
    if matches!(op, AudioOp::Process | AudioOp::ParamsFlush)
        && c.out_events_len.load(Ordering::Relaxed) as usize > EVENT_AREA_LEN
    {
        return Err(RegionFault::OutEventsLen);
    }
    Ok(s)
}

/// Whether `response` is a sequence number the host may show while the
/// bridge waits for `seq`: the answer itself, or the one before it (still
/// working). Anything else was never asked for.
pub fn plausible_response(response: u32, seq: u32) -> bool {
    response == seq || response == seq.wrapping_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shm::{AudioLayout, ShmRegion};

    fn region() -> (ShmRegion, ShmLayout) {
        let layout = ShmLayout::compute(&AudioLayout {
            inputs: vec![2],
            outputs: vec![2],
            max_frames: 256,
        })
        .unwrap();
        (ShmRegion::create(&layout).unwrap(), layout)
    }

    fn process(c: &Control, frames: u32) {
        c.op.store(AudioOp::Process as u32, Ordering::Relaxed);
        c.frames.store(frames, Ordering::Relaxed);
        c.in_events_len.store(0, Ordering::Relaxed);
        c.has_transport.store(0, Ordering::Relaxed);
    }

    #[test]
    fn a_request_the_bridge_writes_passes() {
        let (r, l) = region();
        let c = r.control();
        process(c, 256);
        c.has_transport.store(1, Ordering::Relaxed);
        c.in_events_len.store(64, Ordering::Relaxed);
        let req = request(c, &l).unwrap();
        assert_eq!(req.frames, 256);
        assert!(req.has_transport);
        assert_eq!(req.in_events_len, 64);
    }

    #[test]
    fn garbled_requests_are_named() {
        let (r, l) = region();
        let c = r.control();
        process(c, 257);
        assert_eq!(request(c, &l), Err(RegionFault::Frames));
        process(c, 1);
        c.in_events_len
            .store(EVENT_AREA_LEN as u32 + 1, Ordering::Relaxed);
        assert_eq!(request(c, &l), Err(RegionFault::InEventsLen));
        process(c, 1);
        c.has_transport.store(7, Ordering::Relaxed);
        assert_eq!(request(c, &l), Err(RegionFault::Transport));
        c.op.store(99, Ordering::Relaxed);
        assert_eq!(request(c, &l), Err(RegionFault::UnknownOp));
        process(c, 1);
        c.magic.store(0xdead, Ordering::Relaxed);
        assert_eq!(request(c, &l), Err(RegionFault::Magic));
        assert_eq!(port_flags(2), Err(RegionFault::PortFlags));
        assert_eq!(port_flags(port_flags::F64), Ok(port_flags::F64));
    }

    #[test]
    fn impossible_answers_are_named() {
        let (r, _) = region();
        let c = r.control();
        c.status.store(3, Ordering::Relaxed);
        assert_eq!(answer(c, AudioOp::Process), Ok(3));
        assert_eq!(answer(c, AudioOp::Reset), Err(RegionFault::Status));
        c.status.store(status::INVALID_REQUEST, Ordering::Relaxed);
        assert_eq!(answer(c, AudioOp::Reset), Err(RegionFault::Refused));
        c.status.store(1, Ordering::Relaxed);
        c.out_events_len.store(u32::MAX, Ordering::Relaxed);
        assert_eq!(answer(c, AudioOp::Process), Err(RegionFault::OutEventsLen));
        assert_eq!(answer(c, AudioOp::Reset), Ok(1));
        assert!(plausible_response(4, 5) && plausible_response(5, 5));
        assert!(!plausible_response(9, 5) && plausible_response(u32::MAX, 0));
        for v in 0..64 {
            if let Some(f) = RegionFault::from_u32(v) {
                assert_eq!(f as u32, v);
            }
        }
    }

    #[test]
    fn transports_need_their_header() {
        // SAFETY: a zeroed transport is a valid value.
        let mut t: clap_event_transport = unsafe { std::mem::zeroed() };
        assert_eq!(transport(&t), Err(RegionFault::Transport));
        t.header.size = std::mem::size_of::<clap_event_transport>() as u32;
        t.header.type_ = CLAP_EVENT_TRANSPORT;
        assert_eq!(transport(&t), Ok(()));
    }
}
