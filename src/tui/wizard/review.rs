//! The review screen: the Clusterfile (secrets masked) and the plan as
//! `tug plan` prints it; `s` saves the Clusterfile without installing,
//! `p` plans again without (or with) the preflight checks, as
//! `--skip-checks` does, Enter installs. A name another installed cluster
//! holds is refused before anything is planned or saved.

use super::scroll::Scroll;
use super::{Ask, Draft, Flow, Job, Keys, Page, Replied, Reply};
use crate::tui::target::Doing;
use crate::tui::theme::Theme;
use crate::tui::wrap::wrap;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// What the review shows.
#[derive(Clone, Debug, Default)]
pub struct Review {
    /// The Clusterfile, then the plan, as lines.
    pub lines: Vec<String>,
    /// The first line shown.
    pub scroll: Scroll,
    /// Where the Clusterfile was saved, or why planning failed.
    pub note: Option<String>,
    /// Whether the plan is ready to install.
    pub ready: bool,
    /// Plan without the preflight checks (`--skip-checks`).
    pub skip_checks: bool,
}

impl Review {
    /// Plan `draft` anew (as it is, or why it cannot be).
    fn plan(&mut self, draft: &Draft) -> Flow {
        let skip_checks = self.skip_checks;
        *self = Review {
            skip_checks,
            ..Review::default()
        };
        match draft.clusterfile() {
            Ok(_) if draft.name_taken().is_some() => {
                self.note = draft.name_taken();
                Flow::Stay
            }
            Ok(cf) => Flow::Job(Job::Plan(
                Box::new(cf),
                Ask {
                    opened: draft.opened.clone(),
                    skip_checks,
                },
            )),
            Err(e) => {
                self.note = Some(e);
                Flow::Stay
            }
        }
    }
}

impl Page for Review {
    fn keys(&self) -> Keys {
        &[
            ("↑/↓ PgUp/PgDn", "scroll"),
            ("s", "save the Clusterfile without installing"),
            ("Enter", "install"),
            ("Esc", "back"),
            (
                "p",
                "preflight checks: skip them (--skip-checks) or run them again",
            ),
        ]
    }

    fn scroll(&mut self, key: KeyEvent) -> bool {
        self.scroll.key(key, self.lines.len(), 20)
    }

    /// Arriving plans the Clusterfile anew.
    fn enter(&mut self, draft: &Draft) -> Flow {
        self.plan(draft)
    }

    fn handle_key(&mut self, key: KeyEvent, draft: &Draft) -> Flow {
        match key.code {
            KeyCode::Esc => Flow::Back,
            KeyCode::Char('s') => match draft.clusterfile() {
                Ok(_) if draft.name_taken().is_some() => {
                    self.note = draft.name_taken().map(|e| format!("not saved: {e}"));
                    self.ready = false;
                    Flow::Stay
                }
                Ok(cf) => Flow::Job(Job::Save(Box::new(cf), draft.opened.clone())),
                Err(e) => {
                    self.note = Some(e);
                    Flow::Stay
                }
            },
            KeyCode::Char('p') => {
                self.skip_checks = !self.skip_checks;
                self.plan(draft)
            }
            KeyCode::Enter | KeyCode::Char('i') if self.ready => Flow::Install,
            _ => Flow::Stay,
        }
    }

    fn reply(&mut self, reply: &Reply, _draft: &Draft, out: &mut Replied) {
        match reply {
            Reply::Planned(Ok(p)) => {
                self.lines = p.lines.clone();
                self.ready = true;
                let checks = if self.skip_checks {
                    "without preflight checks (p runs them)"
                } else {
                    "p skips the preflight checks"
                };
                let verb = match p.target.doing {
                    Doing::Upgrade(_) => "upgrades",
                    Doing::Remove(_) => "takes the hosts out, then applies the rest",
                    _ => "installs",
                };
                self.note = Some(format!(
                    "Enter {verb}; s saves the Clusterfile only; {checks}"
                ));
                out.target = Some(p.target.clone());
            }
            Reply::Planned(Err(e)) => {
                self.ready = false;
                self.note = Some(e.to_string());
            }
            Reply::Saved(r) => {
                self.note = Some(match r {
                    Ok(path) => format!("saved {path} (install later with tug apply -f {path})"),
                    Err(e) => format!("not saved: {e}"),
                });
            }
            _ => {}
        }
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme, _draft: &Draft) {
        let block = Block::bordered().title(" 5 review: the Clusterfile and the plan ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let mut lines: Vec<Line<'_>> = Vec::new();
        if let Some(note) = &self.note {
            let style = if self.ready {
                theme.ok()
            } else {
                theme.error()
            };
            // Wrapped: a refusal is read whole at 80 columns.
            for part in wrap(note, usize::from(inner.width)) {
                lines.push(Line::styled(part, style));
            }
        }
        if self.lines.is_empty() && self.note.is_none() {
            lines.push(Line::styled("planning…", theme.warn()));
        }
        let width = usize::from(inner.width);
        lines.extend(
            self.lines
                .iter()
                .skip(self.scroll.top)
                .flat_map(|l| rows(l, width))
                .take(inner.height as usize)
                .map(|l| Line::styled(l, theme.text())),
        );
        f.render_widget(Paragraph::new(lines), inner);
    }
}

/// One line of the review in rows of `width`: a heading (`# …`, such as
/// the upgrade's) wrapped so it reads whole at 80 columns; the
/// Clusterfile and the plan as they are (a long command is cut at the
/// edge: the host's log holds it whole).
fn rows(line: &str, width: usize) -> Vec<String> {
    if line.starts_with("# ") {
        wrap(line, width)
    } else {
        vec![line.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::rows;

    #[test]
    fn a_heading_wraps_whole_and_the_clusterfile_and_plan_lines_do_not() {
        let heading = "# Upgrade: the cluster runs Kubernetes v1.25.0 and the image is v1.26.0: \
                       this upgrades it, host by host; Enter confirms";
        let wrapped = rows(heading, 40);
        assert!(wrapped.len() > 1 && wrapped.iter().all(|r| r.chars().count() <= 40));
        assert_eq!(wrapped.join(" "), heading);
        let command = format!("  [10.0.0.1] {}", "x".repeat(60));
        assert_eq!(rows(&command, 40), vec![command]);
    }
}
