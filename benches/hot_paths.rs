//! In-process hot paths (`cargo bench`): parsing, the encrypt/decrypt walks, and whole
//! files through the pipeline, on generated inputs. Whole-process timings against sops
//! are in `bench/compare.sh`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use sealant::crypto::{DataKey, ValueCipher};
use sealant::keys::{parse_recipients, MasterKey};
use sealant::pipeline::{self, EncryptOptions};
use sealant::store::{self, Format, Stage};

/// A config file of `n` services with a few secrets each, in YAML.
fn yaml_input(n: usize) -> String {
    let mut s = String::from("# generated\nservices:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  svc{i}:\n    # credentials\n    user: app{i}\n    password: \"p@ss-{i}-hunter2\"\n    port: {}\n    url: postgres://u:p@db{i}.internal:5432/app\n    enabled: true\n",
            5000 + i
        ));
    }
    s
}

fn json_input(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "\t\t\"svc{i}\": {{\"user\": \"app{i}\", \"password\": \"p@ss-{i}\", \"port\": {}, \"enabled\": true}}",
                5000 + i
            )
        })
        .collect();
    format!("{{\n\t\"services\": {{\n{}\n\t}}\n}}\n", items.join(",\n"))
}

/// The same services as flat `KEY=value` lines, grouped by blank lines and comments.
fn dotenv_input(n: usize) -> String {
    let mut s = String::from("# generated\n");
    for i in 0..n {
        s.push_str(&format!(
            "\n# svc{i} credentials\nSVC{i}_USER=app{i}\nSVC{i}_PASSWORD=p@ss-{i}-hunter2\nSVC{i}_PORT={}\nSVC{i}_URL=postgres://u:p@db{i}.internal:5432/app\nSVC{i}_ENABLED=true\n",
            5000 + i
        ));
    }
    s
}

fn recipients() -> Vec<Box<dyn MasterKey>> {
    let r = "age13yzgmlhj5hecz56ft6x2ea6tmglqr8l0hs6ykr4qtgpwt7xrffls6rrhfc";
    parse_recipients(r)
        .unwrap()
        .into_iter()
        .map(|r| Box::new(r) as Box<dyn MasterKey>)
        .collect()
}

fn bench_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for n in [10, 1000] {
        let yaml = yaml_input(n);
        g.throughput(Throughput::Bytes(yaml.len() as u64));
        g.bench_with_input(BenchmarkId::new("yaml", n), &yaml, |b, t| {
            b.iter(|| {
                store::parse(
                    Format::Yaml,
                    black_box(t.as_bytes()),
                    "b.yaml",
                    Stage::Plain,
                )
                .unwrap()
            })
        });
        let json = json_input(n);
        g.throughput(Throughput::Bytes(json.len() as u64));
        g.bench_with_input(BenchmarkId::new("json", n), &json, |b, t| {
            b.iter(|| {
                store::parse(
                    Format::Json,
                    black_box(t.as_bytes()),
                    "b.json",
                    Stage::Plain,
                )
                .unwrap()
            })
        });
        let dotenv = dotenv_input(n);
        g.throughput(Throughput::Bytes(dotenv.len() as u64));
        g.bench_with_input(BenchmarkId::new("dotenv", n), &dotenv, |b, t| {
            b.iter(|| {
                store::parse(
                    Format::Dotenv,
                    black_box(t.as_bytes()),
                    "b.env",
                    Stage::Plain,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

fn bench_value_cipher(c: &mut Criterion) {
    let cipher = ValueCipher::new(&DataKey::generate());
    let enc = cipher
        .encrypt(b"p@ss-hunter2", "str", "services:svc1:password:")
        .unwrap();
    c.bench_function("value/encrypt", |b| {
        b.iter(|| cipher.encrypt(black_box(b"p@ss-hunter2"), "str", "services:svc1:password:"))
    });
    c.bench_function("value/decrypt", |b| {
        b.iter(|| cipher.decrypt(black_box(&enc), "services:svc1:password:"))
    });
}

fn bench_encrypt_file(c: &mut Criterion) {
    let key_groups = vec![recipients()];
    let mut g = c.benchmark_group("encrypt_file");
    for (fmt, name, text) in [
        (Format::Yaml, "yaml", yaml_input(1000)),
        (Format::Json, "json", json_input(1000)),
        (Format::Dotenv, "dotenv", dotenv_input(1000)),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let opts = EncryptOptions {
                    key_groups: &key_groups,
                    shamir_threshold: 0,
                    selection: None,
                    mac_only_encrypted: false,
                    output: fmt,
                    now: time::OffsetDateTime::UNIX_EPOCH,
                    fast_exit: false,
                };
                pipeline::encrypt(black_box(text.as_bytes()), fmt, "b", &opts).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_parse, bench_value_cipher, bench_encrypt_file);
criterion_main!(benches);
