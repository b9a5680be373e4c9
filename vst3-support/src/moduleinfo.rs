//! `Contents/Resources/moduleinfo.json` (VST 3.7.5+): what a DAW that scans by moduleinfo reads
//! instead of loading the module.

use serde_json::{json, Value};

use crate::com::guid_hex;
use crate::factory::{ClassInfo, FactoryInfo};

/// The moduleinfo document for a module called `name` at `version`.
pub fn moduleinfo(
    name: &str,
    version: &str,
    factory: &FactoryInfo,
    classes: &[ClassInfo],
) -> Value {
    let flags = factory.flags;
    json!({
        "Name": name,
        "Version": version,
        "Factory Info": {
            "Vendor": factory.vendor,
            "URL": factory.url,
            "E-Mail": factory.email,
            "Flags": {
                "Unicode": flags & 0x10 != 0,
                "Classes Discardable": flags & 0x1 != 0,
                "Component Non Discardable": flags & 0x8 != 0,
            },
        },
        "Compatibility": [],
        "Classes": classes.iter().map(|c| json!({
            "CID": guid_hex(&c.cid),
            "Category": c.category,
            "Name": c.name,
            "Vendor": c.vendor,
            "Version": c.version,
            "SDKVersion": c.sdk_version,
            "Sub Categories": c.sub_categories.split('|').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
            "Class Flags": c.class_flags,
            "Cardinality": c.cardinality,
            "Snapshots": [],
        })).collect::<Vec<_>>(),
    })
}
