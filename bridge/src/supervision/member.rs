//! What the supervisor needs of an object living in a host process (a
//! CLAP plugin instance; a VST3 component or controller). Each format
//! implements it beside its proxy; the supervisor knows nothing else of
//! the format.

use crate::process::HostProcess;
use bulkhead_common::manifest::Policy;
use bulkhead_common::protocol::wire::{Answer, Callback};
use bulkhead_common::InstanceId;
use std::sync::Arc;

pub trait Member: Send + Sync {
    /// The real plugin's id, for messages.
    fn name(&self) -> String;
    /// The object's id in the current host process.
    fn instance(&self) -> InstanceId;
    /// The restart and timeout policy of this object's bridged copy.
    fn policy(&self) -> Policy;
    /// A callback for this object, on the reader thread, as soon as it
    /// arrives: thread-safe calls into the DAW are made right there.
    fn on_arrival(&self, cb: &Callback);
    /// A callback for this object that arrived while another object's call
    /// was waiting: kept for this object's next main-thread turn.
    fn defer(&self, cb: Callback);
    /// A host call for this object that arrived while a DAW thread waited
    /// in a call to its host: answered now with the DAW's result if this
    /// thread may call the DAW, else kept like [`Member::defer`].
    fn answer(&self, cb: Callback) -> Answer {
        self.defer(cb);
        Answer::Deferred
    }
    /// Stops handing audio to the host and waits until the audio thread is
    /// outside any handoff (the host is dying or gone).
    fn stop_audio(&self);
    /// The host has made no audio progress for this object for longer than
    /// the policy allows.
    fn audio_stuck(&self) -> bool;
    /// Recreates the object in `process` with its configuration and last
    /// state, without making it reachable yet; its new instance id.
    ///
    /// # Errors
    /// Why it could not be restored.
    fn restore(&self, process: &Arc<HostProcess>) -> Result<InstanceId, String>;
    /// Points the object at its restored instance and lets audio flow.
    fn go_live(&self, process: &Arc<HostProcess>, instance: InstanceId);
    /// Saves the state in the background if it is due.
    fn refresh_state(&self);
    /// Called on every look of the supervisor (housekeeping off the DAW's
    /// threads).
    fn tick(&self) {}
    /// Why this object gave up on the host (it answered nonsense in the
    /// audio region, or flooded us), if it did; forgotten once asked.
    fn take_fault(&self) -> Option<String> {
        None
    }
    /// Tells the DAW (its log, if it has one) what happened.
    fn report(&self, error: bool, message: &str);
}
