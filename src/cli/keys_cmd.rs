//! Commands that change who can open a file: `rotate` (and `-r`), `updatekeys`,
//! `groups add` / `groups delete`; and `filestatus`. The work is in `pipeline::rotate`
//! and `pipeline::rewrap`; key layouts and diffs are in `rekey`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::args::{
    FilestatusArgs, GroupsAddArgs, GroupsDeleteArgs, RekeyArgs, RotateArgs, UpdatekeysArgs,
};
use super::{Env, Globals};
use crate::config::{self, Config};
use crate::error::{code, Error, Result};
use crate::fsutil;
use crate::keys::{parse_recipients, Identities, MasterKey};
use crate::pipeline::{self, DecryptOptions, NewKeys};
use crate::rekey::{self, KeyLayout, KeySpec, Update};
use crate::store::Format;

/// The `--rm-*` flags for each key kind: (flag, metadata kind, value).
fn rm_flags(r: &RekeyArgs) -> [(&'static str, &'static str, &Option<String>); 7] {
    [
        ("--rm-age", "age", &r.rm_age),
        ("--rm-pgp", "pgp", &r.rm_pgp),
        ("--rm-kms", "kms", &r.rm_kms),
        ("--rm-gcp-kms", "gcp_kms", &r.rm_gcp_kms),
        ("--rm-azure-kv", "azure_kv", &r.rm_azure_kv),
        ("--rm-hc-vault-transit", "hc_vault", &r.rm_hc_vault_transit),
        ("--rm-hckms", "hckms", &r.rm_hckms),
    ]
}

/// The `--add-*` flags of kinds sealant cannot wrap for.
fn unsupported_add_flags(r: &RekeyArgs) -> [(&'static str, &Option<String>); 6] {
    [
        ("--add-pgp", &r.add_pgp),
        ("--add-kms", &r.add_kms),
        ("--add-gcp-kms", &r.add_gcp_kms),
        ("--add-azure-kv", &r.add_azure_kv),
        ("--add-hc-vault-transit", &r.add_hc_vault_transit),
        ("--add-hckms", &r.add_hckms),
    ]
}

fn given(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty())
}

/// The first `--add-*`/`--rm-*` flag given, if any (they only mean something to
/// `rotate`).
pub(super) fn rekey_flag_given(r: &RekeyArgs) -> Option<&'static str> {
    if given(&r.add_age) {
        return Some("--add-age");
    }
    rm_flags(r)
        .into_iter()
        .find(|(_, _, v)| given(v))
        .map(|(f, _, _)| f)
        .or_else(|| {
            unsupported_add_flags(r)
                .into_iter()
                .find(|(_, v)| given(v))
                .map(|(f, _)| f)
        })
}

/// The keys `--rm-*` name. Removal needs no wrapping, so every kind is accepted; the
/// values are compared as text (a secret key pasted by mistake is refused, unshown).
fn keys_to_remove(r: &RekeyArgs) -> Result<Vec<KeySpec>> {
    let mut out = Vec::new();
    for (flag, kind, value) in rm_flags(r) {
        for item in value.iter().flat_map(|v| v.split(',')) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            if item.contains("AGE-SECRET-KEY-") || item.contains("AGE-PLUGIN-") {
                return Err(Error::Recipient(format!(
                    "{flag}: an age SECRET key was given; give its public key (age1…) instead"
                )));
            }
            out.push(match kind {
                "age" => KeySpec::Age(item.to_string()),
                _ => KeySpec::Other {
                    kind: kind.to_string(),
                    id: item.to_string(),
                },
            });
        }
    }
    Ok(out)
}

/// The age recipients `--add-age` names, checked.
fn keys_to_add(r: &RekeyArgs) -> Result<Vec<KeySpec>> {
    if let Some((flag, _)) = unsupported_add_flags(r).into_iter().find(|(_, v)| given(v)) {
        return Err(Error::Usage(format!(
            "{flag}: sealant wraps data keys for age recipients only; add age recipients \
             with --add-age"
        )));
    }
    let list = r.add_age.as_deref().unwrap_or("");
    Ok(parse_recipients(list)?
        .iter()
        .map(|k| KeySpec::Age(k.recipient().to_string()))
        .collect())
}

/// Error for layouts that still hold keys sealant cannot wrap for.
fn wrap_error(what: &str, e: Error, hint: &str) -> Error {
    match e {
        Error::Usage(why) => Error::Usage(format!("{what}: {why}; {hint}")),
        other => other,
    }
}

/// `sealant rotate FILE` / `sealant -r FILE`.
pub(super) fn rotate(a: &RotateArgs, env: &Env) -> Result<i32> {
    let Some(file) = a.file.as_deref() else {
        return Err(Error::NoFile("no file specified".into()));
    };
    if a.output.in_place && a.output.output.is_some() {
        return Err(Error::Conflict(
            "--in-place and --output cannot be used together".into(),
        ));
    }
    let add = keys_to_add(&a.rekey)?;
    let remove = keys_to_remove(&a.rekey)?;
    let name = super::display_name(Some(file), &a.types);
    if !fsutil::is_stdin(file) && !file.exists() && (!add.is_empty() || !remove.is_empty()) {
        return Err(Error::Input {
            file: name,
            what: "cannot add or remove keys on a file that does not exist; use `edit` (or \
                   `encrypt`) to create it"
                .into(),
            code: code::CANNOT_CHANGE_KEYS_OF_MISSING_FILE,
        });
    }
    let input = super::input_format(Some(file), &a.types)?;
    let output = super::output_format(&a.types, input)?;
    let bytes = super::read(Some(file), &a.output)?;
    let identities = super::load_identities(env);
    let opened = pipeline::open(
        &bytes,
        input,
        &name,
        &DecryptOptions {
            keys: &identities,
            ignore_mac: a.ignore_mac,
            output: input,
            extract: None,
            fast_exit: false,
        },
    )?;
    super::print_warnings(&opened.warnings);

    let mut layout = rekey::layout_of(opened.metadata());
    rekey::add_to_first_group(&mut layout, &add);
    for k in rekey::remove_keys(&mut layout, &remove) {
        eprintln!(
            "sealant: warning: {name}: {} is not one of its keys; nothing to remove",
            super::printable(&k.describe())
        );
    }
    if let Some(i) = layout.iter().position(Vec::is_empty) {
        return Err(Error::Usage(format!(
            "{name}: key group {i} would have no keys left; every group needs at least one \
             (add one with --add-age, or delete the group with `groups delete`)"
        )));
    }
    let keys = rekey::master_keys(&layout).map_err(|e| {
        wrap_error(
            &format!("cannot rotate {name}"),
            e,
            "remove them with the matching --rm-* flag (they then lose access), or rotate \
             this file with sops",
        )
    })?;
    let new = NewKeys {
        key_groups: &keys,
        shamir_threshold: opened.metadata().shamir_threshold,
    };
    let now = time::OffsetDateTime::now_utc();
    let rotated = pipeline::rotate(&opened, &new, output, &name, now)?;
    super::write(Some(file), &a.output, &rotated)?;
    if remove.iter().any(|k| {
        rekey::layout_of(opened.metadata())
            .iter()
            .flatten()
            .any(|old| old == k)
    }) {
        eprintln!("{}", history_note(1));
    }
    Ok(0)
}

fn history_note(files: usize) -> String {
    let (which, has) = if files == 1 {
        ("the file".to_string(), "has")
    } else {
        (format!("these {files} files"), "have")
    };
    format!(
        "sealant: note: recipients were removed, so {which} now {has} a new data key. Older \
         copies (git history, backups, CI caches) can still be decrypted by the removed \
         recipients: change the secrets themselves if they must no longer know them."
    )
}

/// `sealant groups add`.
pub(super) fn groups_add(a: &GroupsAddArgs, env: &Env) -> Result<i32> {
    let file = match (&a.file, &a.path) {
        (Some(f), None) | (None, Some(f)) => f.as_path(),
        (None, None) => return Err(Error::NoFile("no file specified: give --file".into())),
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "error: no positional arguments allowed with --file".into(),
            ))
        }
    };
    let u = &a.unsupported;
    for (flag, values) in [
        ("--pgp", &u.pgp),
        ("--kms", &u.kms),
        ("--gcp-kms", &u.gcp_kms),
        ("--azure-kv", &u.azure_kv),
        ("--hc-vault-transit", &u.hc_vault_transit),
        ("--hckms", &u.hckms),
    ] {
        if values.iter().any(|v| !v.is_empty()) {
            return Err(Error::Usage(format!(
                "{flag}: sealant wraps data keys for age recipients only; give the new \
                 group's recipients with --age"
            )));
        }
    }
    let mut group = Vec::new();
    for list in &a.age {
        for r in parse_recipients(list)? {
            let spec = KeySpec::Age(r.recipient().to_string());
            if !group.contains(&spec) {
                group.push(spec);
            }
        }
    }
    if group.is_empty() {
        return Err(Error::Usage(
            "groups add needs the new group's recipients: give --age (sops would add an \
             empty group nobody can open)"
                .into(),
        ));
    }
    let name = file.display().to_string();
    let format = Format::from_path(file);
    let bytes = fsutil::read_input(Some(file))?;
    let metadata = pipeline::read_metadata(&bytes, format, &name)?;
    let mut layout = rekey::layout_of(&metadata);
    layout.push(group);
    let threshold = a
        .shamir_secret_sharing_threshold
        .filter(|t| *t != 0)
        .unwrap_or(metadata.shamir_threshold);
    rewrite_groups(
        &name, file, format, &bytes, &layout, threshold, a.in_place, env,
    )
}

/// `sealant groups delete`.
pub(super) fn groups_delete(a: &GroupsDeleteArgs, env: &Env) -> Result<i32> {
    let (file, index) = match (&a.file, a.args.as_slice()) {
        (Some(f), [i]) => (f.clone(), i),
        (None, [f, i]) => (PathBuf::from(f), i),
        (None, []) => return Err(Error::NoFile("no file specified: give --file".into())),
        _ => {
            return Err(Error::Usage(
                "error: exactly one positional argument (index) required".into(),
            ))
        }
    };
    let index: usize = index.parse().map_err(|_| {
        Error::Usage(format!(
            "failed to parse [index] argument: {:?} is not a group number (0, 1, ...)",
            super::printable(index)
        ))
    })?;
    let name = file.display().to_string();
    let format = Format::from_path(&file);
    let bytes = fsutil::read_input(Some(&file))?;
    let metadata = pipeline::read_metadata(&bytes, format, &name)?;
    let mut layout = rekey::layout_of(&metadata);
    let groups = layout.len();
    if index >= groups {
        return Err(Error::Usage(format!(
            "{name} has {groups} key group{} (0 to {}): there is no group {index}",
            if groups == 1 { "" } else { "s" },
            groups.saturating_sub(1)
        )));
    }
    if groups == 1 {
        return Err(Error::Usage(format!(
            "groups delete refused: group 0 is the only key group of {name}; nobody could \
             open the file without it"
        )));
    }
    let threshold = a
        .shamir_secret_sharing_threshold
        .filter(|t| *t != 0)
        .unwrap_or(metadata.shamir_threshold);
    if groups - 1 < threshold {
        return Err(Error::Usage(format!(
            "groups delete refused: removing this key group will make the Shamir threshold \
             impossible to satisfy: Shamir threshold is {threshold}, but we only have {} key \
             groups (lower it with --shamir-secret-sharing-threshold)",
            groups - 1
        )));
    }
    layout.remove(index);
    rewrite_groups(
        &name, &file, format, &bytes, &layout, threshold, a.in_place, env,
    )
}

/// Wraps the same data key for `layout` and writes the result (in place or stdout).
#[allow(clippy::too_many_arguments)]
fn rewrite_groups(
    name: &str,
    file: &Path,
    format: Format,
    bytes: &[u8],
    layout: &KeyLayout,
    threshold: usize,
    in_place: bool,
    env: &Env,
) -> Result<i32> {
    let keys = rekey::master_keys(layout).map_err(|e| {
        wrap_error(
            &format!("cannot change the key groups of {name}"),
            e,
            "the data key is split again for every group, so every key must be one \
             sealant can wrap for; use sops for this file",
        )
    })?;
    let identities = super::load_identities(env);
    let new = NewKeys {
        key_groups: &keys,
        shamir_threshold: threshold,
    };
    let out = pipeline::rewrap(bytes, format, name, &identities, &new)?;
    if in_place {
        fsutil::write_atomic(file, &out)?;
    } else {
        super::write(None, &super::args::OutputArgs::default(), &out)?;
    }
    Ok(0)
}

/// `sealant filestatus FILE`: sops's JSON, one line. Every failure is exit 1 (as sops),
/// except no file argument (100).
pub(super) fn filestatus(a: &FilestatusArgs) -> Result<i32> {
    let Some(file) = a.files.first() else {
        return Err(Error::NoFile("Error: no file specified".into()));
    };
    let status = (|| {
        let format = match &a.input_type {
            Some(t) => Format::from_name(t).ok_or_else(|| super::unsupported_type(t))?,
            None => Format::from_path(file),
        };
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e, code::GENERIC))?;
        pipeline::file_status(&bytes, format, &file.display().to_string())
    })()
    .map_err(|e| Error::Usage(format!("cannot check file status: {e}")))?;
    let line = format!("{{\"encrypted\":{status}}}\n");
    super::write(None, &super::args::OutputArgs::default(), line.as_bytes())?;
    Ok(0)
}

// ---------------------------------------------------------------------------------
// updatekeys

/// One file `updatekeys` looks at.
struct Job {
    /// Absolute.
    path: PathBuf,
    /// As shown to the user.
    name: String,
}

/// What the first look at a file found.
enum Planned {
    UpToDate,
    /// `--all` only: no `sops` block (or not a file of its format at all).
    NotEncrypted,
    Change(Box<Update>),
    Failed(Error),
}

/// Settings shared by every file.
struct Ctx<'a> {
    config: &'a Config,
    input_type: Option<Format>,
    threshold_flag: Option<usize>,
    all: bool,
}

impl Ctx<'_> {
    fn format(&self, path: &Path) -> Format {
        self.input_type.unwrap_or_else(|| Format::from_path(path))
    }

    /// Reads a file and works out what its rule asks for.
    fn plan(&self, job: &Job) -> Planned {
        let bytes = match std::fs::read(&job.path) {
            Ok(b) => b,
            Err(e) => return Planned::Failed(Error::io(&job.name, e, code::GENERIC)),
        };
        match self.plan_bytes(job, &bytes) {
            Ok(Some(u)) if u.is_noop() => Planned::UpToDate,
            Ok(Some(u)) => Planned::Change(Box::new(u)),
            Ok(None) => Planned::NotEncrypted,
            Err(e) => Planned::Failed(e),
        }
    }

    /// `None`: skipped as not encrypted (`--all` only).
    fn plan_bytes(&self, job: &Job, bytes: &[u8]) -> Result<Option<Update>> {
        // Every encrypted file holds the word (`sops:`, `"sops"`, `sops_`, `[sops]`):
        // a cheap first filter when scanning a whole repository.
        if self.all && !bytes.windows(4).any(|w| w == b"sops") {
            return Ok(None);
        }
        let metadata = match pipeline::read_metadata(bytes, self.format(&job.path), &job.name) {
            Ok(m) => m,
            Err(Error::MetadataNotFound | Error::Parse { .. } | Error::Input { .. })
                if self.all =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let found = self.config.find_rule(&job.path);
        let Some(rule) = found.rule else {
            return Err(Error::Config {
                file: self.config.file.display().to_string(),
                at: None,
                what: format!(
                    "error loading config: no matching creation rules found for {:?}; \
                     `sealant config explain` shows the rules tried",
                    found.target
                ),
            });
        };
        let wanted = self
            .threshold_flag
            .filter(|t| *t != 0)
            .unwrap_or(rule.shamir_threshold);
        let update = Update::new(&metadata, rekey::layout_of_rule(rule), wanted);
        if !update.is_noop() {
            rekey::master_keys(&update.new).map_err(|e| {
                wrap_error(
                    &format!("{} ({})", job.name, rule.name()),
                    e,
                    "use sops updatekeys for files whose rule names such keys",
                )
            })?;
        }
        Ok(Some(update))
    }
}

/// How a file was updated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Done {
    Rewrapped,
    Rotated,
}

/// Progress on standard error, only when it is a terminal.
struct Progress {
    enabled: bool,
    total: usize,
    done: AtomicUsize,
    what: &'static str,
    lock: Mutex<()>,
}

impl Progress {
    fn new(total: usize, what: &'static str) -> Progress {
        Progress {
            enabled: total > 1 && std::io::stderr().is_terminal(),
            total,
            done: AtomicUsize::new(0),
            what,
            lock: Mutex::new(()),
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if self.enabled {
            let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[Ksealant: updatekeys: {} {done}/{}",
                self.what,
                self.total
            );
        }
    }

    /// Prints a line above the progress display.
    fn line(&self, text: &str) {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if self.enabled {
            let _ = write!(err, "\r\x1b[K");
        }
        let _ = writeln!(err, "{text}");
    }

    fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

/// Runs `work` on every item on a few threads; results come back in item order.
fn parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len())
        .max(1);
    if threads == 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, work(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Every regular file under `root` (symbolic links are not followed; `.git` is
/// skipped), sorted. Unreadable directories are reported, not fatal.
fn walk(root: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, Error)>) {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) => {
            errors.push((root.to_path_buf(), Error::io(root, e, code::GENERIC)));
            return;
        }
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if kind.is_dir() {
            walk(&path, files, errors);
        } else if kind.is_file() {
            files.push(path);
        }
    }
}

/// `sealant updatekeys FILE...` / `--all`.
pub(super) fn updatekeys(a: &UpdatekeysArgs, globals: &Globals, env: &Env) -> Result<i32> {
    if a.files.is_empty() && !a.all {
        return Err(Error::NoFile(
            "no file specified: give the files to update, or --all for every encrypted \
             file the config's creation rules match"
                .into(),
        ));
    }
    let cwd = super::working_dir(env)?;
    let (_, loaded) = super::load_config(globals, env, &cwd)?;
    let config = loaded.ok_or_else(|| {
        Error::Usage(
            "config file not found: updatekeys takes the keys from the creation rules of a \
             .sops.yaml (searched from the working directory up; or give --config)"
                .into(),
        )
    })?;
    if config.creation_rules.is_none() {
        return Err(Error::Config {
            file: config.file.display().to_string(),
            at: None,
            what: "the config file does not contain any creation rule".into(),
        });
    }
    let input_type = a
        .input_type
        .as_deref()
        .map(|t| Format::from_name(t).ok_or_else(|| super::unsupported_type(t)))
        .transpose()?;
    let ctx = Ctx {
        config: &config,
        input_type,
        threshold_flag: a.shamir_secret_sharing_threshold,
        all: a.all,
    };

    let mut failed: Vec<(String, Error)> = Vec::new();
    let jobs: Vec<Job> = if a.all {
        let root = config.dir();
        let (mut files, mut errors) = (Vec::new(), Vec::new());
        walk(&root, &mut files, &mut errors);
        files.sort();
        failed.extend(
            errors
                .into_iter()
                .map(|(p, e)| (p.display().to_string(), e)),
        );
        files
            .into_iter()
            .filter(|p| config.find_rule(p).rule.is_some())
            .map(|p| Job {
                name: config.target(&p),
                path: p,
            })
            .collect()
    } else {
        a.files
            .iter()
            .map(|f| Job {
                path: config::absolute(&cwd, f),
                name: f.display().to_string(),
            })
            .collect()
    };
    let single = !a.all && jobs.len() == 1;

    // 1. Look at every file (no decryption): what would change.
    let progress = Progress::new(jobs.len(), "checking");
    let planned = parallel(&jobs, |job| {
        let p = ctx.plan(job);
        progress.tick();
        p
    });
    progress.finish();

    let mut up_to_date = 0;
    let mut not_encrypted = 0;
    let mut changes: Vec<(&Job, Update)> = Vec::new();
    for (job, p) in jobs.iter().zip(planned) {
        match p {
            Planned::UpToDate => {
                up_to_date += 1;
                if !a.all {
                    eprintln!(
                        "sealant: {}: already up to date",
                        super::printable(&job.name)
                    );
                }
            }
            Planned::NotEncrypted => not_encrypted += 1,
            Planned::Change(u) => changes.push((job, *u)),
            Planned::Failed(e) if single => return Err(e),
            Planned::Failed(e) => failed.push((job.name.clone(), e)),
        }
    }

    // 2. Show the changes, and ask.
    {
        let mut out = std::io::stdout().lock();
        for (job, u) in &changes {
            let mut text = format!("{}:\n{}", job.name, u.render());
            if !u.removed().is_empty() {
                text.push_str(if a.no_rotate {
                    "(recipients are removed; --no-rotate: the data key stays the same)\n"
                } else {
                    "(recipients are removed: the data key will be rotated as well, every \
                     value re-encrypted; --no-rotate keeps it)\n"
                });
            }
            let _ = out.write_all(super::printable(&text).as_bytes());
        }
        let _ = out.flush();
    }
    let mut summary = Summary {
        up_to_date,
        not_encrypted,
        failed,
        ..Summary::default()
    };
    if a.dry_run || changes.is_empty() {
        summary.would_update = if a.dry_run { changes.len() } else { 0 };
        return Ok(summary.finish(single));
    }
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "{} file{} need{} the changes above, and standard input is not a terminal to \
                 confirm them: nothing was changed; run again with --yes (-y) to apply them",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" },
                if changes.len() == 1 { "s" } else { "" },
            )));
        }
        if !confirm(changes.len())? {
            eprintln!("sealant: nothing was changed");
            summary.left_unchanged = changes.len();
            return Ok(summary.finish(true));
        }
    }

    // 3. Apply: the same data key wrapped anew, or a new one when parties are removed.
    let identities = super::load_identities(env);
    let progress = Progress::new(changes.len(), "updating");
    let results = parallel(&changes, |(job, expected)| {
        let r = apply(&ctx, job, expected, &identities, a.no_rotate);
        match &r {
            Ok(Done::Rewrapped) => progress.line(&format!(
                "sealant: {}: synced with new keys",
                super::printable(&job.name)
            )),
            Ok(Done::Rotated) => progress.line(&format!(
                "sealant: {}: synced with new keys and a new data key",
                super::printable(&job.name)
            )),
            Err(_) => {}
        }
        progress.tick();
        r
    });
    progress.finish();
    for ((job, u), r) in changes.iter().zip(results) {
        match r {
            Ok(Done::Rewrapped) => {
                summary.updated += 1;
                if !u.removed().is_empty() {
                    summary.kept_key_after_removal += 1;
                }
            }
            Ok(Done::Rotated) => {
                summary.updated += 1;
                summary.rotated += 1;
            }
            Err(e) if single => return Err(e),
            Err(e) => summary.failed.push((job.name.clone(), e)),
        }
    }
    Ok(summary.finish(single))
}

/// Asks once for every change shown; `false` for no.
fn confirm(files: usize) -> Result<bool> {
    let question = if files == 1 {
        "Is this okay? (y/n):".to_string()
    } else {
        format!("Apply these changes to {files} files? (y/n):")
    };
    let stdin = std::io::stdin();
    loop {
        print!("{question}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => {
                println!();
                return Err(Error::Usage(
                    "no answer (standard input ended); nothing was changed".into(),
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(Error::io("<stdin>", e, code::COULD_NOT_READ_INPUT)),
        }
        match line.trim() {
            "y" => return Ok(true),
            "n" => return Ok(false),
            _ => {}
        }
    }
}

/// Updates one file as planned. The file is read again: if its plan is no longer what
/// was shown, it is left alone.
fn apply(
    ctx: &Ctx,
    job: &Job,
    expected: &Update,
    identities: &Identities,
    no_rotate: bool,
) -> Result<Done> {
    let bytes = std::fs::read(&job.path).map_err(|e| Error::io(&job.name, e, code::GENERIC))?;
    let update = ctx.plan_bytes(job, &bytes)?;
    let Some(update) = update.filter(|u| u.render() == expected.render()) else {
        return Err(Error::Usage(
            "the file changed after its changes were shown; it was left alone (run \
             updatekeys again)"
                .into(),
        ));
    };
    let keys: Vec<Vec<Box<dyn MasterKey>>> = rekey::master_keys(&update.new)?;
    let new = NewKeys {
        key_groups: &keys,
        shamir_threshold: update.new_threshold,
    };
    let format = ctx.format(&job.path);
    let rotate = !no_rotate && !update.removed().is_empty();
    let out = if rotate {
        let opened = pipeline::open(
            &bytes,
            format,
            &job.name,
            &DecryptOptions {
                keys: identities,
                ignore_mac: false,
                output: format,
                extract: None,
                fast_exit: false,
            },
        )?;
        pipeline::rotate(
            &opened,
            &new,
            format,
            &job.name,
            time::OffsetDateTime::now_utc(),
        )?
    } else {
        pipeline::rewrap(&bytes, format, &job.name, identities, &new)?
    };
    fsutil::write_atomic(&job.path, &out)?;
    Ok(if rotate {
        Done::Rotated
    } else {
        Done::Rewrapped
    })
}

/// What `updatekeys` did, for the closing report and the exit code.
#[derive(Default)]
struct Summary {
    updated: usize,
    rotated: usize,
    kept_key_after_removal: usize,
    up_to_date: usize,
    not_encrypted: usize,
    would_update: usize,
    left_unchanged: usize,
    failed: Vec<(String, Error)>,
}

impl Summary {
    /// Prints the report (not for a lone file, which reported as it went) and returns
    /// the exit code: 1 if any file failed.
    fn finish(self, quiet: bool) -> i32 {
        if self.rotated > 0 {
            eprintln!("{}", history_note(self.rotated));
        }
        if self.kept_key_after_removal > 0 {
            eprintln!(
                "sealant: warning: recipients were removed from {} file(s) but --no-rotate \
                 kept their data keys: a removed recipient who saved a data key can still \
                 decrypt new versions; `sealant rotate -i FILE` changes it",
                self.kept_key_after_removal
            );
        }
        if !quiet || !self.failed.is_empty() {
            let mut parts = Vec::new();
            if self.would_update > 0 {
                parts.push(format!("{} would be updated (dry run)", self.would_update));
            }
            if self.updated > 0 || parts.is_empty() {
                let mut p = format!("{} updated", self.updated);
                if self.rotated > 0 {
                    p.push_str(&format!(" ({} with a new data key)", self.rotated));
                }
                parts.push(p);
            }
            if self.left_unchanged > 0 {
                parts.push(format!("{} left unchanged", self.left_unchanged));
            }
            parts.push(format!("{} already up to date", self.up_to_date));
            if self.not_encrypted > 0 {
                parts.push(format!("{} not encrypted (skipped)", self.not_encrypted));
            }
            parts.push(format!("{} failed", self.failed.len()));
            eprintln!("sealant: updatekeys: {}", parts.join(", "));
            for (name, e) in &self.failed {
                eprintln!(
                    "sealant: failed: {}: {}",
                    super::printable(name),
                    super::printable(&e.to_string())
                );
            }
        }
        if self.failed.is_empty() {
            0
        } else {
            code::GENERIC
        }
    }
}
