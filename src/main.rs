//! The `sealant` binary: a thin shell over the library's CLI.

fn main() {
    let env = sealant::cli::Env::from_process();
    let code = sealant::cli::run(std::env::args_os().collect(), &env);
    std::process::exit(code);
}
