//! Running a session from the command line: its events show as a line per
//! host on a terminal or as plain lines otherwise; Ctrl-C is its
//! cancellation (no new step starts, transfers stop; the binary exits
//! 130), and a third Ctrl-C leaves at once.

use super::echo::NoControlEcho;
use super::progress::{CANCELLING, Dashboard, HURRY};
use crate::app::Cancelled;
use crate::app::session::Outcome;
use crate::app::work::Work;
use crate::cli::printer::PlainPrinter;
use crate::cli::{Context, notices};
use crate::engine::runner::{Report, RunError};
use tokio_util::sync::CancellationToken;

/// Run `work`, showing its events, and say how it ended: the report,
/// or an error that keeps its causes.
pub(in crate::cli) async fn execute(ctx: &Context, work: &Work) -> anyhow::Result<Report> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let hurry = CancellationToken::new();
    let fancy = ctx.fancy;
    let watcher = tokio::spawn(watch_ctrl_c(fancy, cancel.clone(), hurry.clone()));
    let mut notify = notices();
    let _no_echo = fancy.then(NoControlEcho::new).flatten();
    let printer = if fancy {
        let dashboard = Dashboard::stderr(&work.plan());
        notify = dashboard.notices();
        tokio::spawn(dashboard.show_all(rx, cancel.clone(), hurry))
    } else {
        let verbose = ctx.verbose;
        tokio::spawn(async move {
            PlainPrinter::new(std::io::stderr(), verbose)
                .print_all(rx)
                .await
        })
    };
    let outcome = work.run(tx, cancel, notify).await;
    watcher.abort();
    printer.await??;
    match outcome {
        Outcome::Done(report) => {
            if !fancy {
                for (host, bytes) in &report.bytes_sent {
                    if *bytes > 0 {
                        eprintln!("sent {} to {host}", bytesize::ByteSize(*bytes));
                    }
                }
            }
            Ok(report)
        }
        Outcome::Cancelled => Err(Cancelled.into()),
        Outcome::Failed(f) => Err(RunError::Failed(f).into()),
        Outcome::Error(e) => Err(e.into()),
    }
}

/// Ctrl-C once cancels (said once, above the lines on a terminal), twice
/// says that a third leaves at once, and the third exits 130 there and
/// then: the journals already hold every finished step. On a terminal,
/// SIGTERM and SIGHUP put its settings back before they end tug (with
/// 128 + the signal, as their default action would).
pub(in crate::cli) async fn watch_ctrl_c(
    fancy: bool,
    cancel: CancellationToken,
    hurry: CancellationToken,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut interrupts) = signal(SignalKind::interrupt()) else {
        return;
    };
    if fancy {
        tokio::spawn(restore_on_end_signals());
    }
    let mut pressed = 0;
    while interrupts.recv().await.is_some() {
        pressed += 1;
        match pressed {
            1 => {
                // On a terminal the dashboard says it above its lines.
                if !fancy {
                    eprintln!("{CANCELLING}");
                }
                cancel.cancel();
            }
            2 => {
                if !fancy {
                    eprintln!("{HURRY}");
                }
                hurry.cancel();
            }
            _ => {
                // On a terminal, below the host lines (the cursor is at
                // the end of the last one).
                let below = if fancy { "\n" } else { "" };
                eprintln!("{below}left at once; the next run resumes from what finished");
                super::echo::restore();
                std::process::exit(130);
            }
        }
    }
}

/// On SIGTERM or SIGHUP: the terminal's echo settings back, then exit.
async fn restore_on_end_signals() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    let code = tokio::select! {
        _ = term.recv() => 128 + 15,
        _ = hup.recv() => 128 + 1,
    };
    eprintln!("\nended by a signal; the next run resumes from what finished");
    super::echo::restore();
    std::process::exit(code);
}
