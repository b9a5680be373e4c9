//! Calls both ways, nested: a bridged plugin that calls its host inside a
//! DAW call (the latency sample calls `restartComponent(kLatencyChanged)`
//! inside `setParamNormalized`) reaches the DAW's handler on the DAW's
//! thread while that call waits, and the DAW's handler calls back into the
//! plugin (it reads the new latency, as JUCE does) while the plugin still
//! waits for the handler's answer: the host process serves that nested
//! request on its waiting thread.
//!
//! Needs `cargo build --workspace` first.

use bulkhead_tests::vst3::*;
use bulkhead_vst3_support::vst3::Steinberg::Vst::*;
use bulkhead_vst3_support::{ComponentHandler, HandlerCall};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn a_host_call_reaches_the_daw_which_calls_the_plugin_again() {
    let bundle = bridged_vst3_sample("latency").unwrap();
    let p = Vst3Plugin::open(&bundle, None).unwrap();
    let processor = p.processor.as_ptr() as usize;
    let seen: Arc<Mutex<Vec<(HandlerCall, u32, std::thread::ThreadId)>>> = Arc::default();
    let record = Arc::clone(&seen);
    let handler = ComponentHandler::with_responder(Box::new(move |call| {
        // The DAW reads the latency again right inside restartComponent.
        // SAFETY: the bridged processor stays alive for the test.
        let latency = unsafe {
            let p = processor as *mut IAudioProcessor;
            ((*(*p).vtbl).getLatencySamples)(p)
        };
        record
            .lock()
            .unwrap()
            .push((call.clone(), latency, std::thread::current().id()));
        0
    }));
    let h = handler.to_com_ptr::<IComponentHandler>().unwrap();
    let controller = p.controller.as_ref().unwrap();
    // SAFETY: live controller and handler.
    assert_eq!(unsafe { controller.setComponentHandler(h.as_ptr()) }, 0);

    let t = Instant::now();
    p.set_param_value(0, 0.1).unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![(
            HandlerCall::RestartComponent(RestartFlags_::kLatencyChanged),
            100,
            std::thread::current().id()
        )],
        "the DAW's handler is called once, on the DAW's thread, inside setParamNormalized, \
         and reads the new latency from the plugin while the plugin waits"
    );
    assert_eq!(p.latency(), 100);
}
