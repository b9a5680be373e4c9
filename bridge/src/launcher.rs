//! The one thread the bridge starts its processes and threads from, and a
//! one-shot rendezvous that needs no thread-locals.
//!
//! Why a thread of our own: the parent-death signal fires when the forking
//! *thread* exits, so forking from a DAW thread that may end would kill
//! healthy hosts. And why no thread-locals on the DAW's threads: glibc keeps
//! a library mapped for as long as any live thread holds a thread-local
//! destructor registered by it, so one registered on a DAW thread (by
//! std's thread spawning, or a channel's blocking receive) would pin every
//! bridged copy ever loaded until that thread ends. The DAW's threads only
//! hand jobs over and wait on a plain mutex and condition variable.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

type Job = Box<dyn FnOnce() + Send>;

struct Queue {
    jobs: VecDeque<Job>,
    open: bool,
}

type Shared = (Mutex<Queue>, Condvar);

struct Launcher {
    queue: Arc<Shared>,
    /// A raw pthread: starting it with std would register thread-locals
    /// on the DAW's thread (see the module docs).
    thread: libc::pthread_t,
}

// SAFETY: a pthread handle is an id any thread may join.
unsafe impl Send for Launcher {}

static LAUNCHER: Mutex<Option<Launcher>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A value handed from one thread to another, once.
pub struct OneShot<T> {
    slot: Mutex<Option<T>>,
    ready: Condvar,
}

impl<T> Default for OneShot<T> {
    fn default() -> Self {
        Self {
            slot: Mutex::new(None),
            ready: Condvar::new(),
        }
    }
}

impl<T> OneShot<T> {
    pub fn put(&self, v: T) {
        *lock(&self.slot) = Some(v);
        self.ready.notify_all();
    }

    /// Waits for the value.
    pub fn take(&self) -> T {
        let mut slot = lock(&self.slot);
        loop {
            if let Some(v) = slot.take() {
                return v;
            }
            slot = self.ready.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
    }
}

extern "C" fn launcher_main(arg: *mut std::ffi::c_void) -> *mut std::ffi::c_void {
    // SAFETY: `arg` is the `Arc` leaked by `start` for this thread.
    let queue: Arc<Shared> = unsafe { Arc::from_raw(arg.cast_const().cast::<Shared>()) };
    // SAFETY: names the calling thread; the name fits in 16 bytes.
    unsafe { libc::pthread_setname_np(libc::pthread_self(), c"bulkhead-launch".as_ptr()) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| launcher_loop(&queue)));
    std::ptr::null_mut()
}

fn start() -> std::io::Result<Launcher> {
    let queue: Arc<Shared> = Arc::new((
        Mutex::new(Queue {
            jobs: VecDeque::new(),
            open: true,
        }),
        Condvar::new(),
    ));
    let arg = Arc::into_raw(Arc::clone(&queue))
        .cast_mut()
        .cast::<std::ffi::c_void>();
    // SAFETY: zero is a valid placeholder; pthread_create fills it in.
    let mut thread: libc::pthread_t = unsafe { std::mem::zeroed() };
    // SAFETY: a plain pthread_create with default attributes; `arg` stays
    // valid (an owned Arc reference) until the thread takes it.
    let rc = unsafe { libc::pthread_create(&mut thread, std::ptr::null(), launcher_main, arg) };
    if rc != 0 {
        // SAFETY: the thread did not start, so the reference is still ours.
        drop(unsafe { Arc::from_raw(arg.cast_const().cast::<Shared>()) });
        return Err(std::io::Error::from_raw_os_error(rc));
    }
    Ok(Launcher { queue, thread })
}

fn launcher_loop(queue: &Shared) {
    // Threads inherit scheduling: a launcher first started from a realtime
    // thread must not hand that to every host and thread it starts.
    let normal = libc::sched_param { sched_priority: 0 };
    // SAFETY: a plain syscall on this thread.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &normal) };
    loop {
        let job = {
            let mut q = lock(&queue.0);
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    break job;
                }
                if !q.open {
                    return;
                }
                q = queue.1.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        // A job that panics must not end the launcher for everyone.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Runs `f` on the launcher thread (started on first use) and returns its
/// result.
///
/// # Errors
/// The launcher thread could not be started, or `f` panicked.
pub fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::io::Result<T> {
    let done: Arc<OneShot<Option<T>>> = Arc::default();
    {
        let mut launcher = lock(&LAUNCHER);
        if launcher.is_none() {
            *launcher = Some(start()?);
        }
        let Some(l) = launcher.as_ref() else {
            return Err(std::io::Error::other("no launcher thread"));
        };
        let reply = Arc::clone(&done);
        let job: Job = Box::new(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            reply.put(r.ok());
        });
        lock(&l.queue.0).jobs.push_back(job);
        l.queue.1.notify_one();
    }
    done.take()
        .ok_or_else(|| std::io::Error::other("a launcher job panicked"))
}

/// Starts a named thread from the launcher thread.
///
/// # Errors
/// The thread could not be started.
pub fn spawn_thread<T: Send + 'static>(
    name: String,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<T>> {
    run(move || std::thread::Builder::new().name(name).spawn(f))?
}

/// Ends the launcher thread and waits for it: the library's last bundle
/// was closed, and the DAW may unload the library next. A later use starts
/// a new one.
pub fn end() {
    let launcher = lock(&LAUNCHER).take();
    if let Some(l) = launcher {
        lock(&l.queue.0).open = false;
        l.queue.1.notify_all();
        // SAFETY: our launcher thread, joined once.
        unsafe { libc::pthread_join(l.thread, std::ptr::null_mut()) };
    }
}
