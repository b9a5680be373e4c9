//! `bulkhead scan --json` and `bulkhead status --json` parse, and say what
//! the real plugins say when hosted directly: descriptors, ports,
//! parameters, latency; status shows each copy current, loading, with its
//! group from the config.

use bulkhead_common::scan::ScanReport;
use bulkhead_tests::*;

#[test]
fn scan_and_status_json_match_the_real_plugins() {
    let (rig, _) = CliRig::synced("cli-json").unwrap();
    rig.ok(&["set", "org.bulkhead.sample.gain", "group=fx"]);
    let statuses: serde_json::Value =
        serde_json::from_str(&rig.ok(&["status", "--json"])).expect("status --json parses");
    let statuses = statuses.as_array().unwrap();
    assert_eq!(statuses.len(), CLI_SAMPLES.len());

    for (stem, _) in CLI_SAMPLES {
        let real = rig.plugins.join(format!("{stem}.clap"));
        let json = rig.ok(&["scan", "--json", real.to_str().unwrap()]);
        let report: ScanReport = serde_json::from_str(&json).expect("scan --json parses");
        assert_eq!(report.file, real);
        let lib = PluginLibrary::load(&real).unwrap();
        let direct = lib.descriptors();
        assert_eq!(report.plugins.len(), direct.len(), "{stem}");
        for (scanned, d) in report.plugins.iter().zip(&direct) {
            let s = &scanned.descriptor;
            assert_eq!(s.id, d.id);
            assert_eq!(s.name, d.name);
            assert_eq!(s.vendor.as_deref().unwrap_or(""), d.vendor);
            assert_eq!(s.version.as_deref().unwrap_or(""), d.version);
            assert_eq!(s.features, d.features);
            assert_eq!(scanned.error, None);
            let mut inst = Instance::new(&lib, &d.id, HostConfig::default()).unwrap();
            let params = inst.params();
            assert_eq!(scanned.params.len(), params.len(), "{stem}");
            for (a, b) in scanned.params.iter().zip(&params) {
                assert_eq!((a.id, &a.name), (b.id, &b.name));
                assert_eq!(
                    (a.min_value, a.max_value, a.default_value),
                    (b.min_value, b.max_value, b.default_value)
                );
            }
            let ports = inst.audio_ports();
            let channels =
                |v: &[bulkhead_common::protocol::clap::ext::audio_ports::AudioPortInfo]| {
                    v.iter().map(|p| p.channel_count).collect::<Vec<_>>()
                };
            assert_eq!(
                channels(&scanned.audio_ports.inputs),
                ports
                    .inputs
                    .iter()
                    .map(|p| p.channel_count)
                    .collect::<Vec<_>>()
            );
            assert_eq!(
                channels(&scanned.audio_ports.outputs),
                ports
                    .outputs
                    .iter()
                    .map(|p| p.channel_count)
                    .collect::<Vec<_>>()
            );
            assert_eq!(scanned.note_ports.inputs.len(), inst.note_ports(true).len());
            assert_eq!(scanned.latency, inst.latency().unwrap_or(0), "{stem}");
            assert!(scanned.extensions.audio_ports);
        }

        let copy = rig.clap_out().join(format!("{stem}.clap"));
        let status = statuses
            .iter()
            .find(|s| s["copy"] == copy.to_str().unwrap())
            .unwrap_or_else(|| panic!("no status for {}", copy.display()));
        assert_eq!(status["plugin"], real.to_str().unwrap());
        assert_eq!(status["format"], "clap");
        assert_eq!(status["current"], true, "{status}");
        assert_eq!(status["loads"], true, "{status}");
        let group = if stem == "Gain" {
            "fx".into()
        } else {
            serde_json::Value::Null
        };
        assert_eq!(status["group"], group);
        let ids: Vec<&str> = status["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        let direct_ids: Vec<&str> = direct.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, direct_ids);
    }

    // A scan of something that is not a plugin fails clearly.
    let out = rig.run(&["scan", rig.plugins.join(NOT_A_PLUGIN).to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not loadable"));
    let out = rig.run(&["scan", rig.plugins.join(VST3_BUNDLE).to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not loadable"));
}
