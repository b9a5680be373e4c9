//! `bulkhead-testhost`: list the plugins of a `.clap` file, or render one offline.

use bulkhead_tests::{
    bridged_sample, host_processes_of, render, render_instance, sample_plugin_path, Event,
    HostConfig, InPlace, InputSignal, Instance, PluginLibrary, Precision, RenderOutput, RenderSpec,
    TimedEvent,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage:
  bulkhead-testhost demo
  bulkhead-testhost recovery-time   (crash-to-audio time of a plugin with a 16 MiB state)
  bulkhead-testhost hold <file.clap> <plugin-id>   (activate, print host pids, wait for stdin EOF)
  bulkhead-testhost list <file.clap>
  bulkhead-testhost render <file.clap> <plugin-id> [options]

render options:
  --frames N        total frames to render (default 48000)
  --block N[,N...]  block size(s), cycled (default 512)
  --rate R          sample rate (default 48000)
  --f64             process 64-bit buffers (default 32-bit)
  --in-place        use the plugin's declared in-place port pairs
  --silence         silent input (default: seeded noise, amplitude 0.5)
  --sine HZ         sine input
  --seed S          noise seed (default 1)
  --out FILE        write the output audio: per port, per channel, all frames,
                    little-endian f32 (or f64 with --f64)";

enum CliError {
    Usage(String),
    Failed(String),
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Failed(e.to_string())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = std::panic::catch_unwind(|| run(&args));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(CliError::Usage(msg))) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Ok(Err(CliError::Failed(msg))) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("error: internal panic (see message above)");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), CliError> {
    match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("recovery-time") => recovery_time(),
        Some("hold") => {
            let [_, file, id] = args else {
                return Err(CliError::Usage("hold takes a file and a plugin id".into()));
            };
            hold(file, id)
        }
        Some("list") => {
            let [_, file] = args else {
                return Err(CliError::Usage("list takes exactly one file".into()));
            };
            list(file)
        }
        Some("render") => {
            if args.len() < 3 {
                return Err(CliError::Usage(
                    "render needs a file and a plugin id".into(),
                ));
            }
            render_cmd(&args[1], &args[2], &args[3..])
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(CliError::Usage(format!("unknown command {other:?}"))),
        None => Err(CliError::Usage("missing command".into())),
    }
}

fn list(file: &str) -> Result<(), CliError> {
    let lib = PluginLibrary::load(file)?;
    let descriptors = lib.descriptors();
    if descriptors.is_empty() {
        println!("{file}: no plugins");
    }
    for d in descriptors {
        println!("{}", d.id);
        println!("  name:     {}", d.name);
        println!("  vendor:   {}", d.vendor);
        println!("  version:  {}", d.version);
        if !d.description.is_empty() {
            println!("  description: {}", d.description);
        }
        println!("  features: {}", d.features.join(", "));
    }
    Ok(())
}

fn parse<T: std::str::FromStr>(flag: &str, value: Option<&String>) -> Result<T, CliError> {
    let value = value.ok_or_else(|| CliError::Usage(format!("{flag} needs a value")))?;
    value
        .parse()
        .map_err(|_| CliError::Usage(format!("invalid value for {flag}: {value:?}")))
}

fn render_cmd(file: &str, plugin_id: &str, opts: &[String]) -> Result<(), CliError> {
    let mut spec = RenderSpec::default();
    let mut out: Option<PathBuf> = None;
    let mut seed = 1u64;
    let mut sine: Option<f64> = None;
    let mut silence = false;
    let mut it = opts.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--frames" => spec.total_frames = parse(flag, it.next())?,
            "--rate" => {
                spec.sample_rate = parse(flag, it.next())?;
                if !(spec.sample_rate.is_finite() && spec.sample_rate > 0.0) {
                    return Err(CliError::Usage("--rate must be positive".into()));
                }
            }
            "--block" => {
                let value: String = parse(flag, it.next())?;
                spec.block_sizes = value
                    .split(',')
                    .map(|s| match s.trim().parse::<u32>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(CliError::Usage(format!("invalid block size {s:?}"))),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--f64" => spec.precision = Precision::F64,
            "--in-place" => spec.in_place = InPlace::DeclaredPairs,
            "--silence" => silence = true,
            "--sine" => sine = Some(parse(flag, it.next())?),
            "--seed" => seed = parse(flag, it.next())?,
            "--out" => out = Some(PathBuf::from(parse::<String>(flag, it.next())?)),
            other => return Err(CliError::Usage(format!("unknown option {other:?}"))),
        }
    }
    spec.input = if silence {
        InputSignal::Silence
    } else if let Some(frequency) = sine {
        InputSignal::Sine {
            frequency,
            amplitude: 0.5,
        }
    } else {
        InputSignal::Noise {
            seed,
            amplitude: 0.5,
        }
    };

    let lib = PluginLibrary::load(file)?;
    let started = Instant::now();
    let output = render(&lib, plugin_id, &spec)?;
    let elapsed = started.elapsed();
    report(&spec, &output, elapsed);
    if let Some(path) = out {
        write_raw(&path, &output, spec.precision)
            .map_err(|e| CliError::Failed(format!("writing {}: {e}", path.display())))?;
        println!("wrote      {}", path.display());
    }
    Ok(())
}

fn report(spec: &RenderSpec, output: &RenderOutput, elapsed: std::time::Duration) {
    let seconds = output.frames as f64 / spec.sample_rate;
    println!(
        "frames     {} ({seconds:.3} s at {} Hz)",
        output.frames, spec.sample_rate
    );
    println!(
        "blocks     {} (sizes {:?})",
        output.statuses.len(),
        spec.block_sizes
    );
    println!(
        "precision  {}",
        match spec.precision {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    );
    println!(
        "ports      in {:?} out {:?}",
        output.ports.input_channels(),
        output.ports.output_channels()
    );
    let peak = output.peak();
    let rms = output.rms();
    let db = |v: f64| {
        if v > 0.0 {
            20.0 * v.log10()
        } else {
            f64::NEG_INFINITY
        }
    };
    println!("peak       {peak:.6} ({:.2} dBFS)", db(peak));
    println!("rms        {rms:.6} ({:.2} dBFS)", db(rms));
    println!("out events {}", output.out_events.len());
    if let Some(latency) = output.latency {
        println!("latency    {latency}");
    }
    if let Some(state) = &output.state {
        println!("state      {} bytes", state.len());
    }
    if !output.record.logs.is_empty() {
        println!("logs       {}", output.record.logs.len());
        for l in &output.record.logs {
            println!("  [{}] {}", l.severity, l.message);
        }
    }
    if !output.record.thread_violations.is_empty() {
        println!("thread violations:");
        for v in &output.record.thread_violations {
            println!("  {v}");
        }
    }
    let realtime = if elapsed.as_secs_f64() > 0.0 {
        seconds / elapsed.as_secs_f64()
    } else {
        f64::INFINITY
    };
    println!(
        "time       {:.3} ms ({realtime:.1}x realtime)",
        elapsed.as_secs_f64() * 1000.0
    );
}

fn write_raw(path: &PathBuf, output: &RenderOutput, precision: Precision) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    match (&output.audio_f32, precision) {
        (Some(audio), Precision::F32) => {
            for s in audio.iter().flatten().flatten() {
                w.write_all(&s.to_le_bytes())?;
            }
        }
        _ => {
            for s in output.audio.iter().flatten().flatten() {
                w.write_all(&s.to_le_bytes())?;
            }
        }
    }
    w.flush()
}

/// The main job: the bundled sample synth rendered through a bridged copy,
/// out of process, and compared with the same render hosted directly.
fn demo() -> Result<(), CliError> {
    const ID: &str = "org.bulkhead.sample.synth";
    let copy = bridged_sample("synth")?;
    println!("bridged copy   {}", copy.display());
    let events = [60i16, 64, 67, 72]
        .iter()
        .enumerate()
        .flat_map(|(i, &key)| {
            let at = i as u64 * 24_000;
            [
                TimedEvent::new(at, Event::note_on(0, 0, key, i as i32, 0.8)),
                TimedEvent::new(at + 20_000, Event::note_off(0, 0, key, i as i32, 0.0)),
            ]
        })
        .collect();
    let spec = RenderSpec {
        total_frames: 5 * 48_000,
        block_sizes: vec![64, 128, 31, 512],
        input: InputSignal::Silence,
        events,
        ..RenderSpec::default()
    };
    let direct_lib = PluginLibrary::load(sample_plugin_path("synth")?)?;
    let bridged_lib = PluginLibrary::load(&copy)?;
    let t = Instant::now();
    let direct = render(&direct_lib, ID, &spec)?;
    let direct_time = t.elapsed();
    let mut inst = Instance::new(
        &bridged_lib,
        &format!("bulkhead.{ID}"),
        HostConfig::default(),
    )?;
    let hosts = host_processes_of(std::process::id());
    println!("host process   pid {hosts:?} (the plugin runs there, not here)");
    let t = Instant::now();
    let bridged = render_instance(&mut inst, &spec)?;
    let bridged_time = t.elapsed();
    drop(inst);
    println!(
        "rendered       {} frames at {} Hz, blocks {:?}",
        spec.total_frames, spec.sample_rate, spec.block_sizes
    );
    println!(
        "direct         {direct_time:.2?}, peak {:.4}",
        direct.peak()
    );
    println!(
        "bridged        {bridged_time:.2?}, peak {:.4}",
        bridged.peak()
    );
    println!(
        "out events     {} direct, {} bridged",
        direct.out_events.len(),
        bridged.out_events.len()
    );
    match direct.compare(&bridged) {
        Ok(()) => {
            println!("result         bridged output is bit-identical to direct hosting");
            Ok(())
        }
        Err(e) => Err(CliError::Failed(format!("bridged output differs: {e}"))),
    }
}

/// Keeps one active instance until standard input closes; prints the host
/// processes it runs in. Tests kill this process to play a crashing DAW.
fn hold(file: &str, id: &str) -> Result<(), CliError> {
    let lib = PluginLibrary::load(file)?;
    let mut inst = Instance::new(&lib, id, HostConfig::default())?;
    inst.activate(48_000.0, 1, 512)?;
    inst.start_processing()?;
    println!("hosts {:?}", host_processes_of(std::process::id()));
    std::io::stdout().flush()?;
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    Ok(())
}

/// Kills the host of a bridged plugin holding a 16 MiB state and measures
/// how long the calling host hears silence before the plugin sounds again.
fn recovery_time() -> Result<(), CliError> {
    const ID: &str = "bulkhead.org.bulkhead.sample.bigstate";
    const BLOCK: usize = 256;
    let policy = bulkhead_tests::Policy {
        state_refresh_ms: 0,
        max_crashes: 100,
        ..Default::default()
    };
    let lib = PluginLibrary::load(bulkhead_tests::bridged_sample_with_policy(
        "bigstate", policy,
    )?)?;
    let mut inst = Instance::new(&lib, ID, HostConfig::default())?;
    let mut state = b"BHBIG001".to_vec();
    state.extend_from_slice(&2000u32.to_le_bytes());
    state.extend(std::iter::repeat_n(0u8, 2000 * 8));
    let payload = 16usize << 20;
    state.extend_from_slice(&(payload as u64).to_le_bytes());
    state.extend((0..payload).map(|i| (i * 7) as u8));
    inst.load_state(&state)?;
    inst.activate(48_000.0, 1, BLOCK as u32)?;
    inst.start_processing()?;
    let mut inputs = inst.input_buffers::<f32>(BLOCK);
    for ch in &mut inputs.ports[0] {
        for (i, s) in ch.iter_mut().enumerate() {
            *s = ((i % 50) as f32 - 25.0) / 50.0;
        }
    }
    let mut outputs = inst.output_buffers::<f32>(BLOCK);
    let mut run_until_sound = |inst: &mut Instance| -> Result<std::time::Duration, CliError> {
        let t = Instant::now();
        loop {
            inst.process_f32(BLOCK as u32, &inputs, &mut outputs, &[], None, None)?;
            inst.pump();
            if outputs.ports[0].iter().flatten().any(|&s| s != 0.0) {
                return Ok(t.elapsed());
            }
            if t.elapsed() > std::time::Duration::from_secs(30) {
                return Err(CliError::Failed("the plugin did not come back".into()));
            }
        }
    };
    run_until_sound(&mut inst)?;
    let mut times = Vec::new();
    for _ in 0..7 {
        let hosts = host_processes_of(std::process::id());
        let [pid] = hosts[..] else {
            return Err(CliError::Failed(format!(
                "expected one host, found {hosts:?}"
            )));
        };
        // SAFETY: kill(2) on our own child process; no memory involved.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        times.push(run_until_sound(&mut inst)?);
    }
    times.sort();
    println!("state          {} bytes", state.len());
    println!(
        "crash to audio {:?} median, {:?} min, {:?} max (7 SIGKILLs, {BLOCK}-frame blocks back to back)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}
