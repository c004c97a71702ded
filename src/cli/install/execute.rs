//! Running a session from the command line: its events show as a line per
//! host on a terminal or as plain lines otherwise; Ctrl-C is its
//! cancellation (no new step starts; the binary exits 130).

use super::progress::{CANCELLING, Dashboard};
use crate::app::Cancelled;
use crate::app::session::{Outcome, Session};
use crate::cli::printer::PlainPrinter;
use crate::cli::{Context, notices};
use crate::engine::runner::{Report, RunError};
use tokio_util::sync::CancellationToken;

/// Run `session`, showing its events, and say how it ended: the report,
/// or an error that keeps its causes.
pub(in crate::cli) async fn execute(ctx: &Context, session: &Session) -> anyhow::Result<Report> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    let fancy = ctx.fancy;
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            // On a terminal the dashboard says it above its lines.
            if !fancy {
                eprintln!("{CANCELLING}");
            }
            on_ctrl_c.cancel();
        }
    });
    let printer = if fancy {
        tokio::spawn(Dashboard::stderr(&session.plan).show_all(rx, cancel.clone()))
    } else {
        tokio::spawn(async move { PlainPrinter::new(std::io::stderr()).print_all(rx).await })
    };
    let outcome = session.run(tx, cancel, notices()).await;
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
