//! Differential checks against the real sops binary (the oracle), skipped when it is not
//! installed. Run with `cargo test --test json_oracle -- --ignored`.
//!
//! * Number and string rendering: a file of random floats and strings goes through
//!   `sops encrypt` + `sops decrypt`; sops prints every value with Go's `encoding/json`,
//!   and parsing + re-emitting that output must give it back byte for byte.
//! * Metadata insertion: an encrypted file whose data is laid out differently (compact,
//!   CRLF, 4 spaces, …) with the metadata added by `insert_metadata` must decrypt with
//!   sops to exactly what sops prints for the original.

use std::path::{Path, PathBuf};
use std::process::Command;

use sealant::store::json::{self, Indent};
use sealant::store::{apply_edits, Edit};
use sealant::tree::{Document, Item, Leaf, Node, Scalar};

/// The real sops (`$SOPS_BIN` from scripts/test.sh); these oracle tests are `#[ignore]`d.
fn sops_bin() -> String {
    std::env::var("SOPS_BIN").unwrap_or_else(|_| "sops".into())
}
const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/vectors");

fn oracle() -> bool {
    let ok = Path::new(&sops_bin()).exists() && Path::new(VECTORS).join("keys/age1.txt").exists();
    if !ok {
        eprintln!("SKIPPED: {} or the vectors are missing", sops_bin());
    }
    ok
}

fn sops(args: &[&str]) -> String {
    // Identities 1 and 2 (TEST-ONLY keys): enough for every vector, Shamir 2-of-3 too.
    let keys = scratch("keys.txt");
    let mut both = String::new();
    for n in [1, 2] {
        both +=
            &std::fs::read_to_string(Path::new(VECTORS).join(format!("keys/age{n}.txt"))).unwrap();
    }
    std::fs::write(&keys, both).unwrap();
    let out = Command::new(sops_bin())
        .args(["--config", "/dev/null"])
        .args(args)
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("SOPS_AGE_KEY_FILE", &keys)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sealant-json-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_float(rng: &mut Rng) -> f64 {
    loop {
        let f = match rng.below(4) {
            0 => f64::from_bits(rng.next()),
            1 => {
                // A short decimal times a power of ten around the format boundaries.
                let mantissa = rng.below(100_000) as f64 / 1000.0;
                let exp = [-8, -7, -6, -5, 0, 15, 19, 20, 21, 22][rng.below(10) as usize];
                mantissa * 10f64.powi(exp)
            }
            2 => (rng.next() >> rng.below(64)) as f64 * if rng.below(2) == 0 { 1.0 } else { -1.0 },
            _ => rng.below(1_000_000) as f64 / [1.0, 10.0, 100.0, 3.0, 7.0][rng.below(5) as usize],
        };
        if f.is_finite() {
            return f;
        }
    }
}

fn random_string(rng: &mut Rng) -> String {
    const POOL: &[char] = &[
        'a',
        'Z',
        ' ',
        '"',
        '\\',
        '/',
        '<',
        '>',
        '&',
        '\n',
        '\r',
        '\t',
        '\u{0}',
        '\u{1}',
        '\u{8}',
        '\u{c}',
        '\u{1f}',
        '\u{7f}',
        '\u{80}',
        'é',
        '日',
        '🚀',
        '\u{2028}',
        '\u{2029}',
        '\u{FFFD}',
        '\u{FEFF}',
        '\u{10FFFF}',
    ];
    let len = rng.below(12);
    (0..len)
        .map(|_| POOL[rng.below(POOL.len() as u64) as usize])
        .collect()
}

#[test]
#[ignore = "needs the sops binary; run with --ignored"]
fn rendering_matches_go_through_sops() {
    if !oracle() {
        return;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut items = Vec::new();
    for i in 0..3000 {
        let value = if i % 3 == 2 {
            Scalar::Str(random_string(&mut rng))
        } else {
            Scalar::Float(random_float(&mut rng))
        };
        items.push(Item::Entry {
            key: format!("k{i}{}", random_string(&mut rng)),
            value: Node::Scalar(Leaf::new(value)),
        });
    }
    let plain = json::emit(&Document { items }, None, Indent::Tab).unwrap();
    let input = scratch("render.json");
    std::fs::write(&input, &plain).unwrap();
    let recipient = std::fs::read_to_string(Path::new(VECTORS).join("keys/age1.pub")).unwrap();
    let enc = sops(&[
        "encrypt",
        "--age",
        recipient.trim(),
        input.to_str().unwrap(),
    ]);
    let enc_path = scratch("render.enc.json");
    std::fs::write(&enc_path, enc).unwrap();
    let decrypted = sops(&["decrypt", enc_path.to_str().unwrap()]);
    // sops prints every value with Go's encoding/json: our rendering must be the same.
    for (ours, go) in plain.lines().zip(decrypted.lines()) {
        assert_eq!(ours, go);
    }
    assert_eq!(plain, decrypted);
    // And its output parses and re-emits to itself.
    let parsed = json::parse(&decrypted, "sops output").unwrap();
    assert_eq!(
        json::emit(&parsed.docs[0], None, Indent::Tab).unwrap(),
        decrypted
    );
}

/// Re-lays out `text` (which has no metadata) without touching any token.
fn relayout(text: &str, style: usize) -> String {
    let doc = &json::parse(text, "t").unwrap().docs[0];
    let tab = json::emit(doc, None, Indent::Tab).unwrap();
    match style {
        0 => text.to_owned(),
        1 => json::emit(doc, None, Indent::Spaces(4)).unwrap(),
        2 => tab.replace('\n', "\r\n"),
        3 => json::emit(doc, None, Indent::Spaces(0)).unwrap(),
        4 => minify(&tab, ""),
        5 => minify(&tab, " "),
        _ => format!("  {}", tab.trim_end().replace('\n', "\n  ")),
    }
}

fn minify(text: &str, space: &str) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                in_string = true;
                out.push(c);
            }
            ':' | ',' => {
                out.push(c);
                out.push_str(space);
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
#[ignore = "needs the sops binary; run with --ignored"]
fn sops_decrypts_files_with_inserted_metadata() {
    if !oracle() {
        return;
    }
    let v = Path::new(VECTORS);
    for name in [
        "json_types.json",
        "json_empty_object.json",
        "shamir_2of3.json",
        "convert_yaml_to_json.json",
    ] {
        let enc = std::fs::read_to_string(v.join("enc").join(name)).unwrap();
        let expected = std::fs::read_to_string(v.join("expected").join(name)).unwrap();
        let parsed = json::parse(&enc, name).unwrap();
        let meta = parsed.metadata.unwrap();
        let mut edits: Vec<Edit> = meta
            .ranges
            .iter()
            .map(|r| Edit::new(r.clone(), ""))
            .collect();
        let without = apply_edits(&enc, &mut edits).unwrap();
        for style in 0..7 {
            let text = relayout(&without, style);
            let with = json::insert_metadata(&text, &meta.tree).unwrap();
            let path = scratch(&format!("{style}-{name}"));
            std::fs::write(&path, &with).unwrap();
            let decrypted = sops(&["decrypt", path.to_str().unwrap()]);
            assert_eq!(decrypted, expected, "{name} in layout {style}:\n{with}");
        }
    }
    for text in ["{}", "{ }", "{\n}\n", "\r\n{}\r\n"] {
        let enc = std::fs::read_to_string(v.join("enc/json_empty_object.json")).unwrap();
        let meta = json::parse(&enc, "e").unwrap().metadata.unwrap();
        let with = json::insert_metadata(text, &meta.tree).unwrap();
        let path = scratch("empty.json");
        std::fs::write(&path, &with).unwrap();
        assert_eq!(
            sops(&["decrypt", path.to_str().unwrap()]),
            "{}\n",
            "{with:?}"
        );
    }
}
