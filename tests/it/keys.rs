//! Every kind of age key sops accepts, through the binary: SSH keys, passphrase-protected
//! identities, plugins, `SOPS_AGE_KEY_CMD`, and keys sealant cannot use. Interop runs the
//! real sops in both directions.

use std::fs;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

use crate::support::*;

/// The plaintext of `enc/simple.yaml`; its `password` is the secret the error tests look
/// for.
const SECRET: &str = "hunter2";

fn test_key(name: &str) -> PathBuf {
    repo().join("testdata/keys").join(name)
}

fn text(path: impl AsRef<Path>) -> String {
    String::from_utf8(read(path)).unwrap().trim().to_string()
}

/// The directory holding the TEST-ONLY plugin, first on PATH.
fn path_with_plugin() -> String {
    let mut dirs = vec![repo().join("tests/plugin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// `sealant` run without a controlling terminal (`setsid -w`), so `/dev/tty` cannot be
/// opened, as in CI or under a pipeline runner. `None` (a notice) without `setsid`.
fn sealant_without_terminal() -> Option<Run> {
    reference_tool("setsid")
        .map(|setsid| Run::program(setsid).args(["-w", env!("CARGO_BIN_EXE_sealant")]))
}

/// Encrypts `plain/simple.yaml` with sealant for `recipient` into `dir`.
fn sealant_encrypted(dir: &Path, recipient: &str) -> PathBuf {
    let out = sealant()
        .env("PATH", path_with_plugin())
        .args(["encrypt", "--age", recipient])
        .arg(vector("plain/simple.yaml"))
        .succeeds();
    let file = dir.join("sealant.enc.yaml");
    fs::write(&file, out.stdout).unwrap();
    file
}

fn assert_no_secret(out: &Output, also: &[&str]) {
    for s in [SECRET].iter().chain(also) {
        assert!(!out.stderr.contains(s), "{s:?} printed:\n{}", out.stderr);
        assert!(!out.stdout_str().contains(s), "{s:?} printed on stdout");
    }
}

#[test]
fn sealant_decrypts_the_sops_ssh_vector() {
    let want = read(vector("expected/ssh_recipient.yaml"));
    let out = sealant()
        .arg("decrypt")
        .arg(vector("enc/ssh_recipient.yaml"))
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", vector("keys/ssh_ed25519"))
        .succeeds();
    assert_same(&out.stdout, &want, "SOPS_AGE_SSH_PRIVATE_KEY_FILE");

    // ~/.ssh/id_ed25519 is read without any variable, and id_rsa too, as in sops.
    let home = scratch();
    fs::create_dir_all(home.path().join(".ssh")).unwrap();
    fs::copy(
        vector("keys/ssh_ed25519"),
        home.path().join(".ssh/id_ed25519"),
    )
    .unwrap();
    let out = sealant()
        .arg("decrypt")
        .arg(vector("enc/ssh_recipient.yaml"))
        .env("HOME", home.path())
        .succeeds();
    assert_same(&out.stdout, &want, "~/.ssh/id_ed25519");

    // Without the key: 128, and the error lists where it looked.
    let out = sealant()
        .arg("decrypt")
        .arg(vector("enc/ssh_recipient.yaml"))
        .key(1)
        .fails_with(128);
    assert!(out.stderr.contains("ssh-ed25519 AAAA"), "{}", out.stderr);
    assert!(out.stderr.contains(".ssh/id_rsa"), "{}", out.stderr);
    assert_no_secret(&out, &[]);
}

#[test]
fn ssh_recipients_interoperate_with_sops_both_ways() {
    let Some(_) = sops() else { return };
    let plain = read(vector("plain/simple.yaml"));
    for (public, private) in [
        (vector("keys/ssh_ed25519.pub"), vector("keys/ssh_ed25519")),
        (test_key("ssh_rsa.pub"), test_key("ssh_rsa")),
    ] {
        let dir = scratch();
        let recipient = text(&public);
        // sealant encrypts, sops decrypts.
        let ours = sealant_encrypted(dir.path(), &recipient);
        assert!(text(&ours).contains(&format!("recipient: {recipient}")));
        let out = sops()
            .unwrap()
            .arg("decrypt")
            .arg(&ours)
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private)
            .succeeds();
        assert_same(&out.stdout, &plain, &format!("sops decrypts {recipient}"));
        // sops encrypts, sealant decrypts.
        let out = sops()
            .unwrap()
            .args(["encrypt", "--age", &recipient])
            .arg(vector("plain/simple.yaml"))
            .succeeds();
        let theirs = dir.path().join("sops.enc.yaml");
        fs::write(&theirs, out.stdout).unwrap();
        let out = sealant()
            .arg("decrypt")
            .arg(&theirs)
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private)
            .succeeds();
        assert_same(
            &out.stdout,
            &plain,
            &format!("sealant decrypts {recipient}"),
        );
    }
}

/// An identity file protected with a passphrase, as `age -p -a` writes it (a low work
/// factor, so the test is fast).
fn protected_identity(dir: &Path, identity: &str, passphrase: &str) -> PathBuf {
    let mut r = age::scrypt::Recipient::new(SecretString::from(passphrase));
    r.set_work_factor(10);
    let armored = age::encrypt_and_armor(&r, identity.as_bytes()).unwrap();
    let file = dir.join("keys.age");
    fs::write(&file, armored).unwrap();
    file
}

#[test]
fn a_passphrase_without_a_terminal_is_a_clear_error_not_a_hang() {
    let Some(_) = sealant_without_terminal() else {
        return;
    };
    let dir = scratch();
    let key1 = fs::read_to_string(key_file(1)).unwrap();
    let protected = protected_identity(dir.path(), &key1, "test passphrase");

    let out = sealant_without_terminal()
        .unwrap()
        .arg("decrypt")
        .arg(vector("enc/simple.yaml"))
        .env("SOPS_AGE_KEY_FILE", &protected)
        .fails_with(128);
    let err = &out.stderr;
    assert!(err.contains(&protected.display().to_string()), "{err}");
    assert!(err.contains("passphrase-protected"), "{err}");
    assert!(err.contains("a passphrase is needed"), "{err}");
    assert!(err.contains("no terminal"), "{err}");
    assert_no_secret(&out, &[key1.trim(), "test passphrase"]);

    // Another identity that works: no question at all, and the file decrypts.
    let out = sealant_without_terminal()
        .unwrap()
        .arg("decrypt")
        .arg(vector("enc/simple.yaml"))
        .env("SOPS_AGE_KEY_FILE", &protected)
        .env("SOPS_AGE_KEY", &key1)
        .succeeds();
    assert_same(&out.stdout, &read(vector("expected/simple.yaml")), "plain");

    // A passphrase-protected SSH key.
    let ours = sealant_encrypted(dir.path(), &text(test_key("ssh_ed25519_pass.pub")));
    let key = test_key("ssh_ed25519_pass");
    let out = sealant_without_terminal()
        .unwrap()
        .arg("decrypt")
        .arg(&ours)
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &key)
        .fails_with(128);
    let err = &out.stderr;
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(err.contains("a passphrase is needed"), "{err}");
    assert!(err.contains("no terminal"), "{err}");
    assert_no_secret(&out, &["sealant-test-only-passphrase"]);
}

#[test]
fn a_missing_plugin_is_named_and_other_identities_still_work() {
    let dir = scratch();
    let key1 = fs::read_to_string(key_file(1)).unwrap();
    let plugin_id = "AGE-PLUGIN-SEALANTMISSING-1QQQSYQCYQ5RQWRN38L2";
    let both = dir.path().join("keys.txt");
    fs::write(&both, format!("{plugin_id}\n{key1}")).unwrap();
    let out = sealant()
        .arg("decrypt")
        .arg(vector("enc/simple.yaml"))
        .env("SOPS_AGE_KEY_FILE", &both)
        .succeeds();
    assert_same(&out.stdout, &read(vector("expected/simple.yaml")), "plain");

    let only = dir.path().join("plugin.txt");
    fs::write(&only, plugin_id).unwrap();
    let out = sealant()
        .arg("decrypt")
        .arg(vector("enc/simple.yaml"))
        .env("SOPS_AGE_KEY_FILE", &only)
        .fails_with(128);
    assert!(
        out.stderr
            .contains("age-plugin-sealantmissing was not found on PATH"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out, &[plugin_id]);

    // Encrypting to it: the binary is named (exit 1, as sops).
    let out = sealant()
        .args(["encrypt", "--age", "age1sealantmissing1qqqsyqcyq5rqwmapaxt"])
        .arg(vector("plain/simple.yaml"))
        .fails_with(1);
    assert!(
        out.stderr.contains("age-plugin-sealantmissing") && out.stderr.contains("PATH"),
        "{}",
        out.stderr
    );
}

#[test]
fn plugins_run_for_sealant_and_interoperate_with_sops() {
    let dir = scratch();
    let recipient = text(test_key("plugin_sealanttest.pub"));
    let identity = test_key("plugin_sealanttest.txt");
    let plain = read(vector("plain/simple.yaml"));
    let ours = sealant_encrypted(dir.path(), &recipient);
    let out = sealant()
        .arg("decrypt")
        .arg(&ours)
        .env("PATH", path_with_plugin())
        .env("SOPS_AGE_KEY_FILE", &identity)
        .env("SEALANTTEST_MSG", "touch the test key")
        .succeeds();
    assert_same(&out.stdout, &plain, "sealant decrypts for its plugin");
    // Plugin messages reach the user (stderr), escaped.
    assert!(
        out.stderr
            .contains("age-plugin-sealanttest: touch the test key"),
        "{}",
        out.stderr
    );

    // The plugin asks for a PIN and there is no terminal: a clear error, exit 128.
    if let Some(run) = sealant_without_terminal() {
        let out = run
            .arg("decrypt")
            .arg(&ours)
            .env("PATH", path_with_plugin())
            .env("SOPS_AGE_KEY_FILE", &identity)
            .env("SEALANTTEST_PIN", "2468")
            .fails_with(128);
        assert!(
            out.stderr
                .contains("age-plugin-sealanttest asked for a secret (PIN or passphrase), but")
                && out.stderr.contains("no terminal"),
            "{}",
            out.stderr
        );
        assert_no_secret(&out, &["2468"]);
    }

    // A plugin recipient from a creation rule talks to the user too.
    fs::write(
        dir.path().join("rules.yaml"),
        format!("creation_rules:\n  - age: {recipient}\n"),
    )
    .unwrap();
    let out = sealant()
        .arg("--config")
        .arg(dir.path().join("rules.yaml"))
        .arg("encrypt")
        .arg(vector("plain/simple.yaml"))
        .env("PATH", path_with_plugin())
        .env("SEALANTTEST_MSG", "wrapping for a rule")
        .succeeds();
    assert!(
        out.stderr
            .contains("age-plugin-sealanttest: wrapping for a rule"),
        "{}",
        out.stderr
    );

    let Some(_) = sops() else { return };
    let out = sops()
        .unwrap()
        .arg("decrypt")
        .arg(&ours)
        .env("PATH", path_with_plugin())
        .env("SOPS_AGE_KEY_FILE", &identity)
        .succeeds();
    assert_same(&out.stdout, &plain, "sops decrypts for the plugin");
    let out = sops()
        .unwrap()
        .args(["encrypt", "--age", &recipient])
        .arg(vector("plain/simple.yaml"))
        .env("PATH", path_with_plugin())
        .succeeds();
    let theirs = dir.path().join("sops.enc.yaml");
    fs::write(&theirs, out.stdout).unwrap();
    let out = sealant()
        .arg("decrypt")
        .arg(&theirs)
        .env("PATH", path_with_plugin())
        .env("SOPS_AGE_KEY_FILE", &identity)
        .succeeds();
    assert_same(&out.stdout, &plain, "sealant decrypts sops's plugin file");
}

#[test]
fn the_key_command_runs_once_per_process() {
    let dir = scratch();
    let counter = dir.path().join("runs");
    // Three envelopes (a 2-of-3 Shamir file), two identities: sops would run the
    // command once per envelope.
    let cmd = format!(
        "sh -c 'echo run >> \"$0\"; cat \"$1\" \"$2\"' '{}' '{}' '{}'",
        counter.display(),
        key_file(3).display(),
        key_file(2).display()
    );
    let out = sealant()
        .arg("decrypt")
        .arg(vector("enc/shamir_2of3.yaml"))
        .env("SOPS_AGE_KEY_CMD", &cmd)
        .succeeds();
    assert_same(
        &out.stdout,
        &read(vector("expected/shamir_2of3.yaml")),
        "shamir",
    );
    assert_eq!(fs::read_to_string(&counter).unwrap(), "run\n");
}

#[test]
fn keys_sealant_cannot_use_are_named() {
    // The PGP + age vector, with only a wrong age identity.
    let out = sealant()
        .arg("decrypt")
        .arg(vector("static/pgp_and_age.yaml"))
        .key(2)
        .fails_with(128);
    assert!(
        out.stderr.contains("(sealant cannot use pgp keys)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("can use none"), "{}", out.stderr);

    // A file whose only recipient is post-quantum age: said plainly.
    let dir = scratch();
    let pq = "age1pq1sealanttestonlynotarealkey";
    let file = dir.path().join("pq.yaml");
    let text = fs::read_to_string(vector("enc/simple.yaml"))
        .unwrap()
        .replace(&recipient(1), pq);
    fs::write(&file, text).unwrap();
    let out = sealant().arg("decrypt").arg(&file).key(2).fails_with(128);
    let err = &out.stderr;
    assert!(
        err.contains(&format!("age {pq} (post-quantum age")),
        "{err}"
    );
    assert!(err.contains("sealant can use none of these keys"), "{err}");
    assert_no_secret(&out, &[]);
}
