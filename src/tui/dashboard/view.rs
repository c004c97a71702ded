//! Drawing the dashboard (and the host table the done screen shares) from
//! its state alone.

use super::Dashboard;
use super::state::{HostRow, HostStatus, LineKind, RunState};
use crate::engine::plan::Phase;
use crate::tui::theme::Theme;
use chrono::{DateTime, Local};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table, TableState};

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
    let notes = notices(&d.run.notices, area.width);
    let notes_height = u16::try_from(notes.len())
        .unwrap_or(u16::MAX)
        .min(area.height / 4);
    let [overall, notes_area, table, log] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(notes_height),
        Constraint::Length(table_height),
        Constraint::Min(3),
    ])
    .areas(area);
    overall_gauge(f, overall, &d.run, d.cancelling, theme, now);
    // The first notices, wrapped whole (the done screen keeps them all).
    let shown: Vec<Line<'_>> = notes
        .into_iter()
        .map(|l| Line::styled(l, theme.warn()))
        .collect();
    f.render_widget(Paragraph::new(shown), notes_area);
    hosts_table(f, table, &d.run, d.selected, false, theme);
    log_pane(f, log, d.run.hosts.get(d.selected), theme);
}

/// The run's notices as rows of at most `width` characters.
fn notices(notices: &[String], width: u16) -> Vec<String> {
    notices
        .iter()
        .flat_map(|n| crate::tui::wrap::wrap(n, usize::from(width)))
        .collect()
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
    // The machine running tug has steps but is not a host of the cluster.
    let hosts = || {
        run.hosts
            .iter()
            .filter(|h| h.id.as_str() != crate::engine::install::JUMP_HOST)
    };
    let done_hosts = hosts().filter(|h| h.status() == HostStatus::Done).count();
    let elapsed = match (run.started, now) {
        (Some(s), Some(n)) => format!(" · {}", clock((n - s).num_seconds().max(0) as u64)),
        _ => String::new(),
    };
    let label = format!(
        "{ended}/{all} steps · {done_hosts}/{} hosts done{elapsed}",
        hosts().count()
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
/// started was "not run". The columns fit `area`: narrow screens get short
/// phase names, a bar as wide as its column, and addresses cut at the
/// front (their ends tell hosts apart); the table scrolls with `selected`.
pub fn hosts_table(
    f: &mut Frame<'_>,
    area: Rect,
    run: &RunState,
    selected: usize,
    ended: bool,
    theme: &Theme,
) {
    let cols = Columns::fit(area.width.saturating_sub(2));
    let header = Row::new([
        "HOST", "ROLES", "PHASE", "STATUS", "PROGRESS", "SPEED", "ETA",
    ])
    .style(theme.dim());
    // Only the rows on show are made (a site may have thousands of
    // hosts): the window that ends at the selected row once it is below
    // the first screenful.
    let shown = usize::from(area.height.saturating_sub(3)).max(1);
    let first = selected.saturating_sub(shown - 1);
    let rows = run
        .hosts
        .iter()
        .skip(first)
        .take(shown)
        .map(|h| host_row(h, ended, &cols, theme));
    let table = Table::new(rows, cols.widths())
        .header(header)
        .row_highlight_style(theme.selected())
        .block(Block::bordered().title(" hosts ").border_style(theme.dim()));
    let mut state = TableState::default().with_selected(Some(selected - first));
    f.render_stateful_widget(table, area, &mut state);
}

/// The widths of the host table's columns for a table `width` cells wide.
struct Columns {
    host: u16,
    roles: u16,
    phase: u16,
    status: u16,
    progress: u16,
    speed: u16,
    eta: u16,
}

impl Columns {
    fn fit(width: u16) -> Columns {
        let wide = width >= 100;
        let mut c = if wide {
            Columns {
                host: 16,
                roles: 10,
                phase: 13,
                status: 9,
                progress: BAR as u16 + 5,
                speed: 12,
                eta: 6,
            }
        } else {
            Columns {
                host: 16,
                roles: 7,
                phase: 6,
                status: 7,
                progress: BAR as u16 + 5,
                speed: 10,
                eta: 5,
            }
        };
        // Seven columns, six gaps; the host and the bar give way first.
        let fixed = c.roles + c.phase + c.status + c.speed + c.eta + 6;
        let room = width.saturating_sub(fixed);
        c.host = c.host.min(room.saturating_sub(9)).max(8);
        c.progress = room.saturating_sub(c.host).clamp(4, BAR as u16 + 5);
        c
    }

    fn widths(&self) -> [Constraint; 7] {
        [
            self.host,
            self.roles,
            self.phase,
            self.status,
            self.progress,
            self.speed,
            self.eta,
        ]
        .map(Constraint::Length)
    }
}

/// `text` in `width` cells: whole, or its end after a `…` (the end of an
/// address is what tells hosts apart).
fn tail(text: &str, width: u16) -> String {
    let n = text.chars().count();
    let width = usize::from(width);
    if n <= width || width == 0 {
        return text.to_string();
    }
    let kept: String = text.chars().skip(n - width + 1).collect();
    format!("…{kept}")
}

/// A phase's name in `width` cells: its short form when the long one
/// does not fit.
fn phase_name(p: Phase, width: u16) -> &'static str {
    let long = p.name();
    if long.len() <= usize::from(width) {
        return long;
    }
    match p {
        Phase::Connect => "conn",
        Phase::Preflight => "pre",
        Phase::Distribute => "send",
        Phase::Render => "render",
        Phase::Registry => "reg",
        Phase::Check => "check",
        Phase::Init => "init",
        Phase::KubeadmInit => "kinit",
        Phase::JoinMasters => "join-m",
        Phase::JoinNodes => "join-n",
        Phase::Applications => "apps",
        Phase::UpgradeMasters => "up-m",
        Phase::UpgradeNodes => "up-n",
        Phase::Finish => "finish",
        Phase::Health => "health",
        Phase::Certs => "certs",
        Phase::Reset => "reset",
        Phase::Clean => "clean",
        Phase::Delete => "delete",
        Phase::Exec => "exec",
        Phase::Copy => "copy",
    }
}

fn host_row<'a>(h: &'a HostRow, ended: bool, cols: &Columns, theme: &Theme) -> Row<'a> {
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
    let phase = h.phase.map_or("-", |p| phase_name(p, cols.phase));
    let ratio = h.ratio();
    let percent = format!("{:>3}%", (ratio * 100.0).round() as u64);
    // The bar takes what the column has left beside " 100%".
    let bar = usize::from(cols.progress).saturating_sub(5).min(BAR);
    let filled = ((ratio * bar as f64).round() as usize).min(bar);
    let bar = Line::from(vec![
        Span::styled("█".repeat(filled), theme.bar()),
        Span::styled("░".repeat(bar - filled), theme.dim()),
        Span::styled(
            if bar > 0 {
                format!(" {percent}")
            } else {
                percent
            },
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
        Cell::from(tail(h.id.as_str(), cols.host)),
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
