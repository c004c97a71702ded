//! The `tug` binary: parse the command line, hand it to a face (the wizard
//! for no command on a terminal and for the demo on one, the command line
//! for the rest), print errors plainly.

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;
use tug::app::{Cancelled, Context};
use tug::cli::{Cli, Command};

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
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
    match rt.block_on(run(cli)) {
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

/// Open the face the command line asks for.
async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Context::new(cli.settings())?;
    let terminal = ctx.fancy && std::io::stdout().is_terminal();
    let answers = cli.answers.clone();
    match cli.command {
        None if terminal && std::io::stdin().is_terminal() => {
            tug::tui::open_wizard(&ctx, answers).await
        }
        None if answers.is_some() => {
            anyhow::bail!(
                "--answers opens the wizard, which needs a terminal (tug apply -f FILE installs without one)"
            )
        }
        Some(Command::Demo(args)) if terminal => {
            tug::cli::demo::ensure_image(&ctx).await?;
            if args.wizard {
                tug::tui::demo::wizard(&ctx, args.demo()).await
            } else {
                tug::tui::demo::dashboard(&ctx, args.demo()).await
            }
        }
        command => tug::cli::run(&ctx, command).await,
    }
}

/// Output cut short by a closed pipe (`tug plan -f CF | head -1`) ends
/// the process quietly with 141 (128 + SIGPIPE), as a shell tool killed by
/// SIGPIPE does. SIGPIPE itself stays ignored: a host's connection or a
/// local command that closes early must not kill tug. Rust's printing
/// macros panic on such a write; this hook turns that one panic into the
/// quiet exit and leaves every other panic to the previous hook.
fn quiet_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        previous(info);
    }));
}

/// 130 for a cancelled run (Ctrl-C), 1 for everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.is::<Cancelled>()) {
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
