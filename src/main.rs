//! The `tug` binary: parse the command line, run it, print errors plainly.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = tug::cli::Cli::parse();
    let _log = init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(tug::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            tracing::error!("{e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 130 for a cancelled run (Ctrl-C), 1 for everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.is::<tug::cli::Cancelled>()) {
        130
    } else {
        1
    }
}

/// Log to `<state>/logs/tug.log` (the terminal belongs to the user and the
/// wizard). Level from `TUG_LOG`, default `info`. Logging is best effort: a
/// log dir that cannot be created never stops a command.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = tug::paths::Paths::from_env().log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let file = tracing_appender::rolling::never(&dir, "tug.log");
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("TUG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
