//! Parameter plumbing: atomically shared `f64` values, parameter descriptions, value/text
//! conversion, and a complete single-`f64`-parameter implementation.

use crate::state;
use clack_extensions::params::{ParamDisplayWriter, ParamInfo, ParamInfoFlags, ParamInfoWriter};
use clack_plugin::events::event_types::{ParamModEvent, ParamValueEvent};
use clack_plugin::prelude::*;
use clack_plugin::stream::{InputStream, OutputStream};
use clack_plugin::utils::Cookie;
use std::ffi::CStr;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// An `f64` shared between threads (stored as its bits, relaxed ordering).
pub struct AtomicF64(AtomicU64);

impl AtomicF64 {
    pub const fn new(value: f64) -> Self {
        Self(AtomicU64::new(value.to_bits()))
    }

    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    pub fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// What the host is told about a parameter (no cookie, no module).
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec<'a> {
    pub id: ClapId,
    pub name: &'a [u8],
    pub flags: ParamInfoFlags,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

impl ParamSpec<'_> {
    /// Writes this description to the host's parameter info.
    pub fn write_info(&self, info: &mut ParamInfoWriter) {
        info.set(&ParamInfo {
            id: self.id,
            flags: self.flags,
            cookie: Cookie::empty(),
            name: self.name,
            module: b"",
            min_value: self.min,
            max_value: self.max,
            default_value: self.default,
        });
    }

    /// Whether `value` lies in the parameter's range (bounds included).
    pub fn contains(&self, value: f64) -> bool {
        (self.min..=self.max).contains(&value)
    }
}

/// Displays a parameter value with `decimals` digits after the point.
pub fn write_value(
    writer: &mut ParamDisplayWriter,
    value: f64,
    decimals: usize,
) -> std::fmt::Result {
    write!(writer, "{value:.decimals$}")
}

/// Parses a displayed parameter value (surrounding whitespace allowed).
pub fn parse_value(text: &CStr) -> Option<f64> {
    text.to_str().ok()?.trim().parse().ok()
}

/// A continuous parameter with its description and current value, shown with 4 decimals.
pub struct FloatParam {
    spec: ParamSpec<'static>,
    value: AtomicF64,
}

impl FloatParam {
    /// The parameter at its default value.
    pub const fn new(spec: ParamSpec<'static>) -> Self {
        Self {
            value: AtomicF64::new(spec.default),
            spec,
        }
    }

    pub fn spec(&self) -> &ParamSpec<'static> {
        &self.spec
    }

    pub fn get(&self) -> f64 {
        self.value.get()
    }

    pub fn set(&self, value: f64) {
        self.value.set(value);
    }

    /// Applies a finite value event for this parameter, clamped to its range; returns the new
    /// value, or `None` if the event was ignored.
    pub fn apply_value_event(&self, event: &ParamValueEvent) -> Option<f64> {
        if event.param_id() != Some(self.spec.id) || !event.value().is_finite() {
            return None;
        }
        let value = event.value().clamp(self.spec.min, self.spec.max);
        self.set(value);
        Some(value)
    }

    /// Applies every value event of `input` for this parameter.
    pub fn flush(&self, input: &InputEvents) {
        for event in input {
            if let Some(event) = event.as_event::<ParamValueEvent>() {
                self.apply_value_event(event);
            }
        }
    }

    /// The current value, if `param_id` is this parameter's.
    pub fn value_of(&self, param_id: ClapId) -> Option<f64> {
        (param_id == self.spec.id).then(|| self.get())
    }

    /// Displays `value` (4 decimals) if `param_id` is this parameter's.
    pub fn value_to_text(
        &self,
        param_id: ClapId,
        value: f64,
        writer: &mut ParamDisplayWriter,
    ) -> std::fmt::Result {
        if param_id != self.spec.id {
            return Err(std::fmt::Error);
        }
        write_value(writer, value, 4)
    }

    /// Parses a displayed value if `param_id` is this parameter's.
    pub fn text_to_value(&self, param_id: ClapId, text: &CStr) -> Option<f64> {
        if param_id != self.spec.id {
            return None;
        }
        parse_value(text)
    }

    /// Saves the state `magic` followed by the value as a little-endian `f64`.
    pub fn save_state(
        &self,
        output: &mut OutputStream,
        magic: &[u8; 8],
    ) -> Result<(), PluginError> {
        state::save(output, magic, &self.get().to_le_bytes())
    }

    /// Loads a state written by [`save_state`](Self::save_state), rejecting (with `invalid`) a
    /// wrong magic, a wrong length or an out-of-range value.
    pub fn load_state(
        &self,
        input: &mut InputStream,
        magic: &[u8; 8],
        invalid: &'static str,
    ) -> Result<(), PluginError> {
        let value = state::load::<8>(input, magic)?
            .map(f64::from_le_bytes)
            .filter(|&value| self.spec.contains(value))
            .ok_or(PluginError::Message(invalid))?;
        self.set(value);
        Ok(())
    }
}

/// The audio thread's view of a modulatable [`FloatParam`]: its value plus the amount of the
/// latest modulation event.
pub struct Modulated<'a> {
    param: &'a FloatParam,
    modulation: f64,
}

impl<'a> Modulated<'a> {
    /// The unmodulated parameter.
    pub fn new(param: &'a FloatParam) -> Self {
        Self {
            param,
            modulation: 0.0,
        }
    }

    /// The parameter's value plus the modulation.
    pub fn value(&self) -> f64 {
        self.param.get() + self.modulation
    }

    /// Adopts the amount of a finite modulation event for this parameter.
    pub fn apply_mod_event(&mut self, event: &ParamModEvent) {
        if event.param_id() == Some(self.param.spec.id) && event.amount().is_finite() {
            self.modulation = event.amount();
        }
    }
}

/// Implements the params extension for a main-thread type whose only parameter is the
/// [`FloatParam`] at the given field path (from `self`).
///
/// ```text
/// bulkhead_sample_support::single_float_param!(EchoMainThread<'_>, shared.level);
/// ```
#[macro_export]
macro_rules! single_float_param {
    ($main_thread:ty, $($field:ident).+) => {
        impl $crate::__private::clack_extensions::params::PluginMainThreadParams for $main_thread {
            fn count(&self) -> u32 {
                1
            }

            fn get_info(
                &self,
                param_index: u32,
                info: &mut $crate::__private::clack_extensions::params::ParamInfoWriter,
            ) {
                if param_index == 0 {
                    self.$($field).+.spec().write_info(info);
                }
            }

            fn get_value(
                &self,
                param_id: $crate::__private::clack_plugin::prelude::ClapId,
            ) -> ::core::option::Option<f64> {
                self.$($field).+.value_of(param_id)
            }

            fn value_to_text(
                &self,
                param_id: $crate::__private::clack_plugin::prelude::ClapId,
                value: f64,
                writer: &mut $crate::__private::clack_extensions::params::ParamDisplayWriter,
            ) -> ::core::fmt::Result {
                self.$($field).+.value_to_text(param_id, value, writer)
            }

            fn text_to_value(
                &self,
                param_id: $crate::__private::clack_plugin::prelude::ClapId,
                text: &::core::ffi::CStr,
            ) -> ::core::option::Option<f64> {
                self.$($field).+.text_to_value(param_id, text)
            }

            fn flush(
                &self,
                input: &$crate::__private::clack_plugin::prelude::InputEvents,
                _output: &mut $crate::__private::clack_plugin::prelude::OutputEvents,
            ) {
                self.$($field).+.flush(input);
            }
        }
    };
}

/// Implements the state extension for a main-thread type whose state is the magic followed by
/// the [`FloatParam`] at the given field path as a little-endian `f64`.
///
/// ```text
/// bulkhead_sample_support::float_param_state!(EchoMainThread<'_>, shared.level,
///     magic: b"BHECHO01", invalid: "invalid echo state");
/// ```
#[macro_export]
macro_rules! float_param_state {
    ($main_thread:ty, $($field:ident).+, magic: $magic:expr, invalid: $invalid:expr $(,)?) => {
        impl $crate::__private::clack_extensions::state::PluginStateImpl for $main_thread {
            fn save(
                &self,
                output: &mut $crate::__private::clack_plugin::stream::OutputStream,
            ) -> ::core::result::Result<(), $crate::__private::clack_plugin::prelude::PluginError>
            {
                self.$($field).+.save_state(output, $magic)
            }

            fn load(
                &self,
                input: &mut $crate::__private::clack_plugin::stream::InputStream,
            ) -> ::core::result::Result<(), $crate::__private::clack_plugin::prelude::PluginError>
            {
                self.$($field).+.load_state(input, $magic, $invalid)
            }
        }
    };
}
