//! Ardour's `ardour-vst3-scanner` (Debian's `ardour`, installed by
//! tests/hosts/setup.sh) on the bundles `bulkhead sync` made under
//! `~/.vst3/bulkhead`: it finds every processor class of every bundle,
//! under its bridged id and name.
//!
//! Ardour 7.3's scanner reads no moduleinfo.json: it loads each module,
//! creates and initialises every processor class's component and counts
//! its buses. The bridge answers all of that from the class profiles
//! `sync` cached, making no real object: the scan finds every class with
//! host starts refused
//! ([`ardour_scanner_finds_every_bridged_class_without_a_host`]), and with
//! them allowed ([`ardour_scanner_finds_every_bridged_class`]).
//!
//! Needs `cargo build --workspace` first.

use bulkhead_tests::vst3::install_real_hosts;
use bulkhead_tests::*;
use bulkhead_vst3_support::bridged::{bridged_cid, bridged_name};
use bulkhead_vst3_support::com::{guid_from_hex, guid_hex};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const SCANNER: &str = "/usr/lib/ardour7/ardour-vst3-scanner";
const ARDOUR_LIBS: &str = "/usr/lib/ardour7";

/// Installs the real hosts (setup.sh apt-installs Ardour) and checks the
/// scanner is there.
fn setup() {
    install_real_hosts();
    assert!(
        Path::new(SCANNER).is_file(),
        "Ardour 7 is not installed ({SCANNER} is missing): `apt-get install ardour` failed in \
         tests/hosts/setup.sh (run it to see why)"
    );
}

/// A rig with the VST3 sample folder added and synced; the folder.
fn synced(label: &str) -> (CliRig, PathBuf) {
    let rig = CliRig::new(label).unwrap();
    let plugins = rig.add_vst3_folder();
    rig.ok(&["install"]);
    rig.ok(&["add", plugins.to_str().unwrap()]);
    // The fault sample is not made to crash here: five bundles.
    let out = rig.ok(&["sync"]);
    assert!(out.contains("bulkhead sync: 5 added"), "{out}");
    (rig, plugins)
}

/// The processor classes a bridged bundle must show: (bridged id in hex,
/// bridged name), from the real bundle's own moduleinfo.json.
fn expected(real: &Path) -> Vec<(String, String)> {
    let path = real.join("Contents/Resources/moduleinfo.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["Classes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["Category"] == "Audio Module Class")
        .map(|c| {
            let cid = guid_from_hex(c["CID"].as_str().unwrap()).unwrap();
            (
                guid_hex(&bridged_cid(&cid)),
                bridged_name(c["Name"].as_str().unwrap()),
            )
        })
        .collect()
}

/// The value of `attr="…"` in an XML element's text.
fn attr(element: &str, name: &str) -> Option<String> {
    let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = element[start..].find('"')?;
    Some(element[start..start + len].to_string())
}

/// Runs the scanner on `bundle` with the rig's home (the bridge's class
/// cache is in its XDG_CACHE_HOME; Ardour writes its own cache under it,
/// in ardour7/vst) and returns the classes it saved: (uid, name).
fn ardour_scan(rig: &CliRig, bundle: &Path, refuse_hosts: bool) -> Vec<(String, String)> {
    let dir = rig.cache_home.join("ardour7").join("vst");
    let bundle_attr = format!("bundle=\"{}\"", bundle.display());
    let mut cmd = rig.command(Path::new(SCANNER));
    cmd.arg("-f")
        .arg(bundle)
        .env("LD_LIBRARY_PATH", ARDOUR_LIBS)
        .stdin(Stdio::null());
    if refuse_hosts {
        // The bridge refuses to start any host process with this set.
        cmd.env("BULKHEAD_INSIDE_HOST", "ardour-vst3-scanner test");
    }
    let out = cmd.output().expect("run ardour-vst3-scanner");
    let log = format!(
        "{SCANNER} -f {} ({}):\n{}{}",
        bundle.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|t| t.contains(&bundle_attr))
        .unwrap_or_else(|| panic!("no Ardour cache file for it in {}; {log}", dir.display()));
    text.split("<VST3Info ")
        .skip(1)
        .map(|e| {
            // The split ate the space before the first attribute.
            let e = format!(" {e}");
            (
                attr(&e, "uid").unwrap_or_default(),
                attr(&e, "name").unwrap_or_default(),
            )
        })
        .collect()
}

fn check_every_class(label: &str, refuse_hosts: bool) {
    setup();
    let (rig, plugins) = synced(label);
    for rel in CLI_VST3_SAMPLES
        .map(|(_, rel)| rel)
        .into_iter()
        .chain([VST3_FAULTING])
    {
        let bundle = rig.vst3_out().join(rel);
        let found = ardour_scan(&rig, &bundle, refuse_hosts);
        let want = expected(&plugins.join(rel));
        assert!(!want.is_empty());
        assert_eq!(
            found,
            want,
            "{rel}: Ardour's scanner on {}",
            bundle.display()
        );
    }
}

#[test]
fn ardour_scanner_finds_every_bridged_class() {
    check_every_class("cli-vst3-ardour", false);
}

#[test]
fn ardour_scanner_finds_every_bridged_class_without_a_host() {
    check_every_class("cli-vst3-ardour-nohost", true);
}
