//! Real VST3 hosts this project does not write — pedalboard 0.9.26 and DawDreamer 0.9.0 —
//! render every sample VST3 bundle and every VST3 bundle of Debian's zam-plugins, DIRECTLY
//! (bridged bundles come with the VST3 bridge): outputs must be well-formed (the expected
//! shape, finite) and deterministic (two runs write identical audio and parameter lists).
//!
//! `tests/hosts/setup.sh` installs the hosts (a venv under target/, apt packages) and is run
//! first; when it cannot install them the test fails saying what is missing. Each render runs
//! in its own Python process with a deadline and is retried a bounded number of times, judged
//! by the files it wrote rather than its exit status.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bulkhead_tests::vst3::{vst3_bundle, VST3_SAMPLES};

const ATTEMPTS: usize = 3;
const DEADLINE: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn setup() -> PathBuf {
    let venv = workspace().join("target").join("vst3-hosts-venv");
    let script = workspace().join("tests/hosts/setup.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(&venv)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} could not install the real VST3 hosts:\n{text}",
        script.display()
    );
    venv.join("bin").join("python")
}

/// Runs one driver with a deadline; Ok(dir) when it wrote every file.
fn run_once(python: &Path, driver: &str, bundle: &Path, dir: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    let mut child = Command::new(python)
        .arg(workspace().join("tests/hosts").join(driver))
        .arg(bundle)
        .arg(dir)
        .current_dir(workspace().join("tests/hosts"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {driver}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    let complete = ["audio.npy", "params.json", "meta.json", "state.bin"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if complete {
        Ok(())
    } else {
        Err(format!(
            "{driver} on {}: status {status:?}, files missing; stderr tail:\n{}",
            bundle.display(),
            err.lines()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

fn render(python: &Path, driver: &str, bundle: &Path, dir: &Path) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        match run_once(python, driver, bundle, dir) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn check_bundle(python: &Path, bundle: &Path, scratch: &Path, failures: &mut Vec<String>) {
    let name = bundle.file_stem().unwrap().to_string_lossy().into_owned();
    for driver in ["render_pedalboard.py", "render_dawdreamer.py"] {
        let a = scratch.join(format!("{name}-{driver}-a"));
        let b = scratch.join(format!("{name}-{driver}-b"));
        if let Err(e) =
            render(python, driver, bundle, &a).and_then(|()| render(python, driver, bundle, &b))
        {
            failures.push(e);
            continue;
        }
        let meta = String::from_utf8_lossy(&read(&a.join("meta.json"))).into_owned();
        if !meta.contains("\"finite\": true") || !meta.contains("48000") {
            failures.push(format!("{driver} {name}: malformed output {meta}"));
        }
        if read(&a.join("audio.npy")) != read(&b.join("audio.npy")) {
            failures.push(format!("{driver} {name}: two renders differ"));
        }
        if read(&a.join("params.json")) != read(&b.join("params.json")) {
            failures.push(format!("{driver} {name}: parameter lists differ"));
        }
    }
}

#[test]
fn pedalboard_and_dawdreamer_render_sample_and_zam_bundles_deterministically() {
    let python = setup();
    let scratch = bulkhead_tests::scratch_dir("vst3-real-hosts");
    let mut bundles: Vec<PathBuf> = VST3_SAMPLES
        .iter()
        .map(|(n, _)| vst3_bundle(n).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let mut zam: Vec<PathBuf> = std::fs::read_dir("/usr/lib/vst3")
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "vst3"))
                .collect()
        })
        .unwrap_or_default();
    zam.sort();
    assert!(
        zam.len() >= 17,
        "expected zam-plugins' 17 bundles in /usr/lib/vst3, found {zam:?}"
    );
    bundles.extend(zam);
    let mut failures = Vec::new();
    for b in &bundles {
        check_bundle(&python, b, &scratch, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
