//! The Unix calls `exec-env` and `exec-file` need that std does not offer: passing
//! signals on to the child, waiting for it without reaping it, FIFOs, and switching
//! user. Signals are caught with signal-hook (as `edit` does): no handler code of ours
//! runs in signal context, and its raw `siginfo_t` tells where a signal came from. The
//! rest is libc directly: each `unsafe` block is one libc call on values owned here.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use libc::c_int;
use signal_hook::iterator::exfiltrator::WithRawSiginfo;
use signal_hook::iterator::SignalsInfo;

/// The signals sealant passes on to its child instead of dying from them.
const FORWARDED: [c_int; 6] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

#[derive(Default)]
struct State {
    /// The running child; cleared before it is reaped, so that no signal can reach a
    /// process that later reuses its pid.
    child: Option<libc::pid_t>,
    /// The first signal that came while there was no child.
    pending: Option<c_int>,
    /// Every signal that came, in order (for `edit`, which decides after the editor
    /// exits whether the session was interrupted).
    received: Vec<c_int>,
}

/// Catches the forwarded signals, from [`Forwarder::start`] until the process exits, and
/// passes them to the child from a thread of its own.
///
/// Signals the kernel raised itself (`SI_KERNEL` on Linux: the terminal's Ctrl-C, Ctrl-\
/// or hang-up) are not forwarded: the kernel sends those to the whole foreground process
/// group, the child included, and a second copy would make one Ctrl-C count as two.
pub struct Forwarder {
    state: Arc<Mutex<State>>,
}

impl Forwarder {
    pub fn start() -> io::Result<Forwarder> {
        let mut signals = SignalsInfo::<WithRawSiginfo>::new(FORWARDED)?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for info in signals.forever() {
                    let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    state.received.push(info.si_signo);
                    match state.child {
                        Some(pid) if !raised_by_kernel(&info) => send(pid, info.si_signo),
                        Some(_) => {}
                        None => {
                            state.pending.get_or_insert(info.si_signo);
                        }
                    }
                }
            })?;
        Ok(Forwarder { state })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A signal that came while no child was running.
    pub fn pending(&self) -> Option<c_int> {
        self.state().pending
    }

    /// Every signal received so far (emptied).
    pub fn take_received(&self) -> Vec<c_int> {
        std::mem::take(&mut self.state().received)
    }

    /// From now on signals go to `pid`; one that came just before is sent now.
    pub fn adopt(&self, pid: u32) {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return;
        };
        let mut state = self.state();
        state.child = Some(pid);
        if let Some(signal) = state.pending.take() {
            send(pid, signal);
        }
    }

    /// The child has exited: signals are no longer sent to it.
    pub fn release(&self) {
        self.state().child = None;
    }
}

#[cfg(target_os = "linux")]
fn raised_by_kernel(info: &libc::siginfo_t) -> bool {
    info.si_code == libc::SI_KERNEL
}

/// Elsewhere (macOS leaves `si_code` at 0) the origin is unknown: every signal is
/// forwarded.
#[cfg(not(target_os = "linux"))]
fn raised_by_kernel(_: &libc::siginfo_t) -> bool {
    false
}

fn send(pid: libc::pid_t, signal: c_int) {
    // Only ever a positive pid: 0 or -1 would signal a whole group or every process.
    if pid > 0 {
        // SAFETY: a plain system call; `pid` is our child, not yet reaped (see `State`).
        unsafe { libc::kill(pid, signal) };
    }
}

/// Waits until child `pid` has exited, leaving it to be reaped (by `Child::wait`).
pub fn wait_exited(pid: u32) -> io::Result<()> {
    let pid = libc::id_t::from(pid);
    loop {
        let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: `info` is valid for writing; WNOWAIT leaves the child waitable.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid,
                info.as_mut_ptr(),
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Makes a FIFO readable and writable by its owner only.
pub fn make_fifo(path: &Path) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: `c` is a NUL-terminated path that lives across the call.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A user account from the system's user database.
pub struct Account {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub home: OsString,
}

/// Looks a user up by name (`None`: no such user).
pub fn lookup_user(name: &str) -> io::Result<Option<Account>> {
    let c_name = CString::new(name)?;
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        let mut pwd = MaybeUninit::<libc::passwd>::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; the strings `pwd` points to live
        // in `buf`, which is not touched until they have been copied below.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                pwd.as_mut_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if found.is_null() {
            return Ok(None);
        }
        // SAFETY: on success getpwnam_r filled `pwd` and `found` points to it.
        let pwd = unsafe { pwd.assume_init() };
        let home = if pwd.pw_dir.is_null() {
            OsString::new()
        } else {
            // SAFETY: a NUL-terminated string inside `buf`, still alive.
            OsStr::from_bytes(unsafe { CStr::from_ptr(pwd.pw_dir) }.to_bytes()).to_os_string()
        };
        return Ok(Some(Account {
            name: name.to_string(),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            home,
        }));
    }
}

/// Why the process could not become another user.
pub enum SwitchError {
    /// Not root, and not already that user.
    NotRoot,
    Failed(io::Error),
}

/// Makes this process `account` for good: its supplementary groups, group and user
/// (real, effective and saved), as sops's `--user` does (with the account's own group,
/// which sops 3.11 got wrong and 3.13 fixed). Without root this only succeeds when the
/// process already is that user.
pub fn switch_user(account: &Account) -> Result<(), SwitchError> {
    // SAFETY (all four): these getters cannot fail and touch no memory.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    let (gid, egid) = unsafe { (libc::getgid(), libc::getegid()) };
    if euid != 0 {
        let already = uid == account.uid && euid == account.uid;
        let same_group = gid == account.gid && egid == account.gid;
        return if already && same_group {
            Ok(())
        } else {
            Err(SwitchError::NotRoot)
        };
    }
    let fail = |_| SwitchError::Failed(io::Error::last_os_error());
    let groups = supplementary_groups(account).map_err(SwitchError::Failed)?;
    // SAFETY: `groups` is a valid array of `groups.len()` group ids.
    check(unsafe { libc::setgroups(groups.len() as _, groups.as_ptr()) }).map_err(fail)?;
    // SAFETY: plain system calls; the group first, while we may still change it.
    check(unsafe { libc::setgid(account.gid) }).map_err(fail)?;
    check(unsafe { libc::setuid(account.uid) }).map_err(fail)?;
    // SAFETY: as above.
    let now = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    if now != (account.uid, account.uid, account.gid, account.gid) {
        return Err(SwitchError::Failed(io::Error::other(
            "the user or group did not change",
        )));
    }
    Ok(())
}

fn check(rc: c_int) -> Result<(), ()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(())
    }
}

/// The groups `account` belongs to, its own group included.
#[cfg(target_os = "linux")]
fn supplementary_groups(account: &Account) -> io::Result<Vec<libc::gid_t>> {
    let c_name = CString::new(account.name.as_str())?;
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut n = c_int::try_from(groups.len()).unwrap_or(c_int::MAX);
        // SAFETY: `groups` has room for `n` ids; getgrouplist writes at most that many
        // and sets `n` to the number it needs.
        let rc = unsafe {
            libc::getgrouplist(c_name.as_ptr(), account.gid, groups.as_mut_ptr(), &mut n)
        };
        let needed = usize::try_from(n).unwrap_or(0);
        if rc >= 0 {
            groups.truncate(needed);
            return Ok(groups);
        }
        if needed <= groups.len() || needed > 65536 {
            return Err(io::Error::other("cannot list the user's groups"));
        }
        groups.resize(needed, 0);
    }
}

/// Elsewhere only the account's own group (getgrouplist's signature varies).
#[cfg(not(target_os = "linux"))]
fn supplementary_groups(account: &Account) -> io::Result<Vec<libc::gid_t>> {
    Ok(vec![account.gid])
}
