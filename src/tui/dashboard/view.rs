//! Drawing the dashboard (and the host table the done screen shares) from
//! its state alone.

use super::Dashboard;
use super::state::{HostRow, HostStatus, LineKind, RunState};
use crate::tui::theme::Theme;
use chrono::{DateTime, Local};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table};

/// Width of a row's progress bar, in cells.
const BAR: usize = 16;

/// The whole install screen.
pub fn dashboard(
    f: &mut Frame<'_>,
    area: Rect,
    d: &Dashboard,
    theme: &Theme,
    now: Option<DateTime<Local>>,
) {
    let table_height = (d.run.hosts.len() as u16 + 3).min(area.height / 2).max(4);
    let [overall, table, log] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(table_height),
        Constraint::Min(3),
    ])
    .areas(area);
    overall_gauge(f, overall, &d.run, d.cancelling, theme, now);
    hosts_table(f, table, &d.run, d.selected, false, theme);
    log_pane(f, log, d.run.hosts.get(d.selected), theme);
}

/// Overall progress: steps ended of all, hosts done, elapsed time.
fn overall_gauge(
    f: &mut Frame<'_>,
    area: Rect,
    run: &RunState,
    cancelling: bool,
    theme: &Theme,
    now: Option<DateTime<Local>>,
) {
    let (ended, all) = run.overall();
    let done_hosts = run
        .hosts
        .iter()
        .filter(|h| h.status() == HostStatus::Done)
        .count();
    let elapsed = match (run.started, now) {
        (Some(s), Some(n)) => format!(" · {}", clock((n - s).num_seconds().max(0) as u64)),
        _ => String::new(),
    };
    let label = format!(
        "{ended}/{all} steps · {done_hosts}/{} hosts done{elapsed}",
        run.hosts.len()
    );
    let ratio = if all == 0 {
        0.0
    } else {
        ended as f64 / all as f64
    };
    let [gauge, note] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    f.render_widget(
        Gauge::default()
            .ratio(ratio.min(1.0))
            .label(Span::styled(label, theme.text()))
            .gauge_style(theme.bar()),
        gauge,
    );
    if cancelling {
        f.render_widget(
            Paragraph::new("cancelling: no new step starts; running ones finish")
                .style(theme.warn()),
            note,
        );
    }
}

/// A row per host: host, roles, phase, status, progress, speed, ETA. Once
/// the run `ended`, a host between steps "stopped" and one that never
/// started was "not run".
pub fn hosts_table(
    f: &mut Frame<'_>,
    area: Rect,
    run: &RunState,
    selected: usize,
    ended: bool,
    theme: &Theme,
) {
    let header = Row::new([
        "HOST", "ROLES", "PHASE", "STATUS", "PROGRESS", "SPEED", "ETA",
    ])
    .style(theme.dim());
    let rows = run.hosts.iter().enumerate().map(|(i, h)| {
        let row = host_row(h, ended, theme);
        if i == selected {
            row.style(theme.selected())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(16),
        Constraint::Length(10),
        Constraint::Length(13),
        Constraint::Length(9),
        Constraint::Length(BAR as u16 + 5),
        Constraint::Length(12),
        Constraint::Length(6),
    ];
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title(" hosts ").border_style(theme.dim())),
        area,
    );
}

fn host_row<'a>(h: &'a HostRow, ended: bool, theme: &Theme) -> Row<'a> {
    let status = h.status();
    let (word, style) = match status {
        HostStatus::Waiting if ended => ("not run", theme.dim()),
        HostStatus::Waiting => ("waiting", theme.dim()),
        HostStatus::Running(_) => ("running", theme.warn()),
        HostStatus::Idle(_) if ended => ("stopped", theme.warn()),
        HostStatus::Idle(_) => ("…", theme.text()),
        HostStatus::Done => ("done", theme.ok()),
        HostStatus::Failed => ("FAILED", theme.error()),
    };
    let phase = h.phase.map_or("-", |p| p.name());
    let ratio = h.ratio();
    let filled = (ratio * BAR as f64).round() as usize;
    let bar = Line::from(vec![
        Span::styled("█".repeat(filled), theme.bar()),
        Span::styled("░".repeat(BAR - filled.min(BAR)), theme.dim()),
        Span::styled(
            format!(" {:>3}%", (ratio * 100.0).round() as u64),
            theme.text(),
        ),
    ]);
    let (speed, eta) = if h.sending() {
        (
            h.throughput().map_or("-".to_string(), |r| {
                format!("{}/s", bytesize::ByteSize(r as u64))
            }),
            h.eta().map_or("-".to_string(), clock),
        )
    } else {
        (String::new(), String::new())
    };
    Row::new(vec![
        Cell::from(h.id.as_str()),
        Cell::from(h.roles.as_str()).style(theme.dim()),
        Cell::from(phase),
        Cell::from(word).style(style),
        Cell::from(bar),
        Cell::from(speed),
        Cell::from(eta),
    ])
}

/// The selected host's log: its last lines, coloured by kind.
pub fn log_pane(f: &mut Frame<'_>, area: Rect, host: Option<&HostRow>, theme: &Theme) {
    let title = host.map_or(" log ".to_string(), |h| format!(" log: {} ", h.id));
    let block = Block::bordered().title(title).border_style(theme.dim());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(h) = host else { return };
    let n = inner.height as usize;
    let lines: Vec<Line<'_>> = h
        .log
        .iter()
        .skip(h.log.len().saturating_sub(n))
        .map(|l| {
            let style: Style = match l.kind {
                LineKind::Step => theme.accent(),
                LineKind::Out => theme.text(),
                LineKind::Err => theme.warn(),
                LineKind::Problem => theme.error(),
            };
            Line::styled(l.text.as_str(), style)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// `m:ss`, or `h:mm:ss` past an hour.
pub fn clock(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
        s => format!("{}:{:02}", s / 60, s % 60),
    }
}
