//! Parameter tables: the definitions and the controller's current normalized values.

use std::cell::Cell;

use vst3::Steinberg::Vst::*;

use crate::copy_wstring;

/// One parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamDef {
    /// Id.
    pub id: ParamID,
    /// Title.
    pub title: &'static str,
    /// Units.
    pub units: &'static str,
    /// 0 for continuous.
    pub steps: i32,
    /// Default, normalized.
    pub default: f64,
    /// Plain value at normalized 0.
    pub min: f64,
    /// Plain value at normalized 1.
    pub max: f64,
    /// `ParameterFlags`.
    pub flags: i32,
    /// Unit the parameter belongs to.
    pub unit: UnitID,
}

impl ParamDef {
    /// An automatable continuous parameter with plain range `min..=max`.
    pub const fn new(id: ParamID, title: &'static str, default: f64, min: f64, max: f64) -> Self {
        ParamDef {
            id,
            title,
            units: "",
            steps: 0,
            default,
            min,
            max,
            flags: ParameterInfo_::ParameterFlags_::kCanAutomate,
            unit: 0,
        }
    }
}

/// The controller's parameters and their values.
pub struct Params {
    defs: &'static [ParamDef],
    values: Vec<Cell<f64>>,
}

impl Params {
    /// Values start at their defaults.
    pub fn new(defs: &'static [ParamDef]) -> Params {
        Params {
            defs,
            values: defs.iter().map(|d| Cell::new(d.default)).collect(),
        }
    }

    fn index(&self, id: ParamID) -> Option<usize> {
        self.defs.iter().position(|d| d.id == id)
    }

    /// Number of parameters.
    pub fn count(&self) -> i32 {
        self.defs.len() as i32
    }

    /// The definition of `id`.
    pub fn def(&self, id: ParamID) -> Option<&ParamDef> {
        self.index(id).map(|i| &self.defs[i])
    }

    /// Fills a `ParameterInfo`; false for a bad index.
    pub fn info(&self, index: i32, info: &mut ParameterInfo) -> bool {
        let Some(d) = usize::try_from(index).ok().and_then(|i| self.defs.get(i)) else {
            return false;
        };
        info.id = d.id;
        copy_wstring(d.title, &mut info.title);
        copy_wstring(d.title, &mut info.shortTitle);
        copy_wstring(d.units, &mut info.units);
        info.stepCount = d.steps;
        info.defaultNormalizedValue = d.default;
        info.unitId = d.unit;
        info.flags = d.flags;
        true
    }

    /// The normalized value of `id` (0 for unknown ids).
    pub fn get(&self, id: ParamID) -> f64 {
        self.index(id).map_or(0.0, |i| self.values[i].get())
    }

    /// Stores a normalized value (clamped); false for unknown ids.
    pub fn set(&self, id: ParamID, value: f64) -> bool {
        match self.index(id) {
            Some(i) => {
                self.values[i].set(value.clamp(0.0, 1.0));
                true
            }
            None => false,
        }
    }

    /// Normalized → plain.
    pub fn to_plain(&self, id: ParamID, value: f64) -> f64 {
        self.def(id).map_or(value, |d| {
            let plain = d.min + value * (d.max - d.min);
            if d.steps > 0 {
                plain.round()
            } else {
                plain
            }
        })
    }

    /// Plain → normalized.
    pub fn to_normalized(&self, id: ParamID, plain: f64) -> f64 {
        self.def(id).map_or(plain, |d| {
            if d.max == d.min {
                0.0
            } else {
                ((plain - d.min) / (d.max - d.min)).clamp(0.0, 1.0)
            }
        })
    }

    /// The display string of a value.
    pub fn display(&self, id: ParamID, value: f64) -> String {
        let plain = self.to_plain(id, value);
        match self.def(id) {
            Some(d) if d.steps > 0 => format!("{plain:.0}"),
            _ => format!("{plain:.4}"),
        }
    }
}
